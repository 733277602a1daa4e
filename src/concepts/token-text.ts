import { z } from "zod";
import type { Concept, ObservationValue } from "../data/types.js";
import { own } from "../util/dict.js";

/**
 * How an observation's value becomes part of its text (the seed paper's idea: "cough" / "Not cough").
 * Templates use `{name}` for the concept text and `{level}` for a level name.
 */
export const TokenTextSettings = z
  .object({
    present: z
      .string()
      .describe("Text of a present finding; {name} is the concept's text.")
      .default("{name}"),
    absent: z
      .string()
      .describe('Text of an absent finding (the seed paper\'s "Not cough").')
      .default("Not {name}"),
    /** Used for a level that has no text of its own in the catalog. */
    level: z
      .string()
      .describe("Text of a level that has no text of its own in the catalog; {level} is the level's name.")
      .default("{name}: {level}"),
    /** Missing values: no token at all (padding, the paper) or an explicit token with this template. */
    missing: z
      .enum(["drop", "token"])
      .describe(
        "Missing values: no token at all (padding, the paper) or an explicit token (missingTemplate).",
      )
      .default("drop"),
    missingTemplate: z
      .string()
      .describe('Text of a missing value when missing is "token".')
      .default("{name}: missing"),
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
      // Own keys only: a level named "constructor" or "toString" is a level, not Object's method.
      const text = own(concept.levelTexts, value.level);
      return text ?? fill(settings.level, concept.text, value.level);
    }
    case "missing":
      return settings.missing === "token" ? fill(settings.missingTemplate, concept.text) : null;
  }
}
