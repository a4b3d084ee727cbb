/**
 * The one place that knows the directors' API keys by value, so none of them ever leaves the
 * process in an error message, a log line, a notice or an audit event — not even when a director
 * quotes the key back in an error body (some answer a 401 with the header they got).
 *
 * The key provider registers each key it hands out; `redact` replaces every registered key in a
 * text with `<redacted>`. Applied by the base error class (every message), the logger's JSON
 * replacer (every string it writes), the notifier and the audit writer.
 */

const secrets = new Set<string>();
/** Shorter values are not treated as secrets (they would redact ordinary words). */
const MIN_SECRET_LENGTH = 6;
/** What a secret is replaced with. */
export const REDACTED = '<redacted>';

/** Register a value that must never be shown (an API key as read). */
export function rememberSecret(value: string): void {
  if (value.length < MIN_SECRET_LENGTH) return;
  // Also as a director may echo it: URL-encoded, or escaped inside a JSON string.
  for (const form of [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)])
    secrets.add(form);
}

/** `text` with every registered secret replaced by {@link REDACTED}. */
export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/** A copy of a JSON-like value with every string redacted (objects and arrays walked). */
export function redactDeep<T>(value: T): T {
  if (secrets.size === 0) return value;
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), redactDeep(v)])) as T;
  }
  return value;
}

/**
 * The logger's JSON replacer: strings redacted, and a plain object whose property names hold a
 * secret (`{ "errors": { "<key>": "unknown key" } }`) rebuilt with redacted names.
 */
export function redactingReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (secrets.size > 0 && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const proto = Object.getPrototypeOf(value);
    if ((proto === Object.prototype || proto === null) && Object.keys(value).some((k) => redact(k) !== k)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), v]));
    }
  }
  return value;
}

/** Forget every registered secret (tests). */
export function forgetSecrets(): void {
  secrets.clear();
}
