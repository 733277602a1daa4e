/**
 * The form in which two token texts count as "the same text" when matching across sites or files:
 * NFKC (full-width, ligatures, non-breaking spaces), case folded, every run of punctuation or
 * whitespace one space. "Influenza-like illness" and "influenza like  illness" are the same text.
 */
export function normalizeText(s: string): string {
  return s
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}
