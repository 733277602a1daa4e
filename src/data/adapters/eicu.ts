import { join } from "node:path";
import { z } from "zod";
import { InputError } from "../../util/errors.js";
import { sharedData } from "../../util/paths.js";
import { SiteDatasetBuilder } from "../builder.js";
import type { Concept, SiteDataset } from "../types.js";
import { parseSettings } from "../validate.js";
import { forEachRow } from "./table-source.js";

/**
 * The eICU Collaborative Research Database demo (../shared/data/eicu-demo), read straight from its
 * gzipped CSVs. One encounter per ICU stay (patientunitstayid); sites are regions (hospital.region)
 * or explicit hospital id lists; the label is in-hospital mortality (patient.hospitaldischargestatus:
 * Alive / Expired; stays with a blank status are dropped and counted in provenance.notes); the group
 * is the patient (uniquepid), the period the discharge year.
 *
 * Concepts (all "present" observations, once per stay) come from the configured sources:
 *   medication  drugname          code "med:<name>"   metadata.hicl  (most frequent drughiclseqno)
 *   diagnosis   diagnosisstring   code "dx:<path>"    metadata.icd9 / metadata.icd10 (from icd9code)
 *   treatment   treatmentstring   code "tx:<path>"
 *   pastHistory pasthistorypath   code "ph:<path>"
 *   admissionDx admitdxpath       code "adx:<path>"
 * The metadata are standard codes kept for scoring cross-site concept alignment later; models only
 * see the text.
 */
export const EICU_SOURCES = ["medication", "diagnosis", "treatment", "pastHistory", "admissionDx"] as const;
export type EicuSource = (typeof EICU_SOURCES)[number];

const EicuSite = z.union([
  z.object({ region: z.string().min(1), name: z.string().min(1).optional() }).strict(),
  z.object({ name: z.string().min(1), hospitalIds: z.array(z.number().int()).min(1) }).strict(),
]);
export type EicuSite = z.infer<typeof EicuSite>;

export const EicuSettings = z
  .object({
    /** Folder with the demo's .csv.gz files (default ../shared/data/eicu-demo). */
    dir: z.string().optional(),
    /** Sites: `{ region: "Midwest" }` ("unknown" = hospitals without a region) or `{ name, hospitalIds }`. */
    sites: z.array(EicuSite).min(1),
    sources: z
      .array(z.enum(EICU_SOURCES))
      .min(1)
      .default([...EICU_SOURCES]),
    /** Concept text: the whole path ("cardiovascular > shock > septic shock") or only its last part. */
    text: z.enum(["path", "leaf"]).default("path"),
    /** Leave out medication orders marked cancelled (drugordercancelled = Yes). */
    skipCancelledOrders: z.boolean().default(true),
  })
  .strict();
export type EicuSettings = z.infer<typeof EicuSettings>;
export type EicuSettingsInput = z.input<typeof EicuSettings>;

export const EICU_REGIONS = ["Midwest", "Northeast", "South", "West"] as const;

interface Stay {
  id: string;
  hospital: number;
  status: string;
  pid: string;
  year: string;
  /** Global concept ids observed in the stay (deduplicated at build time). */
  obs: number[];
}

interface GlobalConcept {
  code: string;
  text: string;
  system: string;
  /** metadata key -> value -> count; the most frequent value wins. */
  meta: Map<string, Map<string, number>>;
}

const SOURCE_SPEC: Record<
  EicuSource,
  { file: string; column: string; prefix: string; system: string; strip?: RegExp; split: string }
> = {
  medication: {
    file: "medication.csv.gz",
    column: "drugname",
    prefix: "med",
    system: "eICU.drugname",
    split: "\u0000",
  },
  diagnosis: {
    file: "diagnosis.csv.gz",
    column: "diagnosisstring",
    prefix: "dx",
    system: "eICU.diagnosisstring",
    split: "|",
  },
  treatment: {
    file: "treatment.csv.gz",
    column: "treatmentstring",
    prefix: "tx",
    system: "eICU.treatmentstring",
    split: "|",
  },
  pastHistory: {
    file: "pastHistory.csv.gz",
    column: "pasthistorypath",
    prefix: "ph",
    system: "eICU.pasthistorypath",
    strip: /^notes\/Progress Notes\/Past History\//,
    split: "/",
  },
  admissionDx: {
    file: "admissionDx.csv.gz",
    column: "admitdxpath",
    prefix: "adx",
    system: "eICU.admitdxpath",
    strip: /^admission diagnosis\|/,
    split: "|",
  },
};

/** Columns of a table by name; a missing one is an InputError naming the file and column. */
function columns(header: string[], file: string, names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) {
    const i = header.indexOf(n);
    if (i < 0)
      throw new InputError(`required column "${n}" is missing from the header`, { file, row: 1, field: n });
    out[n] = i;
  }
  return out;
}

/** Split eICU's icd9code ("401.9, I10") into ICD-9 and ICD-10 codes. */
export function splitIcdCodes(raw: string): { icd9: string[]; icd10: string[] } {
  const icd9: string[] = [];
  const icd10: string[] = [];
  for (const part of raw.split(",")) {
    const code = part.trim();
    if (code === "") continue;
    // ICD-9: numeric, E-codes E800-E999 (E + 3 digits), V-codes. ICD-10: a letter and two digits.
    if (/^\d/.test(code) || /^E\d{3}/.test(code) || /^V\d{2}/.test(code)) icd9.push(code);
    else icd10.push(code);
  }
  return { icd9, icd10 };
}

function conceptText(value: string, spec: (typeof SOURCE_SPEC)[EicuSource], mode: "path" | "leaf"): string {
  const stripped = spec.strip ? value.replace(spec.strip, "") : value;
  const parts = stripped
    .split(spec.split)
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (parts.length === 0) return value.trim();
  return mode === "leaf" ? parts[parts.length - 1] : parts.join(" > ");
}

/** Read several eICU sites, sharing one pass over the files. */
export async function readEicuSites(input: EicuSettingsInput): Promise<SiteDataset[]> {
  const s = parseSettings(EicuSettings, input, "eicu");
  const dir = s.dir ?? sharedData("eicu-demo");
  const file = (name: string): string => join(dir, name);

  const regionOf = new Map<number, string>();
  let hc: Record<string, number> = {};
  await forEachRow(
    file("hospital.csv.gz"),
    (h) => {
      hc = columns(h, file("hospital.csv.gz"), ["hospitalid", "region"]);
    },
    (f) => {
      regionOf.set(Number(f[hc.hospitalid]), f[hc.region].trim());
    },
  );

  const stays: Stay[] = [];
  const stayIndex = new Map<string, number>();
  let pc: Record<string, number> = {};
  const patientFile = file("patient.csv.gz");
  await forEachRow(
    patientFile,
    (h) => {
      pc = columns(h, patientFile, [
        "patientunitstayid",
        "hospitalid",
        "hospitaldischargestatus",
        "uniquepid",
        "hospitaldischargeyear",
      ]);
    },
    (f, row) => {
      const id = f[pc.patientunitstayid].trim();
      if (stayIndex.has(id)) {
        throw new InputError(`duplicate patientunitstayid "${id}"`, {
          file: patientFile,
          row,
          field: "patientunitstayid",
        });
      }
      const status = f[pc.hospitaldischargestatus].trim();
      if (status !== "" && status !== "Alive" && status !== "Expired") {
        throw new InputError(`unknown discharge status "${status}" (expected Alive, Expired or blank)`, {
          file: patientFile,
          row,
          field: "hospitaldischargestatus",
        });
      }
      stayIndex.set(id, stays.length);
      stays.push({
        id,
        hospital: Number(f[pc.hospitalid]),
        status,
        pid: f[pc.uniquepid].trim(),
        year: f[pc.hospitaldischargeyear].trim(),
        obs: [],
      });
    },
  );

  const concepts: GlobalConcept[] = [];
  const conceptIndex = new Map<string, number>();
  const notes: string[] = [];
  for (const source of s.sources) {
    const spec = SOURCE_SPEC[source];
    const path = file(spec.file);
    let ix: Record<string, number> = {};
    let empty = 0;
    let cancelled = 0;
    await forEachRow(
      path,
      (h) => {
        const need = ["patientunitstayid", spec.column];
        if (source === "medication") need.push("drughiclseqno", "drugordercancelled");
        if (source === "diagnosis") need.push("icd9code");
        ix = columns(h, path, need);
      },
      (f, row) => {
        const stay = stayIndex.get(f[ix.patientunitstayid].trim());
        if (stay === undefined) {
          throw new InputError(`patientunitstayid "${f[ix.patientunitstayid]}" is not in patient.csv.gz`, {
            file: path,
            row,
            field: "patientunitstayid",
          });
        }
        const value = f[ix[spec.column]].trim();
        if (value === "") {
          empty++;
          return;
        }
        if (source === "medication" && s.skipCancelledOrders && f[ix.drugordercancelled].trim() === "Yes") {
          cancelled++;
          return;
        }
        const code = `${spec.prefix}:${value}`;
        let ci = conceptIndex.get(code);
        if (ci === undefined) {
          ci = concepts.length;
          concepts.push({
            code,
            text: conceptText(value, spec, s.text),
            system: spec.system,
            meta: new Map(),
          });
          conceptIndex.set(code, ci);
        }
        const c = concepts[ci];
        if (source === "medication") count(c, "hicl", f[ix.drughiclseqno].trim());
        if (source === "diagnosis") {
          const { icd9, icd10 } = splitIcdCodes(f[ix.icd9code]);
          count(c, "icd9", icd9.join(","));
          count(c, "icd10", icd10.join(","));
        }
        stays[stay].obs.push(ci);
      },
    );
    if (empty > 0) notes.push(`${spec.file}: ${empty} rows with an empty ${spec.column} skipped`);
    if (cancelled > 0) notes.push(`${spec.file}: ${cancelled} cancelled orders skipped`);
  }

  const files = [
    file("hospital.csv.gz"),
    patientFile,
    ...s.sources.map((src) => file(SOURCE_SPEC[src].file)),
  ];
  return s.sites.map((site) => buildSite(site, stays, regionOf, concepts, files, notes));
}

/** Read one eICU site (see readEicuSites). */
export async function readEicuSite(
  input: Omit<EicuSettingsInput, "sites"> & { site: EicuSite },
): Promise<SiteDataset> {
  const { site, ...rest } = input;
  const [ds] = await readEicuSites({ ...rest, sites: [site] });
  return ds;
}

function count(c: GlobalConcept, key: string, value: string): void {
  if (value === "") return;
  let m = c.meta.get(key);
  if (!m) {
    m = new Map();
    c.meta.set(key, m);
  }
  m.set(value, (m.get(value) ?? 0) + 1);
}

function siteName(site: EicuSite): string {
  if ("hospitalIds" in site) return site.name;
  return site.name ?? `eicu-${site.region}`;
}

function buildSite(
  site: EicuSite,
  stays: Stay[],
  regionOf: Map<number, string>,
  concepts: GlobalConcept[],
  files: string[],
  sharedNotes: string[],
): SiteDataset {
  const inSite: (s: Stay) => boolean =
    "hospitalIds" in site
      ? (
          (ids) => (s) =>
            ids.has(s.hospital)
        )(new Set(site.hospitalIds))
      : (s) => (regionOf.get(s.hospital) || "unknown") === site.region;
  const members = stays.filter(inSite);
  if (members.length === 0) {
    const known = [...new Set([...regionOf.values()].map((r) => r || "unknown"))].sort().join(", ");
    throw new InputError(`no ICU stays for site ${JSON.stringify(site)} (regions: ${known})`, {
      field: "eicu.sites",
    });
  }
  const b = new SiteDatasetBuilder(siteName(site), {
    expectedEncounters: members.length,
    labelClasses: ["Alive", "Expired"],
  });
  const local = new Map<number, number>();
  let dropped = 0;
  for (const stay of members) {
    if (stay.status === "") {
      dropped++;
      continue;
    }
    b.beginEncounter(stay.id, {
      label: stay.status,
      ...(stay.pid !== "" ? { group: stay.pid } : {}),
      ...(stay.year !== "" ? { period: stay.year } : {}),
    });
    const seen = new Set<number>();
    for (const g of stay.obs) {
      if (seen.has(g)) continue;
      seen.add(g);
      let ci = local.get(g);
      if (ci === undefined) {
        ci = b.addConcept(toConcept(concepts[g]));
        local.set(g, ci);
      }
      b.addObservation(b.typeId(ci, { kind: "present" }));
    }
  }
  return b.build({
    adapter: "eicu",
    files,
    notes: [
      `${members.length} ICU stays; ${dropped} with a blank hospitaldischargestatus dropped`,
      ...sharedNotes,
    ],
  });
}

function toConcept(g: GlobalConcept): Concept {
  const metadata: Record<string, string> = {};
  for (const [key, counts] of g.meta) {
    let best = "";
    let bestN = -1;
    for (const [v, n] of counts) {
      if (n > bestN || (n === bestN && v < best)) {
        best = v;
        bestN = n;
      }
    }
    metadata[key] = best;
  }
  return {
    code: g.code,
    text: g.text,
    system: g.system,
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
}
