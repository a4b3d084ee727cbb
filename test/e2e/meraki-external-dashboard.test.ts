/**
 * `npm start -- --director meraki --director-url <base> --api-key <key> --org <id>` end to end: the sandbox's controller (health check, failover, drift reconcile, local DynamoDB)
 * against a second Meraki simulator that this test starts and drives itself, as if it were an
 * external Dashboard (another implementation of the API) reached over real HTTP. When a hub goes
 * bad there, the controller swaps that Dashboard's tags. The hubs are read from that
 * organization's third-party VPN peers. Its clock runs 60 times fast, so the sandbox is told
 * `--time-scale 60` (a real Dashboard keeps real time: the default 1).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseSandboxArgs } from '../../local/sandbox/args.js';
import { discoverHubs } from '../../local/sandbox/meraki-external.js';
import { createHttpClient } from '../../shared/director/http.js';
import { ConfigError } from '../../shared/errors.js';
import { runSandbox } from '../../local/sandbox/sandbox.js';
import {
  createMerakiSimulator,
  type MerakiSimulator,
  type SimOrganization,
} from '../../local/simulator/meraki/server.js';

const SCALE = 60;
const KEY = 'external-dashboard-key-7f3a91';
const ORG: SimOrganization = {
  id: '424242',
  name: 'External organization',
  hubs: [
    { name: 'dc-east', tagPrefix: 'east', trackedIp: '203.0.113.10' },
    { name: 'dc-west', tagPrefix: 'west', trackedIp: '203.0.113.20' },
  ],
  networks: ['L_1', 'L_2'].map((id) => ({
    id,
    name: `Store ${id}`,
    tags: ['store', 'east_primary_up', 'west_backup_down', 'pos'],
  })),
};

describe('sandbox against an external Meraki Dashboard', () => {
  let dashboard: MerakiSimulator;

  beforeAll(async () => {
    const t0 = Date.now();
    dashboard = await createMerakiSimulator({
      organizations: [ORG],
      apiKeys: [KEY],
      now: () => t0 + (Date.now() - t0) * SCALE,
      batchCompletionDelayMs: 100,
    });
  });
  afterAll(async () => {
    await dashboard.close();
  });

  it("swaps that Dashboard's tags when a hub goes bad there, never printing the key", async () => {
    const options = parseSandboxArgs(
      [
        '--director',
        'meraki',
        '--director-url',
        dashboard.baseUrl,
        '--api-key',
        KEY,
        '--org',
        ORG.id,
        '--time-scale',
        String(SCALE),
        '--duration',
        '60',
        '--dynamodb-endpoint',
        process.env.DYNAMODB_ENDPOINT ?? '',
      ],
      {},
    );
    const lines: string[] = [];
    const stop = new AbortController();
    let lossAt: number | undefined;
    dashboard.onTunnelChange((c) => {
      if (c.networkId === 'L_1' && c.to === 'dc-west') stop.abort();
    });
    await runSandbox(options, {
      signal: stop.signal,
      output: (line) => {
        lines.push(line);
        // Once the controller runs, east is lost from L_1 (100 % loss on its tracked IP).
        if (lossAt === undefined && / running /.test(line)) {
          lossAt = Date.now();
          dashboard.setLoss('L_1', 'dc-east', 100);
        }
      },
    });
    const text = lines.join('\n');
    if (process.env.DEBUG_E2E) console.log(text);
    expect(text).not.toContain(KEY);
    expect(text).toMatch(
      new RegExp(
        `Meraki Dashboard at ${dashboard.baseUrl.replace(/[.]/g, '\\.')} \\(external, API key <redacted>; hubs read from the third-party VPN peers\\): ` +
          'organizations 424242 \\(hubs dc-east \\[east, 203\\.0\\.113\\.10\\] → dc-west \\[west, 203\\.0\\.113\\.20\\]\\); the controller WILL write tags there',
      ),
    );
    // No simulator of the sandbox's own: nothing of it in the output.
    expect(text).not.toMatch(/Meraki simulator at|zWAN simulator/);
    expect(lossAt).toBeDefined();
    // The swap happened on the external Dashboard, by the controller, over HTTP with the key.
    expect(dashboard.tunnelHub('L_1')).toBe('dc-west');
    expect(dashboard.network('L_1')?.tags).toEqual(['store', 'east_primary_down', 'west_backup_up', 'pos']);
    expect(dashboard.tunnelHub('L_2')).toBe('dc-east');
    expect(text).toMatch(/424242#L_1\s+Store L_1 → dc-east \(DC\/ACTIVE\)\s+UP → DOWN/);
    const stats = dashboard.stats();
    expect(stats.byStatus[401] ?? 0).toBe(0);
    expect(stats.byStatus[200] ?? 0).toBeGreaterThan(0);
    expect(
      dashboard.log.some((e) => e.path === `/organizations/${ORG.id}/devices/uplinksLossAndLatency`),
    ).toBe(true);
  }, 180_000);

  it('reads the hubs from the peers, and names the organization and peer when they do not make hubs', async () => {
    const client = createHttpClient({
      name: 'test',
      baseUrl: dashboard.baseUrl,
      headers: async () => ({ authorization: `Bearer ${KEY}` }),
    });
    expect(await discoverHubs(client, ORG.id)).toEqual(ORG.hubs);
    const discovery = async () => {
      try {
        await discoverHubs(client, ORG.id);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('no error');
    };
    // A peer name that cannot be a hub name (a /): the hub is named after its tag prefix.
    dashboard.setPeers(ORG.id, [
      { name: 'DC East / rack 4', publicIp: '203.0.113.10', networkTags: ['east_primary_up'] },
      { name: 'dc-west', publicIp: '203.0.113.20', networkTags: ['west_backup_up', 'pos'] },
    ]);
    expect(await discoverHubs(client, ORG.id)).toEqual([
      { name: 'east', tagPrefix: 'east', trackedIp: '203.0.113.10', peerName: 'DC East / rack 4' },
      ORG.hubs[1],
    ]);
    dashboard.setPeers(ORG.id, [
      { name: 'dc-west', publicIp: '203.0.113.20', networkTags: ['west_backup_up'] },
      { name: 'cloud', publicIp: '192.0.2.99', networkTags: ['all'] },
    ]);
    expect(await discovery()).toMatch(
      /organization 424242 third-party VPN peers is invalid: peers \(dc-west\)=1: expected hub place 0/,
    );
    dashboard.setPeers(ORG.id, [
      { name: 'dc-east', publicIp: '203.0.113.10', networkTags: ['east_primary_up', 'west_backup_up'] },
    ]);
    expect(await discovery()).toMatch(
      /peers\.0=.*expected a named peer with a publicIp and exactly one <prefix>_<role>_up tag/,
    );
    dashboard.setPeers(ORG.id, undefined);
  });
});
