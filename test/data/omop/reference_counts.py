"""Independent reference numbers for the OMOP adapter tests: plain python3 csv over the extracted
Synthea27Nj_5.4 CSVs (no DuckDB, no SQL), following the semantics documented in
src/data/adapters/omop/settings.ts.

    unzip -o -q ../shared/data/omop-synthea27/Synthea27Nj_5.4.zip -x '__MACOSX/*' -d /tmp/synthea27
    python3 test/data/omop/reference_counts.py /tmp/synthea27      # both from the repository root
"""
import collections
import csv
import datetime
import sys

DAY = datetime.timedelta(days=1)
DOMAINS = [
    ("CONDITION_OCCURRENCE", "condition_concept_id", "condition_start_date"),
    ("DRUG_EXPOSURE", "drug_concept_id", "drug_exposure_start_date"),
    ("PROCEDURE_OCCURRENCE", "procedure_concept_id", "procedure_date"),
    ("MEASUREMENT", "measurement_concept_id", "measurement_date"),
    ("OBSERVATION", "observation_concept_id", "observation_date"),
]


def date(s):
    return datetime.date.fromisoformat(s)


def main(d):
    visits_all = list(csv.DictReader(open(f"{d}/VISIT_OCCURRENCE.csv")))
    deaths = {r["person_id"]: date(r["death_date"]) for r in csv.DictReader(open(f"{d}/DEATH.csv"))}
    events = collections.defaultdict(list)
    for table, concept, when in DOMAINS:
        for r in csv.DictReader(open(f"{d}/{table}.csv")):
            if r[concept] and r[concept] != "0" and r[when]:
                events[r["person_id"]].append((date(r[when]), int(r[concept])))

    def run(label, types, start, end, anchor, outcome):
        visits = [v for v in visits_all if types is None or v["visit_concept_id"] in types]
        positive, tokens, concepts, empty = 0, 0, set(), 0
        for v in visits:
            s, e = date(v["visit_start_date"]), date(v["visit_end_date"])
            hi = (s if anchor == "start" else e) + end * DAY
            feats = {c for (t, c) in events[v["person_id"]] if s + start * DAY <= t <= hi}
            tokens += len(feats)
            concepts |= feats
            empty += not feats
            if outcome[0] == "death":
                dd = deaths.get(v["person_id"])
                positive += dd is not None and s <= dd <= e + outcome[1] * DAY
            else:
                ids, days = outcome[1], outcome[2]
                positive += any(c in ids and hi < t <= e + days * DAY for (t, c) in events[v["person_id"]])
        persons = len({v["person_id"] for v in visits})
        print(f"{label}: visits {len(visits)} persons {persons} positive {positive} clinical tokens {tokens} "
              f"concepts {len(concepts)} visits without features {empty}")

    print("deaths (persons):", len(deaths))
    run("default", {"9201", "9202", "9203", "262"}, -365, 0, "start", ("death", 30))
    run("inpatient+ER, [-30, end+0], sinusitis/pharyngitis", {"9201", "9203"}, -30, 0, "end",
        ("concepts", {40481087, 4112343}, 30))
    run("all visits, death within 0 days", None, -365, 0, "start", ("death", 0))


main(sys.argv[1])
