import fc from 'fast-check';
import { jsonCopy, notPlainJson } from '../../../local/sim/json-copy.js';

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

describe('notPlainJson (the checker’s --check-answers)', () => {
  it('passes anything JSON.parse can produce', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        // fc.jsonValue() may draw -0, which JSON.parse never gives.
        const parsed = JSON.parse(JSON.stringify(v)) as unknown;
        expect(notPlainJson(parsed)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('whatever it passes survives a JSON round trip unchanged', () => {
    fc.assert(
      fc.property(fc.anything({ withSparseArray: true, withDate: true, withNullPrototype: true }), (v) => {
        if (notPlainJson(v) === undefined) expect(viaJson(v)).toStrictEqual(v);
      }),
      { numRuns: 500 },
    );
  });

  it('names the path of the first value JSON would change', () => {
    expect(notPlainJson({ a: [{ b: 1 }, { c: undefined }] })).toBe('(answer).a[1].c');
    expect(notPlainJson({ n: Number.NaN })).toBe('(answer).n');
    expect(notPlainJson({ z: -0 })).toBe('(answer).z');
    // eslint-disable-next-line no-sparse-arrays -- a hole is the case under test
    expect(notPlainJson([1, , 3])).toBe('(answer)[1]');
    expect(notPlainJson({ at: new Date(0) })).toBe('(answer).at');
    expect(notPlainJson({ f: () => 1 })).toBe('(answer).f');
    expect(notPlainJson({ ok: [null, 'x', true, 1.5] })).toBeUndefined();
  });
});
