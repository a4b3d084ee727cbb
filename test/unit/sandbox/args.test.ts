import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { USAGE, parseSandboxArgs, wantsHelp } from '../../../local/sandbox/args.js';

const MERAKI_FILE = join(mkdtempSync(join(tmpdir(), 'sandbox-args-')), 'meraki.json');
writeFileSync(
  MERAKI_FILE,
  JSON.stringify({
    organizations: [
      {
        id: '1',
        hubs: [
          { name: 'london', tagPrefix: 'london', trackedIp: '192.0.2.1' },
          { name: 'paris', tagPrefix: 'paris', trackedIp: '192.0.2.2' },
        ],
      },
    ],
  }),
);

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
        '--director-url': [
          'https://api.meraki.com/api/v1',
          '--director',
          'meraki',
          '--org',
          '1',
          '--api-key',
          'k',
        ],
        '--api-key': ['k', '--director', 'meraki', '--org', '1'],
        '--org': ['1', '--director', 'meraki', '--api-key', 'k'],
        '--meraki-config': [MERAKI_FILE, '--director', 'meraki', '--api-key', 'k'],
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
