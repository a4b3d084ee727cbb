/** `npm start -- --director meraki` flags: the external Dashboard (`--director-url` …) and `--faults`. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSandboxArgs } from '../../../local/sandbox/args.js';
import { checkDashboardUrl } from '../../../local/sandbox/meraki-external.js';
import { ValidationError } from '../../../shared/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'meraki-args-'));
const file = (name: string, body: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
  return path;
};
const HUBS = [
  { name: 'london', tagPrefix: 'london', trackedIp: '192.0.2.1' },
  { name: 'paris', tagPrefix: 'paris', trackedIp: '192.0.2.2' },
];
const KEY = 'secret-key-0123456789';
const external = ['--director', 'meraki', '--director-url', 'https://api.meraki.com/api/v1'];
const parse = (argv: string[], env: Record<string, string> = {}) => parseSandboxArgs(argv, env);

/** The error's message (the test fails when nothing is thrown). */
function message(argv: string[], env: Record<string, string> = {}): string {
  try {
    parse(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
}

describe('sandbox flags for an external Meraki Dashboard', () => {
  it('takes --director-url, --api-key and repeated --org; real time unless --time-scale is given', () => {
    const options = parse([...external, '--api-key', KEY, '--org', '111', '--org', '222']);
    expect(options.director).toBe('meraki');
    expect(options.merakiExternal?.baseUrl).toBe('https://api.meraki.com/api/v1');
    expect(options.merakiExternal?.organizations).toEqual([{ id: '111' }, { id: '222' }]);
    expect(options.merakiExternal?.apiKey()).toBe(KEY);
    expect(options.timeScale).toBe(1);
    expect(options.merakiFaults).toBeUndefined();
    expect(parse([...external, '--api-key', KEY, '--org', '1', '--time-scale', '60']).timeScale).toBe(60);
  });

  it('never shows the key: not in the options as JSON, not in an error', () => {
    const options = parse([...external, '--api-key', KEY, '--org', '111']);
    expect(JSON.stringify(options)).not.toContain(KEY);
    const bad = message([...external, '--api-key', 'has space', '--org', '1']);
    expect(bad).toMatch(/--api-key="<redacted>": expected a key without spaces/);
    expect(bad).not.toContain('has space');
  });

  it('reads the key from CPE_FAILOVER_API_KEY when --api-key is absent, and asks for one otherwise', () => {
    const options = parse([...external, '--org', '1'], { CPE_FAILOVER_API_KEY: KEY });
    expect(options.merakiExternal?.apiKey()).toBe(KEY);
    expect(message([...external, '--org', '1'])).toMatch(
      /--api-key=undefined: expected the Dashboard's API key \(or CPE_FAILOVER_API_KEY/,
    );
  });

  it('requires https except on loopback, and no credentials in the URL', () => {
    expect(checkDashboardUrl('http://127.0.0.1:4100/api/v1/', '--director-url')).toBe(
      'http://127.0.0.1:4100/api/v1',
    );
    expect(checkDashboardUrl('http://localhost:1/api/v1', 'u')).toBe('http://localhost:1/api/v1');
    expect(checkDashboardUrl('http://[::1]:1/api/v1', 'u')).toBe('http://[::1]:1/api/v1');
    const base = ['--director', 'meraki', '--api-key', KEY, '--org', '1', '--director-url'];
    expect(message([...base, 'http://dashboard.example.com/api/v1'])).toMatch(
      /--director-url="http:\/\/dashboard.example.com\/api\/v1": expected an https URL without credentials, query or fragment \(http only on loopback/,
    );
    expect(message([...base, 'ftp://127.0.0.1/api/v1'])).toMatch(
      /--director-url="ftp:.*expected an https URL/,
    );
    expect(message([...base, 'api.meraki.com'])).toMatch(
      /--director-url="api.meraki.com": expected an absolute URL/,
    );
    const creds = message([...base, 'https://user:pw@api.meraki.com/api/v1']);
    expect(creds).toMatch(/--director-url="<redacted>": expected an https URL without credentials/);
    expect(message([...base, 'https://api.meraki.com/api/v1?x=1'])).toMatch(
      /expected an https URL without credentials, query/,
    );
    expect(creds).not.toContain('pw');
  });

  it('names the flag: --org missing, malformed or twice; --org with a config file; --director not meraki', () => {
    expect(message([...external, '--api-key', KEY])).toMatch(
      /--org=undefined: expected an organization id \(or --meraki-config <file>\)/,
    );
    expect(message([...external, '--api-key', KEY, '--org', 'a b'])).toMatch(
      /--org="a b": expected an organization id/,
    );
    expect(message([...external, '--api-key', KEY, '--org', '1', '--org', '1'])).toMatch(
      /--org=\["1","1"\]: expected each organization once/,
    );
    const cfg = file('both.json', { organizations: [{ id: '1', hubs: HUBS }] });
    expect(message([...external, '--api-key', KEY, '--org', '1', '--meraki-config', cfg])).toMatch(
      /--org=\["1"\]: expected no --org with --meraki-config/,
    );
    expect(
      message(['--director-url', 'https://api.meraki.com/api/v1', '--api-key', KEY, '--org', '1']),
    ).toMatch(/--director="zwan": expected meraki with --org or --meraki-config/);
    expect(message(['--api-key', KEY])).toMatch(/--api-key="<redacted>": expected only with --director-url/);
  });

  it('reads organizations, hubs and the base URL from --meraki-config, naming the file field that is wrong', () => {
    const good = file('good.json', {
      baseUrl: 'https://api.meraki.ca/api/v1',
      requestsPerSecond: 4,
      organizations: [{ id: '9', hubs: HUBS }],
    });
    const options = parse(['--director', 'meraki', '--meraki-config', good, '--api-key', KEY]);
    expect(options.merakiExternal?.baseUrl).toBe('https://api.meraki.ca/api/v1');
    expect(options.merakiExternal?.requestsPerSecond).toBe(4);
    expect(options.merakiExternal?.organizations[0]?.hubs?.map((h) => h.name)).toEqual(['london', 'paris']);
    // --director-url wins over the file's base.
    expect(parse([...external, '--meraki-config', good, '--api-key', KEY]).merakiExternal?.baseUrl).toBe(
      'https://api.meraki.com/api/v1',
    );
    const badIp = file('bad-ip.json', {
      organizations: [{ id: '9', hubs: [HUBS[0], { ...HUBS[1], trackedIp: 'nope' }] }],
    });
    expect(message(['--director', 'meraki', '--meraki-config', badIp, '--api-key', KEY])).toMatch(
      new RegExp(`--meraki-config ${badIp}: organizations.0.hubs.1.trackedIp="nope"`),
    );
    const http = file('http.json', {
      baseUrl: 'http://dashboard.example/api/v1',
      organizations: [{ id: '9', hubs: HUBS }],
    });
    expect(message(['--director', 'meraki', '--meraki-config', http, '--api-key', KEY])).toMatch(
      /--meraki-config .*http\.json: baseUrl="http:\/\/dashboard.example\/api\/v1": expected an https/,
    );
    expect(
      message(['--director', 'meraki', '--meraki-config', join(dir, 'absent.json'), '--api-key', KEY]),
    ).toMatch(/--meraki-config=".*absent.json": expected an existing JSON file \(file not found\)/);
    const notJson = file('not.json', '{ organizations');
    expect(message(['--director', 'meraki', '--meraki-config', notJson, '--api-key', KEY])).toMatch(
      /--meraki-config=".*not.json": expected a JSON file/,
    );
  });

  it('refuses --faults and --topology against an external Dashboard', () => {
    expect(message([...external, '--api-key', KEY, '--org', '1', '--faults', '4m heal'])).toMatch(
      /--faults="4m heal": expected nothing with --director-url/,
    );
    expect(message(['--director', 'meraki', '--topology', 'x.json'])).toMatch(
      /--topology="x.json": expected nothing/,
    );
  });
});

describe('sandbox --faults in Meraki mode', () => {
  it('defaults to the demo on the simulated clock and parses a given script against the sandbox organization', () => {
    expect(parse(['--director', 'meraki']).merakiFaults).toEqual([
      { atSec: 240, action: 'loss', args: ['N_1', 'london', '45'] },
      { atSec: 1200, action: 'loss', args: ['N_1', 'london', '0'] },
    ]);
    expect(
      parse(['--director', 'meraki', '--faults', '3m hub-down paris; 1m dashboard 429 30']).merakiFaults,
    ).toEqual([
      { atSec: 60, action: 'dashboard', args: ['429', '30'] },
      { atSec: 180, action: 'hub-down', args: ['paris'] },
    ]);
    expect(parse(['--director', 'meraki', '--faults', 'none']).merakiFaults).toEqual([]);
    expect(message(['--director', 'meraki', '--faults', '3m hub-down rome'])).toMatch(
      /Meraki fault script is invalid: 0 \("3m hub-down rome"\)\.args\.0="rome": expected a hub of the sandbox organization: "london", "paris"/,
    );
  });
});
