import { z } from "zod";

/**
 * Prototype-safe string-keyed objects. User strings (codes, values, labels, level names, class names)
 * must never be looked up in a plain `{}`: `obj["constructor"]` finds Object's constructor and
 * `obj["__proto__"] = x` sets the prototype instead of a key. Use a Map, or these: `dict()` has no
 * prototype at all (JSON.stringify still writes every key, `__proto__` included), and `own()` reads a
 * key only when the object itself holds it.
 */

/** An empty object without a prototype, optionally filled from entries. */
export function dict<T>(entries: Iterable<readonly [string, T]> = []): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const [k, v] of entries) out[k] = v;
  return out;
}

/** `obj[key]` only when `obj` itself holds `key` (never an inherited `constructor`, `toString`, ...). */
export function own<T>(obj: Readonly<Record<string, T>> | undefined | null, key: string): T | undefined {
  return obj != null && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * A zod record that keeps every key: zod's own `z.record` drops a `__proto__` key without a word,
 * so a class named `__proto__` would vanish from stored per-class metrics or counts on reading.
 * The result is a plain object whose keys are all own properties.
 */
export function dictRecord<V extends z.ZodType>(
  value: V,
): z.ZodType<Record<string, z.output<V>>, Record<string, z.input<V>>> {
  return z.unknown().transform((raw, ctx) => {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      ctx.addIssue({ code: "custom", message: "expected an object" });
      return z.NEVER;
    }
    const out: Record<string, z.output<V>> = {};
    for (const k of Object.keys(raw)) {
      const r = value.safeParse((raw as Record<string, unknown>)[k]);
      if (!r.success) {
        for (const i of r.error.issues)
          ctx.addIssue({ code: "custom", message: i.message, path: [k, ...i.path] });
        return z.NEVER;
      }
      setOwn(out, k, r.data);
    }
    return out;
  }) as unknown as z.ZodType<Record<string, z.output<V>>, Record<string, z.input<V>>>;
}

/**
 * How many of `indices` point at each of `names` (a negative index, unlabeled, is skipped), as a
 * plain object in `names` order whose keys are all own properties: `__proto__` is a count like any
 * other (Object.fromEntries defines keys, it never calls the prototype setter).
 */
export function countsByName(
  names: readonly string[],
  ...indices: ArrayLike<number>[]
): Record<string, number> {
  const n = new Array<number>(names.length).fill(0);
  for (const list of indices)
    for (let i = 0; i < list.length; i++) if (list[i] >= 0 && list[i] < names.length) n[list[i]]++;
  return Object.fromEntries(names.map((c, i) => [c, n[i]]));
}

/** Set `obj[key]` as an own property, also for `__proto__` (plain assignment would set the prototype). */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
