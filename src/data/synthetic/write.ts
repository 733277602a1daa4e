import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { own } from "../../util/dict.js";
import { InputError } from "../../util/errors.js";
import { EVENT_TABLE_FILES } from "../adapters/event-table.js";
import { csvLine } from "../csv.js";
import type { SiteDataset } from "../types.js";
import type { SyntheticWorld } from "./world.js";

/** Name of the answer-key file in a written world directory. */
export const MAPPING_FILE = "mapping.json";

/**
 * Write a world in the formats the adapters read: per site `<dir>/<site>/events.csv` (encounter_id,
 * code, text, value, value_text) and `<dir>/<site>/labels.csv` (encounter_id, label, group, period),
 * plus `<dir>/mapping.json` (settings, true concept mapping, site parameters; no rows).
 *
 * Atomic as a whole: everything is written to a fresh sibling directory that is then renamed into
 * place, so a reader never sees half a world; an existing world at `dir` is replaced only when the
 * new one is complete. Output is a pure function of the world (byte-identical for the same seed).
 */
export async function writeWorld(world: SyntheticWorld, dir: string): Promise<void> {
  const target = resolve(dir);
  if (existsSync(target) && !existsSync(join(target, MAPPING_FILE))) {
    throw new InputError("exists and is not a synthetic world directory; refusing to replace it", {
      file: dir,
    });
  }
  const tmp = join(
    dirname(target),
    `.${basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  );
  await mkdir(tmp, { recursive: true });
  try {
    for (const site of world.sites) {
      await mkdir(join(tmp, site.name));
      await writeFile(join(tmp, site.name, EVENT_TABLE_FILES.events), eventsCsv(site));
      await writeFile(join(tmp, site.name, EVENT_TABLE_FILES.labels), labelsCsv(site));
    }
    const meta = {
      settings: world.settings,
      classes: world.classes,
      mapping: world.mapping,
      truth: world.truth,
    };
    await writeFile(join(tmp, MAPPING_FILE), `${JSON.stringify(meta, null, 2)}\n`);
    if (existsSync(target)) {
      const old = `${tmp}.old`;
      await rename(target, old);
      await rename(tmp, target);
      await rm(old, { recursive: true, force: true });
    } else {
      await mkdir(dirname(target), { recursive: true });
      await rename(tmp, target);
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Event table CSV of one site; missing values have no row. */
export function eventsCsv(site: SiteDataset): string {
  const parts: string[] = [csvLine(["encounter_id", "code", "text", "value", "value_text"])];
  // Pre-render each observation type's row tail once: the table has one row per observation.
  const tails = site.observationTypes.map((t) => {
    const c = site.concepts[t.concept];
    const value = t.value.kind === "level" ? t.value.level : t.value.kind;
    const valueText = t.value.kind === "level" ? (own(c.levelTexts, t.value.level) ?? "") : "";
    return csvLine([c.code, c.text, value, valueText]);
  });
  const e = site.encounters;
  for (let i = 0; i < e.count; i++) {
    const id = csvLine([e.ids[i]]).slice(0, -1);
    for (let j = e.offsets[i]; j < e.offsets[i + 1]; j++) parts.push(`${id},${tails[e.observations[j]]}`);
  }
  return parts.join("");
}

export function labelsCsv(site: SiteDataset): string {
  const e = site.encounters;
  const hasPeriod = e.periods !== undefined && e.periodNames !== undefined;
  const parts: string[] = [csvLine(["encounter_id", "label", "group", ...(hasPeriod ? ["period"] : [])])];
  for (let i = 0; i < e.count; i++) {
    const row = [e.ids[i], e.labels[i] < 0 ? "" : site.labelClasses[e.labels[i]], e.groupNames[e.groups[i]]];
    if (hasPeriod) row.push(e.periods![i] < 0 ? "" : e.periodNames![e.periods![i]]);
    parts.push(csvLine(row));
  }
  return parts.join("");
}
