import { USAGE, parseSandboxArgs, wantsHelp } from '../../../local/sandbox/args.js';

describe('sandbox command line', () => {
  it('recognises --help and -h anywhere', () => {
    expect(wantsHelp(['--help'])).toBe(true);
    expect(wantsHelp(['--time-scale', '60', '-h'])).toBe(true);
    expect(wantsHelp(['--time-scale', '60'])).toBe(false);
  });

  it('accepts every flag the usage text documents', () => {
    const documented = [...USAGE.matchAll(/^\s+(--[a-z-]+)/gm)].map((m) => m[1] ?? '');
    expect(documented).toContain('--faults');
    for (const flag of documented) {
      if (flag === '--help') continue;
      const sample: Record<string, string[]> = {
        '--faults': ['none'],
        '--time-scale': ['60'],
        '--duration': ['5'],
        '--scenario': ['dc-site-loss'],
        '--director': ['zwan'],
        '--topology': ['local/simulator/topologies/chennai-lab.json'],
        '--dynamodb-endpoint': ['http://127.0.0.1:8000'],
        '--verbose': [],
      };
      expect(sample[flag]).toBeDefined();
      expect(() => parseSandboxArgs([flag, ...(sample[flag] ?? [])])).not.toThrow();
    }
  });

  it('names the flag and the value when a value is bad', () => {
    expect(() => parseSandboxArgs(['--time-scale', 'abc'])).toThrow(
      /--time-scale="abc": expected a number > 0/,
    );
  });
});
