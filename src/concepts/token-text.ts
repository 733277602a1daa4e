import { z } from "zod";
import type { Concept, ObservationValue } from "../data/types.js";

/**
 * How an observation's value becomes part of its text (the seed paper's idea: "cough" / "Not cough").
 * Templates use `{name}` for the concept text and `{level}` for a level name.
 */
export const TokenTextSettings = z
  .object({
    present: z.string().default("{name}"),
    absent: z.string().default("Not {name}"),
    /** Used for a level that has no text of its own in the catalog. */
    level: z.string().default("{name}: {level}"),
    /** Missing values: no token at all (padding, the paper) or an explicit token with this template. */
    missing: z.enum(["drop", "token"]).default("drop"),
    missingTemplate: z.string().default("{name}: missing"),
  })
  .strict();
export type TokenTextSettings = z.infer<typeof TokenTextSettings>;
export const DEFAULT_TOKEN_TEXT: TokenTextSettings = TokenTextSettings.parse({});

function fill(template: string, name: string, level = ""): string {
  return template.replaceAll("{name}", name).replaceAll("{level}", level);
}

/** The text of (concept, value); null when the value produces no token (missing, dropped). */
export function tokenText(
  concept: Concept,
  value: ObservationValue,
  settings: TokenTextSettings = DEFAULT_TOKEN_TEXT,
): string | null {
  switch (value.kind) {
    case "present":
      return fill(settings.present, concept.text);
    case "absent":
      return fill(settings.absent, concept.text);
    case "level": {
      const own = concept.levelTexts?.[value.level];
      return own ?? fill(settings.level, concept.text, value.level);
    }
    case "missing":
      return settings.missing === "token" ? fill(settings.missingTemplate, concept.text) : null;
  }
}
