#!/usr/bin/env bash
# Acceptance check for resumable runs: run a spec uninterrupted, run it again in another folder and
# kill -9 the run mid-way, resume it, and compare the two result stores cell by cell (everything but
# timestamps, timings and the recorded code version must be identical). Usage: scripts/check-resume.sh <spec> [kill-after-cells]
set -euo pipefail
spec="$1"
kill_after="${2:-40}"
work="$(mktemp -d /tmp/conceptbridge-resume.XXXXXX)"
cli=(npx tsx src/cli/main.ts run "$spec" --no-report --quiet)

start=$(date +%s)
"${cli[@]}" --out "$work/uninterrupted"
echo "uninterrupted run: $(( $(date +%s) - start )) s"

setsid "${cli[@]}" --out "$work/resumed" &
pid=$!
until [[ -f "$work/resumed/results.jsonl" ]] && (( $(wc -l < "$work/resumed/results.jsonl") >= kill_after )); do sleep 1; done
kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid"
wait "$pid" 2>/dev/null || true
before=$(wc -l < "$work/resumed/results.jsonl")
echo "killed with -9 after $before finished cells"
"${cli[@]}" --out "$work/resumed"

node -e '
const fs = require("fs");
const load = (p) => new Map(fs.readFileSync(p, "utf8").trim().split("\n").map((l) => JSON.parse(l))
  .map(({ finishedAt, trainSeconds, codeVersion, ...r }) => [r.key.id, JSON.stringify(r)]));
const a = load(process.argv[1]), b = load(process.argv[2]);
const lines = fs.readFileSync(process.argv[2], "utf8").trim().split("\n").length;
let same = 0;
for (const [id, r] of a) if (b.get(id) === r) same++;
console.log(`cells: uninterrupted ${a.size}, resumed ${b.size} (${lines} lines: no cell recomputed = ${lines === b.size}), identical ${same}`);
process.exit(same === a.size && a.size === b.size && lines === b.size ? 0 : 1);
' "$work/uninterrupted/results.jsonl" "$work/resumed/results.jsonl"
