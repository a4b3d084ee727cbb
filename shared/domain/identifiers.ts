/**
 * The one statement of what an identifier (tenant id, HA_NAME, CPE id) and an operator's free
 * text (a reason, `by`) may be. Checked once where the value enters: the director's listing
 * (inventory), the console events, the DR inputs, the configuration.
 *
 * Why these bounds: identifiers become DynamoDB keys (`<tenant>#<haName>`, `BRANCH#…`), path
 * segments of director calls and parts of log lines and e-mail subjects. `#` would make two group
 * keys equal (`t` + `x#G` and `t#x` + `G`), `/`, `\`, `.` and `..` change a URL's path, control
 * characters forge log lines, and 128 characters keep every composed key far below DynamoDB's
 * 1,024-byte sort-key limit even in 4-byte UTF-8. Free text is one line of at most 500
 * characters: it reaches notice subjects, and a stored pin reason must never push the group's
 * item past DynamoDB's 400 KB.
 *
 * Pure: no I/O.
 */
import { ValidationError, formatValue } from '../errors.js';

/** Most characters of a tenant id, HA_NAME or CPE id. */
export const IDENTIFIER_MAX_CHARS = 128;
/** Most characters of a reason or `by`. */
export const FREE_TEXT_MAX_CHARS = 500;

/** What an identifier must be, as an error's "expected". */
export const IDENTIFIER_EXPECTED = `1 to ${IDENTIFIER_MAX_CHARS} characters without #, /, \\, control characters or surrounding spaces, and not "." or ".."`;
/** What free text must be, as an error's "expected". */
export const FREE_TEXT_EXPECTED = `at most ${FREE_TEXT_MAX_CHARS} characters on one line (no CR, LF or other control characters)`;

// Control characters (C0, DEL, C1), the line and paragraph separators, and the bidi controls
// that make a log line read differently from what it holds. Other format characters (the
// zero-width joiners of Persian or emoji names, soft hyphens) are ordinary text.
const INVISIBLE = '\\p{Cc}\\p{Zl}\\p{Zp}\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069\\uFEFF';
const FORBIDDEN_IN_ID = new RegExp(`[#/\\\\${INVISIBLE}]`, 'u');
const FORBIDDEN_IN_TEXT = new RegExp(`[${INVISIBLE}]`, 'u');

/**
 * Whether `value` has at most `max` code points. A string has no more code points than UTF-16
 * units, so only a long one is counted (every listed CPE's ids are checked on every listing).
 */
function atMostCodePoints(value: string, max: number): boolean {
  return value.length <= max || [...value].length <= max;
}

/** Whether `value` is a valid identifier (see the module comment). */
export function isIdentifier(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    atMostCodePoints(value, IDENTIFIER_MAX_CHARS) &&
    value === value.trim() &&
    value !== '.' &&
    value !== '..' &&
    !FORBIDDEN_IN_ID.test(value)
  );
}

/** Whether `value` is valid free text (see the module comment). */
export function isFreeText(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    atMostCodePoints(value, FREE_TEXT_MAX_CHARS) &&
    !FORBIDDEN_IN_TEXT.test(value)
  );
}

/**
 * The configured tenant `tenantId`, or a ValidationError naming `field`, the value and the
 * configured tenants: an operation never reaches a tenant (Meraki: organization) that is not
 * configured, so nothing is read from or written to it.
 */
export function requireConfiguredTenant(
  tenants: readonly string[],
  tenantId: string,
  what: string,
  field = 'tenantId',
): string {
  if (tenants.includes(tenantId)) return tenantId;
  throw new ValidationError(what, [
    {
      path: field,
      value: tenantId,
      expected: `a configured tenant (${tenants.map((t) => formatValue(t)).join(', ') || 'none configured'})`,
    },
  ]);
}
