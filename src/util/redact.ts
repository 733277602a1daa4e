/**
 * Secrets never leave the process: not in an error message, a provider id, a cache file, a model
 * file, a bundle or provenance. A URL can carry them in its user-info (`https://user:pass@host`) and
 * its query string (`?key=sk-...`), so every URL that is shown or stored goes through `redactUrl`:
 * user-info and every query value become `[redacted]` (the parameter names stay, so a reader still
 * sees what was set). Only the request itself uses the URL as given.
 */
export const REDACTED = "[redacted]";

/** A URL with its user-info and query values (and fragment) replaced; non-URLs come back unchanged. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (!u.host) return url;
  // Nothing secret-bearing: the URL exactly as given (ids built from it stay what they were).
  if (u.username === "" && u.password === "" && u.search === "" && u.hash === "") return url;
  const userInfo = u.username !== "" || u.password !== "" ? `${REDACTED}@` : "";
  const query =
    u.search === ""
      ? ""
      : `?${[...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=${REDACTED}`).join("&")}`;
  const fragment = u.hash === "" ? "" : `#${REDACTED}`;
  return `${u.protocol}//${userInfo}${u.host}${u.pathname}${query}${fragment}`;
}

/** The secret-bearing pieces of a URL (user name, password, query values), raw and decoded. */
export function urlSecrets(url: string): string[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [];
  }
  const out = new Set<string>();
  const add = (s: string) => {
    if (s.length < 4) return;
    out.add(s);
    try {
      out.add(decodeURIComponent(s));
    } catch {
      // not percent-encoded: the raw form is enough
    }
    out.add(encodeURIComponent(s));
  };
  add(u.username);
  add(u.password);
  for (const [, v] of u.searchParams) add(v);
  for (const raw of u.search.slice(1).split("&")) add(raw.slice(raw.indexOf("=") + 1));
  if (u.hash.length > 1) add(u.hash.slice(1));
  return [...out].sort((a, b) => b.length - a.length);
}

/** `text` with each secret (longest first) replaced by [redacted]. */
export function redactSecretsIn(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length))
    if (s.length >= 4) out = out.split(s).join(REDACTED);
  return out;
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/** Every URL inside free text redacted (error messages, provider ids, anything printed or stored). */
export function redactUrlsIn(text: string): string {
  return text.replace(URL_IN_TEXT, (m) => {
    // A URL at the end of a sentence keeps its trailing punctuation outside the redaction.
    const trail = /[.,;:)\]]+$/.exec(m)?.[0] ?? "";
    const body = trail ? m.slice(0, -trail.length) : m;
    return redactUrl(body) + trail;
  });
}

/** A JSON-like value with every string's URLs redacted (provenance, specs written beside results). */
export function redactUrlsDeep<T>(value: T): T {
  if (typeof value === "string") return redactUrlsIn(value) as T;
  if (Array.isArray(value)) return value.map(redactUrlsDeep) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: redactUrlsDeep(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out as T;
  }
  return value;
}
