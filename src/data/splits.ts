import { InputError } from "../util/errors.js";
import { Rng } from "../util/rng.js";

/**
 * Seeded splits of encounter indices. Every split returns index lists sorted ascending (the order of
 * training batches is the trainer's business, not the split's), so the same seed gives the same
 * parts on any machine.
 */

function checkFractions(fractions: number[]): void {
  if (fractions.length === 0) throw new InputError("no split fractions given", { field: "fractions" });
  for (const f of fractions) {
    if (!(f >= 0 && f <= 1))
      throw new InputError(`split fraction ${f} is not in [0, 1]`, { field: "fractions" });
  }
  const sum = fractions.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-9)
    throw new InputError(`split fractions sum to ${sum}, not 1`, { field: "fractions" });
}

/** Sizes of parts of n items: floor of n*fraction, leftovers to the largest remainders (ties: first). */
export function apportion(n: number, fractions: number[]): number[] {
  const raw = fractions.map((f) => n * f);
  const sizes = raw.map(Math.floor);
  let left = n - sizes.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => ({ r: r - Math.floor(r), i })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) sizes[order[k].i]++;
  return sizes;
}

function sortedParts(parts: number[][]): Uint32Array[] {
  return parts.map((p) => Uint32Array.from(p).sort());
}

/** Strata: one index list per distinct label value (unlabeled -1 is a stratum of its own), ascending label. */
function strata(labels: ArrayLike<number>, indices?: ArrayLike<number>): number[][] {
  const by = new Map<number, number[]>();
  const n = indices ? indices.length : labels.length;
  for (let k = 0; k < n; k++) {
    const i = indices ? indices[k] : k;
    const l = labels[i];
    let list = by.get(l);
    if (!list) {
      list = [];
      by.set(l, list);
    }
    list.push(i);
  }
  return [...by.keys()].sort((a, b) => a - b).map((l) => by.get(l)!);
}

/**
 * Stratified random split of all encounters into parts of the given fractions (e.g. [0.8, 0.2]):
 * each class is shuffled and cut by the fractions, so every part keeps the class mix.
 */
export function stratifiedSplit(labels: Int32Array, fractions: number[], seed: number): Uint32Array[] {
  checkFractions(fractions);
  const rng = new Rng(seed).fork("stratified-split");
  const parts: number[][] = fractions.map(() => []);
  for (const stratum of strata(labels)) {
    rng.shuffle(stratum);
    const sizes = apportion(stratum.length, fractions);
    let at = 0;
    sizes.forEach((s, p) => {
      for (let k = 0; k < s; k++) parts[p].push(stratum[at++]);
    });
  }
  return sortedParts(parts);
}

/**
 * Grouped split: every group (patient) lands in exactly one part, so no patient is in two splits.
 * Groups are visited in random order and each goes to the part whose class counts are furthest below
 * their targets (weighted by the group's own class counts), which keeps sizes and class mix close to
 * the fractions when groups are small relative to the parts.
 */
export function groupedSplit(
  groups: Int32Array,
  labels: Int32Array,
  fractions: number[],
  seed: number,
): Uint32Array[] {
  checkFractions(fractions);
  if (groups.length !== labels.length) {
    throw new InputError(`groups (${groups.length}) and labels (${labels.length}) differ in length`, {
      field: "groups",
    });
  }
  const rng = new Rng(seed).fork("grouped-split");
  const members = new Map<number, number[]>();
  for (let i = 0; i < groups.length; i++) {
    let m = members.get(groups[i]);
    if (!m) {
      m = [];
      members.set(groups[i], m);
    }
    m.push(i);
  }
  const classIds = [...new Set(labels)].sort((a, b) => a - b);
  const classPos = new Map(classIds.map((c, k) => [c, k]));
  const totals = new Array<number>(classIds.length).fill(0);
  for (const l of labels) totals[classPos.get(l)!]++;
  const target = fractions.map((f) => totals.map((t) => t * f));
  const current = fractions.map(() => new Array<number>(classIds.length).fill(0));
  const parts: number[][] = fractions.map(() => []);
  const order = [...members.keys()].sort((a, b) => a - b);
  rng.shuffle(order);
  for (const g of order) {
    const idx = members.get(g)!;
    const counts = new Array<number>(classIds.length).fill(0);
    for (const i of idx) counts[classPos.get(labels[i])!]++;
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let p = 0; p < fractions.length; p++) {
      if (fractions[p] === 0) continue;
      let score = 0;
      for (let c = 0; c < counts.length; c++) {
        if (counts[c] === 0) continue;
        score += (counts[c] * (target[p][c] - current[p][c])) / Math.max(target[p][c], 1);
      }
      if (score > bestScore) {
        bestScore = score;
        best = p;
      }
    }
    for (let c = 0; c < counts.length; c++) current[best][c] += counts[c];
    for (const i of idx) parts[best].push(i);
  }
  return sortedParts(parts);
}

/**
 * Temporal split by period (e.g. season): `test` names the held-out periods; `train` defaults to
 * every period that sorts before the earliest test period (periodNames are in time order), so
 * nothing from the future trains the model. Encounters without a period (-1) are in neither part.
 */
export function temporalSplit(
  periods: Int32Array | undefined,
  periodNames: string[] | undefined,
  opts: { test: string[]; train?: string[] },
): { train: Uint32Array; test: Uint32Array } {
  if (!periods || !periodNames) throw new InputError("the dataset has no period column", { field: "period" });
  const pos = (name: string, field: string): number => {
    const p = periodNames.indexOf(name);
    if (p < 0) {
      throw new InputError(`unknown period "${name}" (known: ${periodNames.join(", ")})`, { field });
    }
    return p;
  };
  if (opts.test.length === 0) throw new InputError("no test period given", { field: "test" });
  const testSet = new Set(opts.test.map((n) => pos(n, "test")));
  const firstTest = Math.min(...testSet);
  const trainSet = opts.train
    ? new Set(opts.train.map((n) => pos(n, "train")))
    : new Set(periodNames.map((_, p) => p).filter((p) => p < firstTest));
  for (const p of trainSet) {
    if (testSet.has(p))
      throw new InputError(`period "${periodNames[p]}" is in both train and test`, { field: "train" });
  }
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < periods.length; i++) {
    if (testSet.has(periods[i])) test.push(i);
    else if (trainSet.has(periods[i])) train.push(i);
  }
  return { train: Uint32Array.from(train), test: Uint32Array.from(test) };
}

/**
 * A stratified subsample of `size` of the given indices, for learning curves. Nested by
 * construction: with the same seed the sample of size n is contained in the sample of any larger
 * size, so a learning curve adds data rather than drawing fresh sets. Each class is shuffled and its
 * j-th member gets the position (j + u) / n_class (u one random offset per class); the sample is the
 * `size` smallest positions, which keeps every prefix within one encounter per class of the class mix.
 */
export function subsampleStratified(
  indices: Uint32Array,
  labels: Int32Array,
  size: number,
  seed: number,
): Uint32Array {
  if (!Number.isInteger(size) || size < 0)
    throw new InputError(`sample size ${size} is not a whole number >= 0`, { field: "size" });
  if (size > indices.length) {
    throw new InputError(`sample size ${size} exceeds the ${indices.length} encounters available`, {
      field: "size",
    });
  }
  const rng = new Rng(seed).fork("subsample-stratified");
  const keyed: { key: number; i: number }[] = [];
  for (const stratum of strata(labels, indices)) {
    rng.shuffle(stratum);
    const u = rng.next();
    stratum.forEach((i, j) => {
      keyed.push({ key: (j + u) / stratum.length, i });
    });
  }
  keyed.sort((a, b) => a.key - b.key || a.i - b.i);
  return Uint32Array.from(keyed.slice(0, size).map((k) => k.i)).sort();
}
