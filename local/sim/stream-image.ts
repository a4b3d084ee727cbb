/**
 * A table item as a DynamoDB Streams record carries it: `marshall(item, { removeUndefinedValues:
 * true })` of @aws-sdk/util-dynamodb, written out for the plain JSON items the memory table holds
 * (the SDK's generic walk was a fifth of what the simulated stream cost). Anything else (a class
 * instance, a Set, a number past the safe integers) goes to the SDK itself, which converts or
 * throws as ever. test/unit/sim/stream-image.test.ts holds it to the SDK's answer.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

function attr(v: unknown): AttributeValue | undefined {
  if (v === null) return { NULL: true };
  switch (typeof v) {
    case 'string':
      return { S: v };
    case 'boolean':
      return { BOOL: v };
    case 'number':
      return Number.isFinite(v) && v <= Number.MAX_SAFE_INTEGER && v >= Number.MIN_SAFE_INTEGER
        ? { N: String(v) }
        : undefined;
    case 'object': {
      if (Array.isArray(v)) {
        const L: AttributeValue[] = [];
        for (const x of v as unknown[]) {
          if (x === undefined) continue;
          const a = attr(x);
          if (!a) return undefined;
          L.push(a);
        }
        return { L };
      }
      const M = attrMap(v);
      return M && { M };
    }
    default:
      return undefined;
  }
}

function attrMap(v: object): Record<string, AttributeValue> | undefined {
  if (Object.getPrototypeOf(v) !== Object.prototype) return undefined;
  const M: Record<string, AttributeValue> = {};
  for (const key of Object.keys(v)) {
    const value = (v as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const a = attr(value);
    if (!a) return undefined;
    M[key] = a;
  }
  return M;
}

/** The stream image of `item`, exactly as `marshall(item, { removeUndefinedValues: true })` gives it. */
export function streamImage(item: Record<string, unknown>): Record<string, AttributeValue> {
  return attrMap(item) ?? marshall(item, { removeUndefinedValues: true });
}
