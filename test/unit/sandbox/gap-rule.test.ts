/**
 * The sandbox's gap rule: scaled like the cadence, never under a second of wall clock (a loaded
 * machine's stalls are not sampling gaps).
 */
import { sandboxMaxSampleGapSec } from '../../../local/sandbox/core-parts.js';

describe('sandbox gap rule', () => {
  it('is two sample intervals at real time, and at least 1 s of wall clock when scaled', () => {
    expect(sandboxMaxSampleGapSec(1)).toBe(10);
    expect(sandboxMaxSampleGapSec(5)).toBe(2);
    expect(sandboxMaxSampleGapSec(20)).toBe(1);
    expect(sandboxMaxSampleGapSec(60)).toBe(1);
  });
});
