import assert from "node:assert/strict";
import { test } from "node:test";
import {
  compileNegation,
  NegationSettings,
  negationFromParams,
  wordRoles,
} from "../../src/embed/negation.js";

const roles = (text: string, settings: unknown = "flip") => {
  const r = wordRoles(text.toLowerCase().split(" "), compileNegation(NegationSettings.parse(settings)));
  return r ? Array.from(r) : null;
};

test("scopes: pre-cues negate what follows up to a terminator, post-cues what precedes", () => {
  // Roles: 1 plain, -1 negated, 0 cue.
  assert.deepEqual(roles("Not shortness of breath"), [0, -1, -1, -1]);
  assert.deepEqual(roles("no fever or chills but cough"), [0, -1, -1, -1, 1, 1]);
  assert.deepEqual(roles("cough absent"), [-1, 0]);
  assert.deepEqual(roles("influenza ruled out"), [-1, 0, 0]);
  // The multi-word cue wins over its first word; a word in two scopes is negated twice, i.e. not.
  assert.deepEqual(roles("negative for influenza"), [0, 0, -1]);
  assert.deepEqual(roles("not without pain"), [0, 0, 1]);
  // No cue: null (the providers' plain path); "non" and "nonproductive" are not cues by default.
  assert.equal(roles("nonproductive cough"), null);
  assert.equal(roles("non smoker"), null);
  assert.equal(roles("cough", "none"), null);
  // Custom lists replace the defaults.
  assert.deepEqual(roles("non smoker", { cues: ["non"] }), [0, -1]);
  assert.equal(roles("not smoker", { cues: ["non"] }), null);
});

test("provider-id params: nothing for none, the mode and only non-default lists otherwise", () => {
  const p = (s: unknown) => compileNegation(NegationSettings.parse(s)).params;
  assert.deepEqual(p("none"), {});
  assert.deepEqual(p(undefined), { negation: "flip" });
  assert.deepEqual(p({ mode: "subspace", cues: ["Non", "not"], keepCues: false }), {
    negation: "subspace",
    negationCues: "non,not",
    negationKeepCues: false,
  });
  // Back from the params: the same compiled settings.
  for (const s of [
    "none",
    "flip",
    { mode: "flip", postCues: ["absent", "ruled  out"], terminators: ["but"] },
  ]) {
    const params = p(s);
    assert.deepEqual(compileNegation(negationFromParams(params)).params, params);
  }
  // An id written before negation existed has no negation param: it means none.
  assert.equal(negationFromParams({ seed: 0 }).mode, "none");
  assert.throws(() => NegationSettings.parse("sometimes"));
  assert.throws(() => NegationSettings.parse({ cues: ["--"] }), /letter or digit/);
});
