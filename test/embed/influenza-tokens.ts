import { readFileSync } from "node:fs";
import type { VocabularyToken } from "../../src/concepts/vocabulary.js";
import { tokenKey } from "../../src/data/types.js";
import { sharedData } from "../../src/util/paths.js";

/**
 * Every token of influenza-dtl as common.md agrees the data adapter builds it (CUI columns present /
 * absent, C0424781 levels P/A/I/M, agegroup levels), with texts from concept_pair.txt. Built here from
 * the CSV header so the embed tests do not depend on the data adapter.
 */
export function influenzaTokens(): VocabularyToken[] {
  const catalog = new Map<string, string>();
  for (const line of readFileSync(sharedData("influenza-embeddings", "concept_pair.txt"), "utf8").split(
    /\r?\n/,
  )) {
    const c = line.indexOf(":");
    if (c > 0) catalog.set(line.slice(0, c).trim(), line.slice(c + 1).trim());
  }
  const header = readFileSync(
    sharedData("influenza-dtl", "target_test", "findings_final_0814_seed-1494714102_size10000.csv"),
    "utf8",
  )
    .split(/\r?\n/)[0]
    .split(",");
  const tokens: VocabularyToken[] = [];
  const levels: Record<string, string[]> = {
    C0424781: ["P", "A", "I", "M"],
    agegroup: ["ls5", "ge6ls65", "ge64"],
  };
  for (const col of header) {
    if (col === "diagnosis") continue;
    const lv = levels[col];
    if (lv) {
      for (const level of lv) {
        const value = { kind: "level" as const, level };
        const text = catalog.get(`${col}_${level}`);
        if (!text) throw new Error(`no catalog text for ${col}_${level}`);
        tokens.push({ key: tokenKey(col, value), code: col, value, conceptText: col, text });
      }
      continue;
    }
    const name = catalog.get(col);
    if (!name) throw new Error(`no catalog text for ${col}`);
    tokens.push({
      key: tokenKey(col, { kind: "present" }),
      code: col,
      value: { kind: "present" },
      conceptText: name,
      text: name,
    });
    tokens.push({
      key: tokenKey(col, { kind: "absent" }),
      code: col,
      value: { kind: "absent" },
      conceptText: name,
      text: `Not ${name}`,
    });
  }
  return tokens;
}

export function tok(
  code: string,
  text: string,
  value: VocabularyToken["value"] = { kind: "present" },
): VocabularyToken {
  return { key: tokenKey(code, value), code, value, conceptText: text, text };
}
