/**
 * Lambda event filtering (event source mapping `FilterCriteria`) for DynamoDB stream records, as
 * the sandbox's stream poller applies it: a record is delivered when ANY filter's pattern matches
 * it; records that match none are dropped (never delivered, never retried).
 *
 * Pattern rules (the Lambda / EventBridge syntax):
 * - A pattern is a JSON object mirroring the record (`{"dynamodb":{"NewImage":{"type":{"S":[…]}}}}`).
 *   Every key of the pattern must match (AND); a key's value is a nested pattern or an array of
 *   conditions of which ANY may match (OR). Keys of the record that the pattern does not name are
 *   ignored. When the record's value is an array, the condition matches if any element does.
 * - Conditions: a literal (`"INSERT"`, `5`, `true`, `null`, `""`), `{"prefix": s}`,
 *   `{"suffix": s}`, `{"equals-ignore-case": s}`, `{"anything-but": literal | [literals] |
 *   {"prefix": s} | {"suffix": s}}`, `{"exists": true|false}`, `{"numeric": [op, n, (op, n)]}` with
 *   ops `=`, `<`, `<=`, `>`, `>=`.
 * - `exists` works on leaf values only (the DynamoDB JSON caveat in the Lambda docs): an object
 *   (e.g. `{"S": "x"}`) is not a leaf, so `{"field": [{"exists": true}]}` never matches an
 *   attribute; write `{"field": {"S": [{"exists": true}]}}`.
 * - `anything-but`, `prefix`, `suffix`, `numeric` need the value to exist.
 * - `numeric` compares JSON numbers; DynamoDB `N` values are strings in the record and are
 *   compared as numbers when they parse as one.
 */
import { ValidationError } from '../../shared/errors.js';

/** An event source mapping's filter criteria as CloudFormation and the Lambda API spell it. */
export interface FilterCriteria {
  Filters?: { Pattern?: string }[];
}

/** The same as CDK's `FilterCriteria.filter()` objects spell it (`{ pattern }`). */
export interface CdkFilterCriteria {
  filters?: { pattern?: string }[];
}

/** A parsed pattern: nested objects whose leaves are arrays of conditions. */
export type FilterPattern = { [key: string]: FilterPattern | Condition[] };
/** One condition of a pattern leaf. */
export type Condition = string | number | boolean | null | { [operator: string]: unknown };

/** A compiled set of filters: true when the record passes (matches any filter, or there is none). */
export type RecordFilter = (record: unknown) => boolean;

const NUMERIC_OPS = new Set(['=', '<', '<=', '>', '>=']);
const OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'anything-but', 'exists', 'numeric']);

function invalid(where: string, value: unknown, expected: string): ValidationError {
  return new ValidationError('filter pattern', [{ path: where, value, expected }]);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLiteral(value: unknown): value is string | number | boolean | null {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function validateCondition(condition: unknown, where: string): void {
  if (isLiteral(condition)) return;
  if (!isPlainObject(condition)) throw invalid(where, condition, 'a literal or an operator object');
  const entries = Object.entries(condition);
  const [operator, operand] = entries[0] ?? [];
  if (entries.length !== 1 || operator === undefined || !OPERATORS.has(operator)) {
    throw invalid(where, condition, `one operator of ${[...OPERATORS].join(', ')}`);
  }
  switch (operator) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
      if (typeof operand !== 'string') throw invalid(`${where}.${operator}`, operand, 'a string');
      return;
    case 'exists':
      if (typeof operand !== 'boolean') throw invalid(`${where}.exists`, operand, 'true or false');
      return;
    case 'anything-but': {
      const ok =
        isLiteral(operand) ||
        (Array.isArray(operand) && operand.every(isLiteral)) ||
        (isPlainObject(operand) &&
          Object.keys(operand).length === 1 &&
          (typeof operand.prefix === 'string' || typeof operand.suffix === 'string'));
      if (!ok)
        throw invalid(
          `${where}.anything-but`,
          operand,
          'a literal, an array of literals, {prefix} or {suffix}',
        );
      return;
    }
    case 'numeric': {
      const ok =
        Array.isArray(operand) &&
        (operand.length === 2 || operand.length === 4) &&
        operand.every((x, i) => (i % 2 === 0 ? NUMERIC_OPS.has(x as string) : typeof x === 'number'));
      if (!ok) throw invalid(`${where}.numeric`, operand, '[op, number] or [op, number, op, number]');
      return;
    }
  }
}

function validatePattern(pattern: unknown, where: string): FilterPattern {
  if (!isPlainObject(pattern)) throw invalid(where, pattern, 'a JSON object');
  for (const [key, value] of Object.entries(pattern)) {
    const path = `${where}.${key}`;
    if (Array.isArray(value)) value.forEach((c, i) => validateCondition(c, `${path}[${i}]`));
    else if (isPlainObject(value)) validatePattern(value, path);
    else throw invalid(path, value, 'an array of conditions or a nested object');
  }
  return pattern as FilterPattern;
}

/** Parse and validate one pattern string; `where` names it in errors (e.g. `Filters[0].Pattern`). */
export function parsePattern(text: string, where = 'Pattern'): FilterPattern {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError('filter pattern', [{ path: where, value: text, expected: 'valid JSON' }], {
      cause: error,
    });
  }
  return validatePattern(parsed, where);
}

function isLeaf(value: unknown): boolean {
  return value !== undefined && !isPlainObject(value);
}

function asNumber(value: unknown, underN: boolean): number | undefined {
  if (typeof value === 'number') return value;
  if (underN && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return undefined;
}

function compare(op: string, a: number, b: number): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

function matchesScalar(condition: Condition, value: unknown, underN: boolean): boolean {
  if (isLiteral(condition)) {
    if (typeof condition === 'number') return asNumber(value, underN) === condition;
    return value === condition;
  }
  const [operator, operand] = Object.entries(condition)[0] as [string, unknown];
  switch (operator) {
    case 'prefix':
      return typeof value === 'string' && value.startsWith(operand as string);
    case 'suffix':
      return typeof value === 'string' && value.endsWith(operand as string);
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === (operand as string).toLowerCase();
    case 'anything-but': {
      if (isPlainObject(operand)) {
        if (typeof value !== 'string') return true;
        if (typeof operand.prefix === 'string') return !value.startsWith(operand.prefix);
        return !value.endsWith(operand.suffix as string);
      }
      const excluded = Array.isArray(operand) ? operand : [operand];
      return !excluded.some((x) => matchesScalar(x as Condition, value, underN));
    }
    case 'numeric': {
      const n = asNumber(value, underN);
      if (n === undefined) return false;
      const terms = operand as (string | number)[];
      for (let i = 0; i < terms.length; i += 2) {
        if (!compare(terms[i] as string, n, terms[i + 1] as number)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

function matchesLeaf(conditions: Condition[], value: unknown, underN: boolean): boolean {
  const leaf = isLeaf(value);
  const values = !leaf ? [] : Array.isArray(value) ? value : [value];
  return conditions.some((condition) => {
    if (isPlainObject(condition) && 'exists' in condition) {
      return condition.exists === (leaf && values.length > 0);
    }
    return values.some((v) => !isPlainObject(v) && matchesScalar(condition, v, underN));
  });
}

/** Whether a record (a plain JSON object) matches one parsed pattern. */
export function matchesPattern(pattern: FilterPattern, record: unknown): boolean {
  const fields = isPlainObject(record) ? record : {};
  return Object.entries(pattern).every(([key, rule]) =>
    Array.isArray(rule) ? matchesLeaf(rule, fields[key], key === 'N') : matchesPattern(rule, fields[key]),
  );
}

/**
 * Compile filter criteria (CloudFormation `{ Filters: [{ Pattern }] }` or CDK `{ filters: [{ pattern }] }`)
 * into a predicate. No criteria, or no filters, lets every record through. An invalid pattern
 * throws {@link ValidationError} naming the filter.
 */
export function compileFilterCriteria(
  criteria: FilterCriteria | CdkFilterCriteria | undefined,
): RecordFilter {
  const raw: (string | undefined)[] =
    criteria === undefined
      ? []
      : 'Filters' in criteria
        ? (criteria.Filters ?? []).map((f) => f.Pattern)
        : ((criteria as CdkFilterCriteria).filters ?? []).map((f) => f.pattern);
  const patterns = raw.map((text, i) => {
    if (typeof text !== 'string') throw invalid(`Filters[${i}].Pattern`, text, 'a pattern string');
    return parsePattern(text, `Filters[${i}].Pattern`);
  });
  if (patterns.length === 0) return () => true;
  return (record) => patterns.some((p) => matchesPattern(p, record));
}
