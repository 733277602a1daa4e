import { InputError } from "../../util/errors.js";
import type { TrainSettings } from "../train-settings.js";
import type { ModelArchitecture } from "../types.js";
import { DIRECT_ENGINE } from "./direct.js";
import type { EngineName, EngineProblem, EngineSpec } from "./engine.js";
import { FACTORIZED_ENGINE } from "./factorized.js";
import { LOGISTIC_ENGINE } from "./logistic.js";
import { SCREENED_ENGINE } from "./screened.js";
import { SUBSPACE_ENGINE } from "./subspace.js";

/*
 * The engine choice: every engine says whether it trains a setting exactly and what that costs
 * (multiply-adds); the choice keeps the supporting engines and takes the cheapest. Ties go to the
 * engine listed first, so the order below is part of the rule: factorized before direct (an equal
 * count favours the token-space engine), direct before subspace (an equal count keeps the
 * reference), screened last (it is priced out, Infinity, wherever the reproduction trains).
 * `settings.engine` names a concept-CNN engine; the mean-logistic baseline has one.
 */
const CNN_ENGINES: readonly EngineSpec[] = [
  FACTORIZED_ENGINE,
  DIRECT_ENGINE,
  SUBSPACE_ENGINE,
  SCREENED_ENGINE,
];

/** Every engine, by name. */
export const ENGINES: Readonly<Record<EngineName, EngineSpec>> = {
  factorized: FACTORIZED_ENGINE,
  direct: DIRECT_ENGINE,
  subspace: SUBSPACE_ENGINE,
  screened: SCREENED_ENGINE,
  logistic: LOGISTIC_ENGINE,
};

/** The names `settings.engine` accepts besides "auto". */
export const ENGINE_NAMES: readonly EngineName[] = Object.keys(ENGINES) as EngineName[];

/**
 * Pick the engine: the one `settings.engine` names (an InputError on `settings.engine` saying why
 * when it cannot train this setting exactly), else the cheapest supporting one.
 */
export function chooseEngine(
  settings: TrainSettings,
  arch: ModelArchitecture,
  problem: EngineProblem,
): EngineName {
  if (arch.kind === "mean-logistic") return LOGISTIC_ENGINE.name;
  // L2-SP needs every trained weight's decay anchored at its initial value: the direct engine (all
  // weights in the shared optimizer) and the factorized one (conv weights anchored in token space)
  // do; the others update some weights row by row or in a subspace, and are left out.
  const anchored = settings.decayTo === "initial";
  const canAnchor = (name: EngineName) => name === DIRECT_ENGINE.name || name === FACTORIZED_ENGINE.name;
  if (anchored && settings.engine !== "auto" && !canAnchor(settings.engine))
    throw new InputError(`the ${settings.engine} engine cannot decay towards the initial weights (decayTo)`, {
      field: "settings.engine",
    });
  if (settings.engine !== "auto") {
    const spec = ENGINES[settings.engine];
    const ok = spec.supports(settings, arch, problem);
    if (ok !== true) throw new InputError(`the ${spec.name} engine ${ok}`, { field: "settings.engine" });
    return spec.name;
  }
  let best: EngineSpec | null = null;
  let bestCost = Number.POSITIVE_INFINITY;
  for (const spec of CNN_ENGINES) {
    if (anchored && !canAnchor(spec.name)) continue;
    if (spec.supports(settings, arch, problem) !== true) continue;
    const c = spec.cost(settings, arch, problem);
    if (best === null || c < bestCost) {
      best = spec;
      bestCost = c;
    }
  }
  // The direct engine supports every concept-CNN setting, so `best` is never null here.
  return (best ?? DIRECT_ENGINE).name;
}
