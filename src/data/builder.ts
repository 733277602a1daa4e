import { InputError, type InputLocation } from "../util/errors.js";
import {
  type Concept,
  type ObservationType,
  type ObservationValue,
  observationValueKey,
  type SiteDataset,
} from "./types.js";

/** Natural order for class, group and period names: "2" < "10", "2019-20" < "2020-21". */
export const naturalCompare = new Intl.Collator("en", { numeric: true }).compare;

/**
 * Incrementally builds a SiteDataset in its typed-array layout. Every adapter and the synthetic
 * generator go through here so that interning of concepts, observation types, groups and periods is
 * done one way. Observation ids grow in a typed array (doubling), so a million encounters never
 * become a million small JS objects.
 */
export class SiteDatasetBuilder {
  readonly concepts: Concept[] = [];
  readonly observationTypes: ObservationType[] = [];
  private readonly conceptByCode = new Map<string, number>();
  private readonly typeByKey = new Map<string, number>();
  private readonly ids: string[] = [];
  private readonly idSet = new Set<string>();
  private readonly groupIndex = new Map<string, number>();
  private readonly groupNames: string[] = [];
  private groups = new Int32Array(1024);
  private readonly labelIndex = new Map<string, number>();
  private readonly labelNames: string[] = [];
  private labels = new Int32Array(1024);
  private readonly periodIndex = new Map<string, number>();
  private readonly periodNames: string[] = [];
  private periods: Int32Array | null = null;
  private times: Float64Array | null = null;
  private offsets = new Uint32Array(1025);
  private observations: Uint32Array;
  private nObs = 0;
  private count = 0;

  constructor(
    readonly name: string,
    opts: { expectedEncounters?: number; expectedObservations?: number; labelClasses?: string[] } = {},
  ) {
    const e = Math.max(16, opts.expectedEncounters ?? 1024);
    this.groups = new Int32Array(e);
    this.labels = new Int32Array(e);
    this.offsets = new Uint32Array(e + 1);
    this.observations = new Uint32Array(Math.max(64, opts.expectedObservations ?? e * 16));
    for (const c of opts.labelClasses ?? []) this.labelId(c);
  }

  get encounterCount(): number {
    return this.count;
  }

  /** Add a concept; its code must be new. Returns its index. */
  addConcept(concept: Concept, where: InputLocation = {}): number {
    if (this.conceptByCode.has(concept.code)) {
      throw new InputError(`duplicate concept code "${concept.code}"`, where);
    }
    const i = this.concepts.length;
    this.concepts.push(concept);
    this.conceptByCode.set(concept.code, i);
    return i;
  }

  conceptIndex(code: string): number | undefined {
    return this.conceptByCode.get(code);
  }

  /** The id of (concept, value), created on first use. */
  typeId(concept: number, value: ObservationValue): number {
    const key = `${concept}|${observationValueKey(value)}`;
    let id = this.typeByKey.get(key);
    if (id === undefined) {
      id = this.observationTypes.length;
      this.observationTypes.push({ concept, value });
      this.typeByKey.set(key, id);
    }
    return id;
  }

  /** Class index of a label name (created on first use; remapped to sorted order in build()). */
  labelId(label: string): number {
    let id = this.labelIndex.get(label);
    if (id === undefined) {
      id = this.labelNames.length;
      this.labelNames.push(label);
      this.labelIndex.set(label, id);
    }
    return id;
  }

  /**
   * Start a new encounter; observations added next belong to it. `label` null = unlabeled. Without a
   * group the encounter is its own group (the id string is shared, not copied).
   */
  beginEncounter(
    id: string,
    opts: { label: string | null; group?: string; period?: string; time?: number },
    where: InputLocation = {},
  ): void {
    if (this.idSet.has(id)) throw new InputError(`duplicate encounter id "${id}"`, where);
    this.idSet.add(id);
    const i = this.count;
    if (i + 1 >= this.offsets.length) this.growEncounters();
    this.ids.push(id);
    this.groups[i] = this.internGroup(opts.group ?? id);
    this.labels[i] = opts.label === null ? -1 : this.labelId(opts.label);
    if (opts.period !== undefined) {
      if (this.periods === null) this.periods = new Int32Array(this.labels.length).fill(-1);
      let p = this.periodIndex.get(opts.period);
      if (p === undefined) {
        p = this.periodNames.length;
        this.periodNames.push(opts.period);
        this.periodIndex.set(opts.period, p);
      }
      this.periods[i] = p;
    }
    if (opts.time !== undefined) {
      if (this.times === null) this.times = new Float64Array(this.labels.length).fill(Number.NaN);
      this.times[i] = opts.time;
    }
    this.count = i + 1;
    this.offsets[this.count] = this.nObs;
  }

  /** Append an observation type id to the current encounter. */
  addObservation(typeId: number): void {
    if (this.nObs >= this.observations.length) {
      const next = new Uint32Array(Math.ceil(this.observations.length * 1.5) + 64);
      next.set(this.observations);
      this.observations = next;
    }
    this.observations[this.nObs++] = typeId;
    this.offsets[this.count] = this.nObs;
  }

  private internGroup(name: string): number {
    let g = this.groupIndex.get(name);
    if (g === undefined) {
      g = this.groupNames.length;
      this.groupNames.push(name);
      this.groupIndex.set(name, g);
    }
    return g;
  }

  private growEncounters(): void {
    const cap = Math.ceil(this.labels.length * 1.5) + 16;
    const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T, fill: number): T => {
      const b = make(cap);
      b.fill(fill);
      b.set(a);
      return b;
    };
    this.groups = grow(this.groups, (n) => new Int32Array(n), 0);
    this.labels = grow(this.labels, (n) => new Int32Array(n), 0);
    if (this.periods) this.periods = grow(this.periods, (n) => new Int32Array(n), -1);
    if (this.times) this.times = grow(this.times, (n) => new Float64Array(n), Number.NaN);
    const off = new Uint32Array(cap + 1);
    off.set(this.offsets);
    this.offsets = off;
  }

  /**
   * Finish: label classes sorted (natural order) and labels remapped, periods sorted likewise, arrays
   * trimmed to their exact size.
   */
  build(provenance: SiteDataset["provenance"]): SiteDataset {
    const n = this.count;
    const classOrder = this.labelNames
      .map((_, i) => i)
      .sort((a, b) => naturalCompare(this.labelNames[a], this.labelNames[b]));
    const remap = new Int32Array(classOrder.length);
    classOrder.forEach((old, newIdx) => {
      remap[old] = newIdx;
    });
    const labels = trim(this.labels, n);
    for (let i = 0; i < n; i++) if (labels[i] >= 0) labels[i] = remap[labels[i]];
    const encounters: SiteDataset["encounters"] = {
      count: n,
      ids: this.ids,
      groups: trim(this.groups, n),
      groupNames: this.groupNames,
      offsets: trim(this.offsets, n + 1),
      observations: trim(this.observations, this.nObs),
      labels,
    };
    if (this.periods) {
      const order = this.periodNames
        .map((_, i) => i)
        .sort((a, b) => naturalCompare(this.periodNames[a], this.periodNames[b]));
      const pm = new Int32Array(order.length);
      order.forEach((old, newIdx) => {
        pm[old] = newIdx;
      });
      const periods = trim(this.periods, n);
      for (let i = 0; i < n; i++) if (periods[i] >= 0) periods[i] = pm[periods[i]];
      encounters.periods = periods;
      encounters.periodNames = order.map((i) => this.periodNames[i]);
    }
    if (this.times) encounters.times = trim(this.times, n);
    return {
      name: this.name,
      concepts: this.concepts,
      observationTypes: this.observationTypes,
      encounters,
      labelClasses: classOrder.map((i) => this.labelNames[i]),
      provenance,
    };
  }
}

/**
 * Exact-length array. A copy unless the buffer is already exact: a subarray view would keep the whole
 * over-allocated buffer alive and surprise code that reads `.buffer` (adapters that know their size
 * pass it as a hint, so the large arrays are usually exact and never copied).
 */
function trim<T extends Uint32Array | Int32Array | Float64Array>(a: T, n: number): T {
  return (a.length === n ? a : a.slice(0, n)) as T;
}
