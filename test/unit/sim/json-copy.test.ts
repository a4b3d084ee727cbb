import fc from 'fast-check';
import { deepFreeze, jsonCopy } from '../../../local/sim/json-copy.js';

const viaJson = (value: unknown): unknown => {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
};

describe('jsonCopy (the checker’s JSON round trip)', () => {
  it('gives what JSON.parse(JSON.stringify(x)) gives for any value with undefined, NaN, Dates and holes', () => {
    const leaf = fc.oneof(
      fc.jsonValue(),
      fc.constant(undefined),
      fc.constant(Number.NaN),
      fc.constant(Number.POSITIVE_INFINITY),
      fc.date({ noInvalidDate: true }),
      fc.constant(-0),
    );
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('tree')),
        fc.sparseArray(tie('tree')),
        fc.dictionary(fc.string(), tie('tree')),
      ),
    }));
    fc.assert(
      fc.property(tree, (value) => {
        expect(JSON.stringify(jsonCopy(value))).toBe(JSON.stringify(viaJson(value)));
        expect(jsonCopy(value)).toEqual(viaJson(value));
      }),
      { numRuns: 500 },
    );
  });

  it('copies: changing the copy leaves the original as it was', () => {
    const original = { a: [{ b: 1 }], c: { d: 'x' } };
    const copy = jsonCopy(original) as typeof original;
    (copy.a[0] as { b: number }).b = 2;
    copy.c.d = 'y';
    expect(original).toEqual({ a: [{ b: 1 }], c: { d: 'x' } });
  });

  it('keeps an own "__proto__" key as a property, as JSON.parse does', () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"k":1}') as Record<string, unknown>;
    const copy = jsonCopy(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'k']);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
  });
});

describe('deepFreeze (the checker’s --freeze-answers)', () => {
  it('freezes every nested object and array and returns the same value', () => {
    const value = { a: [{ b: 1 }, [2, { c: 'x' }]], d: { e: null } };
    expect(deepFreeze(value)).toBe(value);
    expect(() => {
      'use strict';
      (value.a[0] as { b: number }).b = 2;
    }).toThrow(TypeError);
    expect(Object.isFrozen(value.a)).toBe(true);
    expect(Object.isFrozen((value.a[1] as unknown[])[1])).toBe(true);
    expect(Object.isFrozen(value.d)).toBe(true);
    expect(value).toEqual({ a: [{ b: 1 }, [2, { c: 'x' }]], d: { e: null } });
  });

  it('leaves primitives as they are', () => {
    expect(deepFreeze(3)).toBe(3);
    expect(deepFreeze(null)).toBe(null);
    expect(deepFreeze('s')).toBe('s');
  });
});
