import type { AlignmentScore } from "./alignment-scoring.js";

/**
 * Several alignment methods scored on the same pair of vocabularies and answer key: the data behind
 * the report's alignment section (the report renders it; nothing here knows about presentation).
 */
export interface AlignmentMethodResult {
  /** Short name, e.g. "exact", "onehot", "hashing", "cooccurrence+procrustes". */
  method: string;
  /** One sentence on how candidates were found (what was fitted where). */
  description: string;
  /** providerId of the embedding, when one was used. */
  providerId?: string;
  score: AlignmentScore;
  /** Target tokens whose best candidate reached the threshold. */
  coverage: { threshold: number; aboveThreshold: number; share: number };
}

export interface AlignmentComparison {
  source: string;
  target: string;
  /** Which tokens were aligned, e.g. "medication (system eICU.drugname)". */
  tokens: string;
  /** Answer key name, e.g. "hicl". */
  answerKey: string;
  sourceTokens: number;
  targetTokens: number;
  k: number;
  methods: AlignmentMethodResult[];
  notes: string[];
}
