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
        '--observe': [],
        '--dr-director-url': [
          'https://dr.zwan.example.net/api/v1',
          '--director-url',
          'https://dc.zwan.example.net/api/v1',
          '--tenant',
          't1',
          '--api-key',
          'k',
        ],
        '--tenant': [
          't1',
          '--director-url',
          'https://dc.zwan.example.net/api/v1',
          '--dr-director-url',
          'https://dr.zwan.example.net/api/v1',
          '--api-key',
          'k',
        ],
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

describe('sandbox flags checked before anything starts', () => {
  it('an unknown scenario is a flag error naming the registered ones (exit 2 with the usage)', () => {
    expect(() => parseSandboxArgs(['--scenario', 'dc-loss'])).toThrow(
      /--scenario="dc-loss": expected dc-site-loss \| director-loss/,
    );
  });

  it("the accepted scenario names are the registry's", async () => {
    const { SCENARIO_NAMES } = await import('../../../local/sandbox/args.js');
    const { SCENARIOS } = await import('../../../local/sandbox/registry.js');
    expect([...SCENARIO_NAMES].sort()).toEqual(Object.keys(SCENARIOS).sort());
  });

  it('a fault naming a CPE the topology does not have fails at parse time, naming it', () => {
    expect(() => parseSandboxArgs(['--faults', '20s down HA_DC1; 30s down NOPE'])).toThrow(
      /--faults 1\.args\.0="NOPE": expected a CPE of the topology \(.*HA_DC1/,
    );
    expect(() => parseSandboxArgs(['--faults', '20s down HA_DC1'])).not.toThrow();
    expect(() => parseSandboxArgs(['--topology', '/no/such/topology.json'])).toThrow(
      /--topology="\/no\/such\/topology.json"/,
    );
  });
});

describe('external zWAN directors and observe mode', () => {
  const DC = 'https://dc.zwan.example.net/api/v1';
  const DR = 'https://dr.zwan.example.net/api/v1/';
  const external = ['--director-url', DC, '--dr-director-url', DR, '--tenant', 't1', '--tenant', 't2'];
  const message = (argv: string[], env: Record<string, string | undefined> = {}) => {
    try {
      parseSandboxArgs(argv, env);
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };

  it('takes both directors, the tenants and the key (flag or environment); real time; key never shown', () => {
    const options = parseSandboxArgs([...external, '--api-key', 's3cret', '--observe']);
    expect(options.zwanExternal?.sites).toEqual({ DC, DR: DR.replace(/\/$/, '') });
    expect(options.zwanExternal?.tenants).toEqual(['t1', 't2']);
    expect(options.zwanExternal?.apiKey()).toBe('s3cret');
    expect(options).toMatchObject({ director: 'zwan', observe: true, timeScale: 1, faults: [] });
    expect(JSON.stringify(options)).not.toContain('s3cret');
    const fromEnv = parseSandboxArgs(external, { CPE_FAILOVER_API_KEY: 'envkey' });
    expect(fromEnv.zwanExternal?.apiKey()).toBe('envkey');
    expect(fromEnv.observe).toBeUndefined();
    expect(parseSandboxArgs(['--observe']).observe).toBe(true);
  });

  it('names each missing or bad flag and its value (the key redacted)', () => {
    expect(message(['--director-url', DC, '--api-key', 'k'])).toMatch(
      /--dr-director-url=undefined: expected the DR director's API base URL; --tenant=undefined: expected a tenant id/,
    );
    expect(
      message([...external, '--director-url', 'http://dc.example.net/api'], { CPE_FAILOVER_API_KEY: 'k' }),
    ).toMatch(/--director-url="http:\/\/dc.example.net\/api": expected an https URL without credentials/);
    expect(
      message(['--director-url', 'https://u:pw@dc.example.net', '--dr-director-url', DR, '--tenant', 't1'], {
        CPE_FAILOVER_API_KEY: 'k',
      }),
    ).toMatch(/--director-url="<redacted>": expected an https URL/);
    expect(
      message(['--director-url', DC, '--dr-director-url', DC, '--tenant', 't1', '--api-key', 'k']),
    ).toMatch(/--dr-director-url=".*": expected the DR site's own director/);
    expect(message([...external, '--tenant', 'bad/tenant'], { CPE_FAILOVER_API_KEY: 'k' })).toMatch(
      /--tenant="bad\/tenant": expected a tenant id: 1 to/,
    );
    expect(message(external)).toMatch(/--api-key=undefined: expected the directors' API key/);
    expect(message([...external, '--api-key', 'k', '--faults', '20s down HA_DC1'])).toMatch(
      /--faults="20s down HA_DC1": expected nothing with --director-url/,
    );
    expect(message([...external, '--api-key', 'k', '--scenario', 'dc-site-loss'])).toMatch(
      /--scenario="dc-site-loss": expected nothing with --director-url/,
    );
    expect(message(['--director', 'meraki', '--tenant', 't1'])).toMatch(
      /--director="meraki": expected zwan with --dr-director-url or --tenant/,
    );
  });
});
