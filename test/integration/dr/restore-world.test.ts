/**
 * One world for DR: each zWAN director keeps its own configuration, which a backup exports as
 * the MSP configuration object and a verified restore replaces; branches are managed by one
 * director (the management URL, SSH-onboarded ones only after a reboot); a PASSIVE director
 * refuses writes. Real HTTP to the simulator through the real zWAN adapter, jobs really writing
 * and reading the S3 emulator; every exchange is checked against the contract.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { createZwanDirector, type ZwanDirector } from '../../../shared/director/zwan/adapter.js';
import type { DirectorJob, S3Location } from '../../../shared/director/port.js';
import type { RepointAction, SiteName } from '../../../shared/domain/model.js';
import { DirectorPassiveError, DirectorRequestError, StaleEpochError } from '../../../shared/errors.js';
import { createZwanSimulator, SIM_API_KEY, type ZwanSimulator } from '../../../local/simulator/index.js';
import { S3JobRunner } from '../../../local/simulator/zwan/jobs.js';
import type { MspConfig } from '../../../local/simulator/zwan/msp-config.js';
import { drDefinitionsFromTemplate } from '../../../local/sandbox/scenarios/dr-machines.js';
import { createDrWorld } from '../../../local/sandbox/scenarios/dr-world.js';
import { testAssembly } from '../../helpers/assembly.js';
import { createTestBucket, createTestTable } from '../../helpers/ddb.js';
import { loadZwanContract } from '../director/zwan-openapi.js';

const TENANT = 'lab-tenant';
const KEY = `${TENANT}#Chennai`;
const IDENT = 'CHENNAI-HA-00';
const TID = { HA_DC1: '5e1c0a7d', HA_DC2: '9b2f4c11', DR: 'd4e8a0b3' } as const;
const LAB = ['HA_DC1', 'HA_DC2', 'DR', 'BR1', 'BR2'];
const contract = loadZwanContract();

const BR3 = {
  id: 'BR3',
  name: 'BR3',
  tenantId: TENANT,
  metadata: { CPE_BR_TYPE: 'HA', HA_NAME: 'Chennai', WAN00_PUB_IP: '49.207.3.13' },
  lans: [{ name: 'LAN00', cidr: '192.168.3.1/24' }],
  tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: IDENT, tunnelId: TID.HA_DC1 }],
};

let sim: ZwanSimulator;
let runner: S3JobRunner;
let s3: S3Client;
let bucket: string;
let dc: ZwanDirector;
let dr: ZwanDirector;

function director(site: SiteName): ZwanDirector {
  return createZwanDirector({
    site,
    baseUrl: sim.url(site),
    apiKey: async () => SIM_API_KEY,
    retries: 1,
    timeoutMs: 2000,
    backoffBaseMs: 5,
  });
}

beforeEach(async () => {
  const b = await createTestBucket('restore');
  s3 = b.client;
  bucket = b.bucket;
  runner = new S3JobRunner({ s3, jobDurationMs: 20, elkObjects: 2, elkObjectBytes: 1024 });
  sim = await createZwanSimulator({ jobs: runner });
  dc = director('DC');
  dr = director('DR');
});
afterEach(async () => {
  expect(contract.checkAll(sim.requests)).toEqual([]);
  await runner.idle();
  await sim.close();
  s3.destroy();
});

const at = (stamp: string): S3Location => ({
  bucket,
  mspPrefix: `msp/DC/${stamp}/`,
  elkPrefix: `dcrepository/${stamp}/`,
});

/** Start a job and wait for its end. */
async function finished(d: ZwanDirector, start: Promise<DirectorJob>): Promise<DirectorJob> {
  const job = await start;
  await runner.idle();
  return d.getJob(job.jobId);
}

const backup = (stamp: string) => finished(dc, dc.startBackup('msp', at(stamp)));
const restoreIntoDr = (stamp: string) => finished(dr, dr.startRestore('msp', at(stamp)));
const ids = async (d: ZwanDirector) => (await d.listCpes(TENANT)).map((c) => c.id);

async function read(key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(
    await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

const put = (key: string, body: string) =>
  s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

function repointTo(branchId: string, target: keyof typeof TID, epoch: number): RepointAction {
  return {
    groupKey: KEY,
    tenantId: TENANT,
    branchId,
    targetId: target,
    epoch,
    tunnels: [{ haTunnelIdentifier: IDENT, tunnelId: TID[target] }],
  };
}

describe('each director keeps its own configuration', () => {
  test('a backup at DC exports DC’s configuration as the MSP config object, with its size and SHA-256 in the manifest', async () => {
    const job = await backup('b1');

    expect(job.state).toBe('SUCCEEDED');
    const key = 'msp/DC/b1/msp-config.json';
    const body = await read(key);
    expect(job.manifest?.find((e) => e.key === key)).toEqual({
      key,
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    });
    const config = JSON.parse(body.toString('utf8')) as MspConfig;
    expect(config).toMatchObject({ format: 'zwan-sim-msp-config/1', site: 'DC' });
    expect(config.tenants.map((t) => t.id)).toEqual([TENANT]);
    const cpes = config.tenants[0]?.cpes ?? [];
    expect(cpes.map((c) => c.id)).toEqual(LAB);
    expect(cpes.find((c) => c.id === 'HA_DC1')).toMatchObject({
      metadata: { CPE_TYPE: 'DC', HA_STATE: 'ACTIVE', HA_NAME: 'Chennai', WAN00_PUB_PORT: '30000' },
      lans: [{ name: 'LAN00', cidr: '172.7.0.1/24', virtualIp: '172.7.0.5' }],
      tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: IDENT, tunnelId: TID.HA_DC1 }],
    });
    expect(cpes.find((c) => c.id === 'BR2')?.onboardedBy).toBe('ssh');
  });

  test('a restore into DR replaces DR’s configuration with exactly what was backed up', async () => {
    // DR knows something DC does not (replaced by the restore, not merged).
    sim.faults.addCpe({ ...BR3, id: 'DR_ONLY', name: 'DR_ONLY' }, { directors: ['DR'] });
    expect((await backup('b2')).state).toBe('SUCCEEDED');
    // After the backup: BR3 onboarded at DC, BR1 deleted (gone from both directors and the world).
    sim.faults.addCpe(BR3, { directors: ['DC'] });
    sim.faults.deleteCpe('BR1');
    expect(await ids(dc)).toEqual(['HA_DC1', 'HA_DC2', 'DR', 'BR2', 'BR3']);
    expect(await ids(dr)).toEqual(['HA_DC1', 'HA_DC2', 'DR', 'BR2', 'DR_ONLY']);

    const job = await restoreIntoDr('b2');

    expect(job).toMatchObject({ kind: 'restore', state: 'SUCCEEDED' });
    expect(await ids(dr)).toEqual(LAB);
    await expect(dr.getCpe(TENANT, 'BR3')).rejects.toThrow(DirectorRequestError);
    // BR1 is configured on DR again but no longer exists: listed, never established, not alive.
    const br1 = await dr.getCpe(TENANT, 'BR1');
    expect(br1.tunnels).toEqual([
      { name: 'IPSEC00', haTunnelIdentifier: IDENT, tunnelId: TID.HA_DC1, state: 'CREATED' },
    ]);
    const [h1, h3] = await dr.sampleHealth(TENANT, ['BR1', 'BR3']);
    expect(h1).toMatchObject({ target: 'BR1', reachable: false, lossPct: 100 });
    expect(h3).toMatchObject({ target: 'BR3', reachable: false, lossPct: null }); // unknown to DR
    // Runtime state is the one world's: the concentrators' roles and tunnels are as DC shows them.
    const dr1 = (await dr.listCpes(TENANT, { haName: 'Chennai' })).find((c) => c.id === 'HA_DC1');
    expect(dr1).toMatchObject({ haRole: 'ACTIVE', lans: [{ virtualIp: '172.7.0.5' }] });
    // DC's own configuration is untouched.
    expect(await ids(dc)).toEqual(['HA_DC1', 'HA_DC2', 'DR', 'BR2', 'BR3']);
    expect(runner.restoresOf('DR').map((r) => r.from.mspPrefix)).toEqual(['msp/DC/b2/']);
  });

  const corruptFault = 'an ELK object corrupted after hashing (the corrupt fault)';
  const sabotage: [string, (stamp: string) => Promise<unknown>, RegExp][] = [
    [
      corruptFault,
      async () => undefined,
      /elk-0001\.ndjson does not match the manifest: its SHA-256 differs/,
    ],
    [
      'the MSP config object missing',
      (stamp) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `msp/DC/${stamp}/msp-config.json` })),
      /cannot read the backup object .*msp-config\.json: it does not exist/,
    ],
    [
      'the manifest missing',
      (stamp) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `msp/DC/${stamp}/manifest.json` })),
      /cannot read the manifest .*manifest\.json: it does not exist/,
    ],
    [
      'the MSP config object of another size',
      (stamp) => put(`msp/DC/${stamp}/msp-config.json`, '{}'),
      /msp-config\.json does not match the manifest: 2 bytes, the manifest says \d+/,
    ],
    [
      'the MSP config object unparsable (with a manifest that matches it)',
      (stamp) => replaceConfig(stamp, '{"format": "zwan-sim-msp-config/1", '),
      /msp-config\.json is not valid JSON/,
    ],
    [
      'the MSP config object valid JSON but not a configuration',
      (stamp) => replaceConfig(stamp, JSON.stringify({ format: 'zwan-sim-msp-config/1', site: 'DC' })),
      /MSP configuration restored into the DR director is invalid: exportedAt=undefined/,
    ],
  ];

  /** Overwrite the MSP config object with `body` and make the manifest agree with it. */
  async function replaceConfig(stamp: string, body: string): Promise<void> {
    const key = `msp/DC/${stamp}/msp-config.json`;
    const manifestKey = `msp/DC/${stamp}/manifest.json`;
    const manifest = JSON.parse((await read(manifestKey)).toString('utf8')) as { key: string }[];
    const entry = {
      key,
      bytes: Buffer.byteLength(body),
      sha256: createHash('sha256').update(body).digest('hex'),
    };
    await put(key, body);
    await put(manifestKey, JSON.stringify(manifest.map((e) => (e.key === key ? entry : e))));
  }

  test.each(sabotage)(
    'a restore from a backup with %s ends FAILED and leaves DR’s configuration unchanged',
    async (what, spoil, error) => {
      sim.faults.addCpe({ ...BR3, id: 'DR_ONLY', name: 'DR_ONLY' }, { directors: ['DR'] });
      const before = await dr.listCpes(TENANT);
      if (what === corruptFault) runner.injectFault('DC', { kind: 'corrupt' });
      expect((await backup('bad')).state).toBe('SUCCEEDED');
      await spoil('bad');

      const job = await restoreIntoDr('bad');

      expect(job.state).toBe('FAILED');
      expect(job.error).toMatch(error);
      expect(await dr.listCpes(TENANT)).toEqual(before);
      expect(runner.restoresOf('DR')).toEqual([]);
    },
  );

  test('the fail and hang job faults still work on restores', async () => {
    expect((await backup('ok')).state).toBe('SUCCEEDED');
    runner.injectFault('DR', { kind: 'fail', message: 'DR director out of disk' });
    runner.injectFault('DR', { kind: 'hang' });
    sim.faults.addCpe(BR3, { directors: ['DC'] });
    expect(await restoreIntoDr('ok')).toMatchObject({ state: 'FAILED', error: 'DR director out of disk' });
    const hung = await dr.startRestore('msp', at('ok'));
    await runner.idle();
    expect((await dr.getJob(hung.jobId)).state).toBe('RUNNING');
    expect(await ids(dr)).toEqual(LAB);
  });
});

describe('branches follow a management URL', () => {
  test('setManagementUrl at DR moves provisioning branches to DR; SSH ones stay until rebooted', async () => {
    expect(sim.world.mustGet('BR1').managedBy).toBe('DC');
    expect(sim.world.mustGet('BR2').managedBy).toBe('DC');

    // Allowed on the PASSIVE DR director (the switchover sets it).
    await dr.setManagementUrl('https://director-dr.example.net');

    expect(sim.world.mustGet('BR1').managedBy).toBe('DR');
    expect(sim.world.mustGet('BR2').managedBy).toBe('DC');
    sim.faults.setSiteRole('DR', 'ACTIVE');
    await dr.fence(TENANT, 'Chennai', 1);
    await expect(dr.repoint(repointTo('BR1', 'DR', 1))).resolves.toMatchObject({ changed: true });
    // DR re-pointing the DC-managed SSH branch is refused with the reason; nothing moved.
    const refused = await dr.repoint(repointTo('BR2', 'DR', 1)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DirectorRequestError);
    expect(refused).not.toBeInstanceOf(StaleEpochError);
    expect((refused as Error).message).toMatch(
      /NOT_MANAGED: branch BR2 is managed by the DC director, not by the DR director \(SSH-onboarded/,
    );
    expect(sim.world.currentTarget('BR2')).toBe('HA_DC1');
    // The group re-point reports that branch as not moved, with the reason; the others proceed.
    sim.world.driftBranch('BR1', 'HA_DC1');
    const group = await dr.updateGroupBranches(TENANT, 'Chennai', { epoch: 1, targetCpeId: 'DR' });
    expect(group.branches).toEqual([
      { branchId: 'BR1', changed: true },
      {
        branchId: 'BR2',
        changed: false,
        code: 'NOT_MANAGED',
        managedBy: 'DC',
        error: expect.stringMatching(/managed by the DC director/) as unknown as string,
      },
    ]);
    expect(sim.world.currentTarget('BR1')).toBe('DR');
    expect(sim.world.currentTarget('BR2')).toBe('HA_DC1');

    // The reboot control (every SSH-onboarded CPE): BR2 now takes the URL the provisioning server hands out.
    const res = await fetch(`${sim.origin}/_sim/faults/reboot`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    expect(sim.world.mustGet('BR2').managedBy).toBe('DR');
    await expect(dr.repoint(repointTo('BR2', 'DR', 1))).resolves.toMatchObject({ changed: true });
    expect(sim.world.currentTarget('BR2')).toBe('DR');
    const state = (await (await fetch(`${sim.origin}/_sim/state`)).json()) as {
      provisioningSite: string;
      cpes: { id: string; managedBy: string }[];
    };
    expect(state.provisioningSite).toBe('DR');
    expect(state.cpes.filter((c) => c.id.startsWith('BR')).map((c) => c.managedBy)).toEqual(['DR', 'DR']);
  });

  test('failback: the URL back at DC takes provisioning branches back; an SSH branch needs its own reboot', async () => {
    await dr.setManagementUrl('https://director-dr.example.net');
    sim.faults.reboot(['BR2']);
    expect(sim.world.mustGet('BR2').managedBy).toBe('DR');

    await dc.setManagementUrl('https://director-dc.example.net');

    expect(sim.world.mustGet('BR1').managedBy).toBe('DC');
    expect(sim.world.mustGet('BR2').managedBy).toBe('DR');
    await expect(dc.repoint(repointTo('BR2', 'HA_DC2', 1))).rejects.toThrow(
      /NOT_MANAGED: branch BR2 is managed by the DR director/,
    );
    await expect(dc.repoint(repointTo('BR1', 'HA_DC2', 1))).resolves.toMatchObject({ changed: true });
    const bad = await fetch(`${sim.origin}/_sim/faults/reboot`, {
      method: 'POST',
      body: JSON.stringify({ cpeIds: 'BR2' }),
    });
    expect(bad.status).toBe(400);
    expect(
      await fetch(`${sim.origin}/_sim/faults/reboot`, {
        method: 'POST',
        body: JSON.stringify({ cpeIds: ['nope'] }),
      }).then((r) => r.status),
    ).toBe(404);
    const ok = await fetch(`${sim.origin}/_sim/faults/reboot`, {
      method: 'POST',
      body: JSON.stringify({ cpeIds: ['BR2'] }),
    });
    expect(ok.status).toBe(200);
    await expect(dc.repoint(repointTo('BR2', 'HA_DC2', 1))).resolves.toMatchObject({ changed: true });
  });
});

describe('a PASSIVE director refuses writes', () => {
  test('setHaState, re-point and group re-point → DirectorPassiveError (a StaleEpochError); fence, listing, health and jobs still work', async () => {
    expect((await dr.health()).role).toBe('PASSIVE');

    const ha = await dr.setHaState(TENANT, 'DR', 'PASSIVE', 1).catch((e: unknown) => e);
    expect(ha).toBeInstanceOf(DirectorPassiveError);
    expect(ha).toBeInstanceOf(StaleEpochError);
    expect(ha).toMatchObject({ name: 'DirectorPassiveError', site: 'DR' });
    await expect(dr.repoint(repointTo('BR1', 'DR', 1))).rejects.toThrow(DirectorPassiveError);
    await expect(dr.updateGroupBranches(TENANT, 'Chennai', { epoch: 1 })).rejects.toThrow(
      DirectorPassiveError,
    );
    // Nothing was applied, not even the epoch.
    expect(sim.world.mustGet('DR').haRole).toBe('ACTIVE');
    expect(sim.world.currentTarget('BR1')).toBe('HA_DC1');
    expect(sim.world.epochs.DR.has(KEY)).toBe(false);

    await dr.fence(TENANT, 'Chennai', 3);
    expect(sim.world.epochs.DR.get(KEY)).toBe(3);
    expect(await ids(dr)).toEqual(LAB);
    expect((await dr.sampleHealth(TENANT, ['BR1']))[0]).toMatchObject({ reachable: true });
    expect((await backup('passive')).state).toBe('SUCCEEDED');
    expect((await restoreIntoDr('passive')).state).toBe('SUCCEEDED');

    // The DC director, made PASSIVE through the adapter, refuses too, and takes writes again once ACTIVE.
    await dc.setSiteRole('PASSIVE');
    await expect(dc.repoint(repointTo('BR1', 'HA_DC2', 1))).rejects.toThrow(DirectorPassiveError);
    await dc.setSiteRole('ACTIVE');
    await expect(dc.repoint(repointTo('BR1', 'HA_DC2', 1))).resolves.toMatchObject({ changed: true });
  });
});

describe('one world for the DR workflows', () => {
  test('createDrWorld given a running simulator attaches the S3 job runner to it and leaves it running', async () => {
    const [table, assembly] = await Promise.all([createTestTable('restore', { ttl: false }), testAssembly()]);
    try {
      const { templates } = assembly;
      const world = await createDrWorld({
        doc: table.doc,
        tableName: table.tableName,
        s3,
        bucket,
        definitions: drDefinitionsFromTemplate(templates.stateless, templates.config.region),
        simulator: sim,
        startAt: Date.parse('2026-11-23T12:00:00Z'),
      });
      expect(world.sim).toBe(sim);
      sim.faults.addCpe(BR3, { directors: ['DC'] });

      const r = await world.run('Backup', { trigger: 'on-demand' });
      expect(r.status).toBe('SUCCEEDED');

      const config = JSON.parse(
        (await read('msp/DC/2026-11-23T12-00-00Z/msp-config.json')).toString('utf8'),
      ) as MspConfig;
      expect(config.tenants[0]?.cpes.map((c) => c.id)).toEqual([...LAB, 'BR3']);
      expect(world.runner.history().map((h) => [h.site, h.job.kind, h.job.state])).toEqual([
        ['DC', 'backup', 'SUCCEEDED'],
      ]);
      // A job started: the runner can no longer be swapped under it.
      expect(() => sim.setJobRunner(runner)).toThrow(/already started/);
      await world.close();
      expect(await dc.health()).toMatchObject({ reachable: true, role: 'ACTIVE' });
    } finally {
      await table.drop();
    }
  });
});
