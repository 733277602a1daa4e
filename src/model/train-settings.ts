import { z } from "zod";

/**
 * How a model is trained. The defaults are the paper's (Gao et al., arXiv 2409.13893): SGD with lr 1e-3,
 * momentum 0.9, Nesterov, weight decay 1e-3, batch 32, 50 epochs x 100 iterations, frozen embeddings,
 * keep the weights with the best validation AUROC. This schema is the ONE place those defaults live.
 */
export const FreezeSettings = z
  .object({
    /** Token embedding matrix (the paper keeps the language-model embeddings fixed). */
    embedding: z.boolean().default(true),
    /** Convolution weights and biases. */
    conv: z.boolean().default(false),
    /** Dense (output) layer. */
    dense: z.boolean().default(false),
  })
  .strict();

export const TrainSettings = z
  .object({
    optimizer: z.enum(["sgd", "adam"]).default("sgd"),
    lr: z.number().positive().default(1e-3),
    /** SGD momentum (torch.optim.SGD semantics: buffer starts at the first gradient, no dampening). */
    momentum: z.number().min(0).lt(1).default(0.9),
    nesterov: z.boolean().default(true),
    /** L2 penalty added to the gradient of every trained parameter, biases included (as torch does). */
    weightDecay: z.number().min(0).default(1e-3),
    adamBeta1: z.number().min(0).lt(1).default(0.9),
    adamBeta2: z.number().min(0).lt(1).default(0.999),
    adamEps: z.number().positive().default(1e-8),
    batchSize: z.number().int().positive().default(32),
    epochs: z.number().int().positive().default(50),
    itersPerEpoch: z.number().int().positive().default(100),
    freeze: FreezeSettings.default({ embedding: true, conv: false, dense: false }),
    /** "none", "balanced" (n / (C * n_c) from the training labels) or one weight per class. */
    classWeights: z.union([z.enum(["none", "balanced"]), z.array(z.number().positive())]).default("none"),
    /** Stop after this many epochs without a better validation AUROC; null = never. */
    earlyStoppingPatience: z.number().int().positive().nullable().default(null),
    seed: z.number().int().default(0),
    /** Fraction of the training data callers hold out for validation (the paper: 20%). */
    validationFraction: z.number().gt(0).lt(1).default(0.2),
    /**
     * "factorized" trains in token space (exact, needs frozen embeddings and SGD for the conv weights);
     * "direct" in embedding space (the reference; any setting); "subspace" is the direct engine in the
     * span of the initial token vectors and filters (exact for a trained embedding with SGD);
     * "auto" picks the fastest valid one.
     */
    engine: z.enum(["auto", "direct", "factorized", "subspace"]).default("auto"),
  })
  .strict();

export type TrainSettings = z.infer<typeof TrainSettings>;
export type TrainSettingsInput = z.input<typeof TrainSettings>;

/** The paper's settings. */
export const PAPER_SETTINGS: TrainSettings = TrainSettings.parse({});

/** Fine-tuning a transferred model on target data: the paper's fine-tuning learning rate (1e-2). */
export const FINETUNE_SETTINGS: TrainSettings = TrainSettings.parse({ lr: 1e-2 });

/**
 * The logistic baseline: a convex model, so it is fitted to (near) convergence rather than with the
 * CNN's slow paper schedule, which leaves it under-trained and would flatter the CNN. Adam at lr 0.05;
 * the best validation AUROC still picks the epoch.
 */
export const BASELINE_SETTINGS: TrainSettings = TrainSettings.parse({
  optimizer: "adam",
  lr: 0.05,
  weightDecay: 0,
});

/** Parse user settings (defaults filled in); throws zod errors, which callers turn into InputError. */
export function trainSettings(input: TrainSettingsInput = {}): TrainSettings {
  return TrainSettings.parse(input);
}

/** Named presets (for specs and the CLI): "paper" and "finetune". */
export const TRAIN_PRESETS: Record<"paper" | "finetune", TrainSettings> = {
  paper: PAPER_SETTINGS,
  finetune: FINETUNE_SETTINGS,
};
