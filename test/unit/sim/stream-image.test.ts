/** The simulated stream's images are what the SDK's marshall makes of the same items. */
import fc from 'fast-check';
import { marshall } from '@aws-sdk/util-dynamodb';
import { streamImage } from '../../../local/sim/stream-image.js';

const sdk = (item: Record<string, unknown>) => marshall(item, { removeUndefinedValues: true });
const outcome = (f: () => unknown) => {
  try {
    return { value: f() };
  } catch (error) {
    return { error: (error as Error).message };
  }
};

describe('stream images', () => {
  it('equal the SDK’s marshall for any JSON item, undefined values and holes included', () => {
    const value = fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.sparseArray(fc.jsonValue()));
    const item = fc.dictionary(fc.string(), fc.oneof(value, fc.dictionary(fc.string(), value)));
    fc.assert(
      fc.property(item, (i) => {
        // The same image, or the same error (a number past the safe integers).
        expect(outcome(() => streamImage(i))).toEqual(outcome(() => sdk(i)));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves what is not plain JSON to the SDK: same conversion, same error', () => {
    const cases: Record<string, unknown>[] = [
      { big: Number.MAX_SAFE_INTEGER + 2 },
      { nan: Number.NaN },
      { set: new Set(['a', 'b']) },
      { date: new Date(0) },
      { bare: Object.assign(Object.create(null) as object, { a: 1 }) },
      { nested: [{ deep: [new Set([1])] }] },
      { fn: () => 1, kept: 'x' },
    ];
    for (const c of cases) expect(outcome(() => streamImage(c))).toEqual(outcome(() => sdk(c)));
    expect(streamImage({ pk: 'p', sk: 's', n: -0, f: 1.5, e: '' })).toEqual({
      pk: { S: 'p' },
      sk: { S: 's' },
      n: { N: '0' },
      f: { N: '1.5' },
      e: { S: '' },
    });
  });
});
