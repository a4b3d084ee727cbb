/**
 * The zWAN adapter against the simulator over real HTTP: every exchange validates against the
 * OpenAPI document, and the adapter's retry, timeout, auth, fencing and re-point behaviour.
 */
import type { Clock } from '../../../shared/director/http.js';
import {
  createZwanDirector,
  type ZwanDirector,
  type ZwanDirectorOptions,
} from '../../../shared/director/zwan/adapter.js';
import type { DirectorJob } from '../../../shared/director/port.js';
import type { RepointAction, SiteName } from '../../../shared/domain/model.js';
import {
  DirectorAuthError,
  DirectorPassiveError,
  DirectorRequestError,
  DirectorUnavailableError,
  StaleEpochError,
  ValidationError,
} from '../../../shared/errors.js';
import {
  createZwanSimulator,
  InstantJobRunner,
  generatedIds,
  generateTopology,
  SIM_API_KEY,
  type ZwanSimulator,
} from '../../../local/simulator/index.js';
import { loadZwanContract } from './zwan-openapi.js';

const TENANT = 'lab-tenant';
const IDENT = 'CHENNAI-HA-00';
const TID = { HA_DC1: '5e1c0a7d', HA_DC2: '9b2f4c11', DR: 'd4e8a0b3' } as const;
const contract = loadZwanContract();

/** A clock whose sleeps return at once (retries without waiting) and can run a hook. */
function instantClock(onSleep?: (n: number) => void): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => Date.now(),
    sleep: async (ms) => {
      sleeps.push(ms);
      onSleep?.(sleeps.length);
    },
  };
}

let sim: ZwanSimulator;
function director(extra: Partial<ZwanDirectorOptions> = {}): ZwanDirector {
  return createZwanDirector({
    site: 'DC',
    baseUrl: sim.url('DC'),
    apiKey: async () => SIM_API_KEY,
    timeoutMs: 2000,
    retries: 2,
    clock: instantClock(),
    ...extra,
  });
}

function repointTo(branchId: string, target: keyof typeof TID, epoch: number): RepointAction {
  return {
    groupKey: `${TENANT}#Chennai`,
    tenantId: TENANT,
    branchId,
    targetId: target,
    epoch,
    tunnels: [{ haTunnelIdentifier: IDENT, tunnelId: TID[target] }],
  };
}

async function tunnelOf(d: ZwanDirector, id: string) {
  return (await d.getCpe(TENANT, id)).tunnels[0];
}

beforeEach(async () => {
  sim = await createZwanSimulator();
});
afterEach(async () => {
  // Every exchange of every test conforms to the contract.
  expect(contract.checkAll(sim.requests)).toEqual([]);
  await sim.close();
});

describe('contract', () => {
  test('listCpes with haName lists that HA group only, on every page (the fan-out reads its own group)', async () => {
    sim.world.addCpe({
      id: 'MDU_DC1',
      name: 'MDU_DC1',
      tenantId: TENANT,
      metadata: { CPE_TYPE: 'DC', CPE_MODE: 'HA', HA_STATE: 'ACTIVE', HA_NAME: 'Madurai' },
    });
    try {
      const d = director({ pageSize: 2 });
      sim.clearRequests();
      const chennai = await d.listCpes(TENANT, { haName: 'Chennai' });
      expect(chennai.map((c) => c.id)).toEqual(['HA_DC1', 'HA_DC2', 'DR', 'BR1', 'BR2']);
      const pages = sim.requests.filter((r) => r.operation === 'listCpes');
      expect(pages).toHaveLength(3);
      expect(pages.every((r) => r.query.haName === 'Chennai')).toBe(true);
      expect((await d.listCpes(TENANT, { haName: 'Madurai' })).map((c) => c.id)).toEqual(['MDU_DC1']);
      expect((await d.listCpes(TENANT)).map((c) => c.id)).toContain('MDU_DC1');
    } finally {
      sim.world.deleteCpe('MDU_DC1');
    }
  });

  test('every operation the adapter uses, success and error answers, validates against openapi.yaml', async () => {
    const d = director({ pageSize: 2 });
    const cpes = await d.listCpes(TENANT);
    expect(cpes.map((c) => c.id)).toEqual(['HA_DC1', 'HA_DC2', 'DR', 'BR1', 'BR2']);
    const dc1 = cpes[0];
    expect(dc1?.metadata).toMatchObject({
      CPE_TYPE: 'DC',
      HA_STATE: 'ACTIVE',
      HA_NAME: 'Chennai',
      WAN00_PUB_PORT: '30000',
    });
    expect(dc1?.lans).toEqual([{ name: 'LAN00', cidr: '172.7.0.1/24', virtualIp: '172.7.0.5' }]);
    expect(dc1?.tunnels).toEqual([
      { name: 'IPSEC00', haTunnelIdentifier: IDENT, tunnelId: TID.HA_DC1, state: 'ESTABLISHED' },
    ]);
    expect(cpes[1]?.tunnels[0]?.state).toBe('CREATED');
    expect(sim.requests.filter((r) => r.operation === 'listCpes')).toHaveLength(3);

    sim.faults.cpeDown('HA_DC1');
    expect(await d.sampleHealth(TENANT, ['HA_DC1', 'HA_DC2', 'gone'])).toEqual([
      expect.objectContaining({ target: 'HA_DC1', reachable: false, lossPct: 100, latencyMs: null }),
      expect.objectContaining({ target: 'HA_DC2', reachable: true, lossPct: 0, latencyMs: 12 }),
      expect.objectContaining({ target: 'gone', reachable: false, lossPct: null }),
    ]);
    await d.setHaState(TENANT, 'HA_DC2', 'ACTIVE', 1);
    expect(await d.repoint(repointTo('BR1', 'HA_DC2', 1))).toEqual({
      branchId: 'BR1',
      targetId: 'HA_DC2',
      epoch: 1,
      changed: true,
    });
    expect((await d.getCpe(TENANT, 'BR1')).tunnels).toEqual([
      { name: 'IPSEC00', haTunnelIdentifier: IDENT, tunnelId: TID.HA_DC2, state: 'ESTABLISHED' },
    ]);
    await expect(d.repoint(repointTo('BR2', 'DR', 0))).rejects.toThrow(StaleEpochError);
    await expect(d.setHaState(TENANT, 'HA_DC1', 'ACTIVE', 0)).rejects.toThrow(StaleEpochError);
    await d.fence(TENANT, 'Chennai', 1); // an equal epoch: accepted (a retry)
    await expect(d.fence(TENANT, 'Chennai', 0)).rejects.toMatchObject({
      name: 'StaleEpochError',
      currentEpoch: 1,
    });
    await expect(d.fence(TENANT, 'NoSuchGroup', 1)).rejects.toThrow(DirectorRequestError);
    const group = await d.updateGroupBranches(TENANT, 'Chennai', { epoch: 1 });
    expect(group).toEqual({
      haName: 'Chennai',
      targetCpeId: 'HA_DC2',
      epoch: 1,
      branches: [
        { branchId: 'BR1', changed: false },
        { branchId: 'BR2', changed: true },
      ],
    });
    expect(await d.health()).toEqual({
      site: 'DC',
      reachable: true,
      healthy: true,
      role: 'ACTIVE',
      version: 'zwan-sim 1.0',
    });
    await d.setSiteRole('PASSIVE');
    expect(await d.getSiteRole()).toBe('PASSIVE');
    // A PASSIVE director refuses every write (409 DIRECTOR_PASSIVE), whatever the epoch.
    await expect(d.setHaState(TENANT, 'HA_DC1', 'ACTIVE', 9)).rejects.toThrow(DirectorPassiveError);
    await expect(d.repoint(repointTo('BR1', 'HA_DC1', 9))).rejects.toThrow(DirectorPassiveError);
    await expect(d.updateGroupBranches(TENANT, 'Chennai', { epoch: 9 })).rejects.toThrow(
      DirectorPassiveError,
    );
    const backup = await d.startBackup('msp', {
      bucket: 'cpe-backups',
      mspPrefix: 'msp/DC/x/',
      elkPrefix: 'dcrepository/x/',
    });
    expect(await d.getJob(backup.jobId)).toMatchObject({ kind: 'backup', state: 'SUCCEEDED', manifest: [] });
    const restore = await d.startRestore('msp', {
      bucket: 'cpe-backups',
      mspPrefix: 'msp/DC/x/',
      elkPrefix: 'dcrepository/x/',
    });
    expect(restore.kind).toBe('restore');
    await d.setManagementUrl('https://director-dr.lab.example:7081');
    expect(await d.getManagementUrl()).toBe('https://director-dr.lab.example:7081');
    expect(await d.listSshOnboarded()).toEqual([
      { id: 'BR2', name: 'BR2', tenantId: TENANT, onboardedAt: '2026-01-12T09:25:00Z' },
    ]);
    await d.setSiteRole('ACTIVE');
    // Error answers are part of the contract too.
    await expect(d.listCpes('no-such-tenant')).rejects.toThrow(DirectorRequestError);
    await expect(d.getJob('no-such-job')).rejects.toThrow(DirectorRequestError);
    await expect(
      d.repoint({
        ...repointTo('BR1', 'HA_DC1', 5),
        tunnels: [{ haTunnelIdentifier: IDENT, tunnelId: 'wrong' }],
      }),
    ).rejects.toThrow(/TUNNEL_MISMATCH/);
    await expect(director({ apiKey: async () => 'wrong' }).health()).rejects.toThrow(DirectorAuthError);

    const used = new Set(sim.requests.map((r) => r.operation));
    expect(contract.operationIds.filter((id) => !used.has(id))).toEqual([]);
  });

  test('the validator itself rejects what breaks the contract', () => {
    const base = { method: 'POST', path: `/tenants/${TENANT}/cpe-health`, query: {}, status: 200 };
    expect(
      contract.check({ ...base, requestBody: { cpeIds: ['a'] }, responseBody: { at: 'x', results: [] } }),
    ).toEqual([expect.stringContaining('response 200')]);
    expect(
      contract.check({
        ...base,
        requestBody: { cpeIds: [] },
        responseBody: { at: new Date().toISOString(), results: [], unknownIds: [] },
      }),
    ).toEqual([expect.stringContaining('request body')]);
    expect(contract.check({ ...base, status: 418, requestBody: { cpeIds: ['a'] } })).toEqual([
      expect.stringContaining('status 418 is not declared'),
    ]);
    expect(contract.check({ method: 'GET', path: '/nope', query: {}, status: 200 })).toEqual([
      expect.stringContaining('no operation'),
    ]);
    expect(
      contract.check({
        method: 'GET',
        path: `/tenants/${TENANT}/cpes`,
        query: { limit: '5000' },
        status: 200,
        responseBody: { items: [] },
      }),
    ).toEqual([expect.stringContaining('query parameter limit=5000')]);
    // A job start must carry its client token.
    const location = {
      scope: 'msp',
      bucket: 'cpe-backups',
      mspPrefix: 'msp/DC/x/',
      elkPrefix: 'dcrepository/x/',
    };
    const job = { jobId: 'j1', kind: 'backup', state: 'RUNNING', progressPct: 0 };
    expect(
      contract.check({
        method: 'POST',
        path: '/backups',
        query: {},
        status: 202,
        requestBody: location,
        responseBody: job,
      }),
    ).toEqual([expect.stringContaining("must have required property 'clientToken'")]);
    expect(
      contract.check({
        method: 'POST',
        path: '/restores',
        query: {},
        status: 200,
        requestBody: { ...location, clientToken: 'a b' },
        responseBody: { ...job, kind: 'restore' },
      }),
    ).toEqual([expect.stringContaining('/clientToken must match pattern')]);
  });
});

/** The default job runner, keeping every job it started. */
class CountingJobRunner extends InstantJobRunner {
  readonly started: DirectorJob[] = [];
  override startBackup(site: SiteName): DirectorJob {
    return this.keep(super.startBackup(site));
  }
  override startRestore(site: SiteName): DirectorJob {
    return this.keep(super.startRestore(site));
  }
  private keep(job: DirectorJob): DirectorJob {
    this.started.push(job);
    return job;
  }
}

describe('job starts are idempotent by client token', () => {
  const at = (x: string) => ({
    bucket: 'cpe-backups',
    mspPrefix: `msp/DC/${x}/`,
    elkPrefix: `dcrepository/${x}/`,
  });
  let runner: CountingJobRunner;
  beforeEach(async () => {
    await sim.close();
    runner = new CountingJobRunner();
    sim = await createZwanSimulator({ jobs: runner });
  });
  const starts = () =>
    sim.requests
      .filter((r) => r.operation === 'startBackup' || r.operation === 'startRestore')
      .map((r) => ({ status: r.status, token: (r.requestBody as { clientToken?: string }).clientToken }));

  test('the same token twice starts one job and returns its jobId; another request under it is a 409', async () => {
    const d = director();
    const first = await d.startBackup('msp', at('a'), { clientToken: 'step-1' });
    const again = await d.startBackup('msp', at('a'), { clientToken: 'step-1' });
    expect(again.jobId).toBe(first.jobId);
    expect(runner.started.map((j) => j.jobId)).toEqual([first.jobId]);
    expect(starts()).toEqual([
      { status: 202, token: 'step-1' },
      { status: 200, token: 'step-1' },
    ]);

    // Another location, or a restore, under the same token: refused, nothing started.
    for (const attempt of [
      () => d.startBackup('msp', at('b'), { clientToken: 'step-1' }),
      () => d.startRestore('msp', at('a'), { clientToken: 'step-1' }),
    ]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectorRequestError);
      expect((err as DirectorRequestError).status).toBe(409);
      expect((err as Error).message).toContain('CLIENT_TOKEN_REUSED');
      expect((err as Error).message).toContain(first.jobId);
    }
    expect(runner.started).toHaveLength(1);

    // A new token is a new job; tokens are per director (the DR director never saw step-1).
    const other = await d.startBackup('msp', at('a'), { clientToken: 'step-2' });
    const dr = await director({ site: 'DR', baseUrl: sim.url('DR') }).startRestore('msp', at('a'), {
      clientToken: 'step-1',
    });
    expect(new Set([first.jobId, other.jobId, dr.jobId]).size).toBe(3);
    expect(runner.started).toHaveLength(3);
  });

  test('a start whose answer is lost is retried by the adapter under the same token: one job', async () => {
    sim.faults.hangNextJobStarts(1);
    const job = await director({ timeoutMs: 200, retries: 2 }).startRestore('msp', at('a'));
    expect(runner.started.map((j) => j.jobId)).toEqual([job.jobId]);
    const [lost, retried, ...more] = starts();
    expect(more).toEqual([]);
    expect(lost?.status).toBe(0);
    expect(retried).toEqual({ status: 200, token: lost?.token });
    expect(lost?.token).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  });

  test('without a token every call gets its own; a malformed token is refused before sending', async () => {
    const d = director();
    const a = await d.startBackup('msp', at('a'));
    const b = await d.startBackup('msp', at('a'));
    expect(a.jobId).not.toBe(b.jobId);
    const [t1, t2] = starts().map((x) => x.token);
    expect(t1).not.toBe(t2);
    await expect(d.startBackup('msp', at('a'), { clientToken: 'exec/1 step' })).rejects.toThrow(
      ValidationError,
    );
    await expect(d.startBackup('msp', at('a'), { clientToken: 'x'.repeat(129) })).rejects.toThrow(
      /clientToken=/,
    );
    expect(starts()).toHaveLength(2);
    expect(runner.started).toHaveLength(2);
  });
});

describe('adapter behaviour over real HTTP', () => {
  test('retries 5xx with backoff, then succeeds', async () => {
    sim.faults.director('DC', { mode: 'error5xx' });
    const clock = instantClock((n) => {
      if (n === 2) sim.faults.director('DC', { mode: 'ok' });
    });
    const d = director({ retries: 3, clock });
    const cpes = await d.listCpes(TENANT);
    expect(cpes).toHaveLength(5);
    expect(sim.requests.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(clock.sleeps).toHaveLength(2);
  });

  test('5xx past the retries → DirectorUnavailableError; health reports unreachable instead of throwing', async () => {
    sim.faults.director('DC', { mode: 'error5xx' });
    const d = director({ retries: 2 });
    await expect(d.sampleHealth(TENANT, ['HA_DC1'])).rejects.toThrow(DirectorUnavailableError);
    expect(sim.requests).toHaveLength(3);
    expect(await d.health()).toEqual({ site: 'DC', reachable: false, healthy: false });
  });

  test('a hanging director times out → DirectorUnavailableError', async () => {
    sim.faults.director('DC', { mode: 'hang' });
    const d = director({ timeoutMs: 150, retries: 1 });
    const err = await d.listCpes(TENANT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectorUnavailableError);
    expect((err as Error).message).toMatch(/zwan-DC GET .*timed out after 150 ms/);
    expect(sim.requests.map((r) => r.fault)).toEqual(['hang', 'hang']);
  });

  test('a powered-off site drops connections; the other site still answers', async () => {
    sim.faults.siteDown('DC');
    const dc = director({ retries: 1 });
    await expect(dc.listCpes(TENANT)).rejects.toThrow(/connection failed/);
    const dr = director({ site: 'DR', baseUrl: sim.url('DR') });
    const samples = await dr.sampleHealth(TENANT, ['HA_DC1', 'HA_DC2', 'DR', 'BR1']);
    expect(samples.map((s) => s.reachable)).toEqual([false, false, true, true]);
    expect(await dr.health()).toMatchObject({ site: 'DR', reachable: true, role: 'PASSIVE' });
  });

  test('401 → DirectorAuthError naming the director and the tenant, never retried', async () => {
    const d = director({ apiKey: async () => 'not-the-key', retries: 3 });
    const err = await d.listCpes(TENANT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectorAuthError);
    expect((err as Error).message).toContain('zwan-DC');
    expect((err as Error).message).toContain(`tenant ${TENANT}`);
    expect((err as Error).message).not.toContain('not-the-key');
    expect(sim.requests).toHaveLength(1);
  });

  test('after a 401 a rotatable key is re-read once', async () => {
    let current = 'old-key';
    const apiKey = Object.assign(async () => current, { invalidate: () => (current = SIM_API_KEY) });
    const d = director({ apiKey });
    expect(await d.getSiteRole()).toBe('ACTIVE');
    expect(sim.requests.map((r) => r.status)).toEqual([401, 200]);
  });

  test('4xx is never retried', async () => {
    const d = director({ retries: 3 });
    const err = await d.listCpes('no-such-tenant').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectorRequestError);
    expect((err as DirectorRequestError).status).toBe(404);
    expect((err as Error).message).toContain('no-such-tenant');
    expect(sim.requests).toHaveLength(1);
  });

  test('re-point moves the tunnel: new concentrator ESTABLISHED, old one CREATED', async () => {
    const d = director();
    await d.repoint(repointTo('BR1', 'HA_DC2', 1));
    expect(await tunnelOf(d, 'BR1')).toEqual({
      name: 'IPSEC00',
      haTunnelIdentifier: IDENT,
      tunnelId: TID.HA_DC2,
      state: 'ESTABLISHED',
    });
    expect((await tunnelOf(d, 'HA_DC2'))?.state).toBe('ESTABLISHED');
    expect((await tunnelOf(d, 'HA_DC1'))?.state).toBe('ESTABLISHED'); // BR2 still there
    await d.repoint(repointTo('BR2', 'HA_DC2', 1));
    expect((await tunnelOf(d, 'HA_DC1'))?.state).toBe('CREATED');
    expect(sim.world.currentTarget('BR2')).toBe('HA_DC2');
  });

  test('re-point is idempotent: one call per branch; the director answers changed: false when already right', async () => {
    const d = director();
    expect(await d.repoint(repointTo('BR1', 'HA_DC1', 3))).toMatchObject({ changed: false });
    expect(await d.repoint(repointTo('BR2', 'HA_DC2', 4))).toMatchObject({ changed: true });
    // A replay (retried invocation) of the same action moves nothing.
    expect(await d.repoint(repointTo('BR2', 'HA_DC2', 4))).toMatchObject({ changed: false });
    expect(sim.requests.map((r) => `${r.operation} ${r.status}`)).toEqual([
      'repointBranch 200',
      'repointBranch 200',
      'repointBranch 200',
    ]);
    expect(await tunnelOf(d, 'BR1')).toMatchObject({ tunnelId: TID.HA_DC1, state: 'ESTABLISHED' });
    expect(await tunnelOf(d, 'BR2')).toMatchObject({ tunnelId: TID.HA_DC2, state: 'ESTABLISHED' });
  });

  test('a stale epoch → StaleEpochError and nothing changes', async () => {
    const d = director();
    await d.repoint(repointTo('BR1', 'HA_DC2', 7));
    const err = await d.repoint(repointTo('BR2', 'DR', 6)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StaleEpochError);
    expect((err as Error).message).toMatch(/epoch 6 is older than 7.*Chennai/);
    expect((await tunnelOf(d, 'BR2'))?.tunnelId).toBe(TID.HA_DC1);
    // The same epoch is accepted for the concentrator it decided (a replayed or further action)…
    await expect(d.repoint(repointTo('BR2', 'HA_DC2', 7))).resolves.toMatchObject({ changed: true });
    // …and refused for another: one decision per epoch, so a number reused after a table restore
    // cannot land a second decision (the fan-out raises its epoch above the director's instead).
    const other = await d.repoint(repointTo('BR2', 'DR', 7)).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(StaleEpochError);
    expect((other as StaleEpochError).currentEpoch).toBe(7);
    expect((other as Error).message).toMatch(/epoch 7 of group Chennai was already decided for HA_DC2/);
    expect((await tunnelOf(d, 'BR2'))?.tunnelId).toBe(TID.HA_DC2);
  });

  test('a fence names the serving it decides for: the same epoch for another serving is refused', async () => {
    const d = director();
    await d.fence('lab-tenant', 'Chennai', 9, 'HA_DC2');
    await d.fence('lab-tenant', 'Chennai', 9, 'HA_DC2'); // a retried fan-out: accepted
    const err = await d.fence('lab-tenant', 'Chennai', 9, 'HA_DC1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StaleEpochError);
    expect((err as StaleEpochError).currentEpoch).toBe(9);
    await expect(d.setHaState('lab-tenant', 'HA_DC1', 'ACTIVE', 9)).rejects.toThrow(
      /already decided for HA_DC2/,
    );
    // PASSIVE at the decided epoch is the fan-out demoting the others: accepted.
    await expect(d.setHaState('lab-tenant', 'HA_DC1', 'PASSIVE', 9)).resolves.toBeUndefined();
    // A newer epoch is a new decision.
    await expect(d.fence('lab-tenant', 'Chennai', 10, 'HA_DC1')).resolves.toBeUndefined();
  });

  test('injected re-point failures are retried by the adapter', async () => {
    sim.faults.failNextRepoints(2);
    const d = director({ retries: 3 });
    await expect(d.repoint(repointTo('BR1', 'DR', 1))).resolves.toMatchObject({ changed: true });
    expect(sim.requests.filter((r) => r.operation === 'repointBranch').map((r) => r.status)).toEqual([
      503, 503, 200,
    ]);
  });

  test('HA state: ACTIVE moves the virtual IP within the site', async () => {
    const d = director();
    await d.setHaState(TENANT, 'HA_DC2', 'ACTIVE', 1);
    const cpes = await d.listCpes(TENANT);
    const byId = new Map(cpes.map((c) => [c.id, c]));
    expect(byId.get('HA_DC2')).toMatchObject({ haRole: 'ACTIVE', lans: [{ virtualIp: '172.7.0.5' }] });
    expect(byId.get('HA_DC1')?.haRole).toBe('PASSIVE');
    expect(byId.get('HA_DC1')?.lans[0]?.virtualIp).toBeUndefined();
    expect(byId.get('DR')?.haRole).toBe('ACTIVE');
    await expect(d.setHaState(TENANT, 'BR1', 'ACTIVE', 1)).rejects.toThrow(/NOT_A_CONCENTRATOR/);
  });

  test('sample health picks WAN00 and reports loss and latency', async () => {
    sim.faults.setLoss('HA_DC2', 40, 85);
    const d = director();
    const [s] = await d.sampleHealth(TENANT, ['HA_DC2']);
    expect(s).toMatchObject({ target: 'HA_DC2', reachable: true, lossPct: 40, latencyMs: 85 });
  });
});

describe('simulator', () => {
  test('fence raises a group epoch with no other call; each site director keeps its own fence', async () => {
    const dc = director();
    const dr = director({ site: 'DR', baseUrl: sim.url('DR') });
    await dc.fence(TENANT, 'Chennai', 7);
    expect(sim.requests.map((r) => r.operation)).toEqual(['fenceHaGroup']);
    // Nothing but the epoch changed; every older call is refused from now on.
    expect((await tunnelOf(dc, 'BR1'))?.tunnelId).toBe(TID.HA_DC1);
    await expect(dc.repoint(repointTo('BR1', 'HA_DC2', 6))).rejects.toMatchObject({
      name: 'StaleEpochError',
      currentEpoch: 7,
    });
    await expect(dc.setHaState(TENANT, 'HA_DC2', 'ACTIVE', 6)).rejects.toThrow(StaleEpochError);
    // The DR director never saw epoch 7 (made ACTIVE here: a PASSIVE director refuses writes).
    sim.faults.setSiteRole('DR', 'ACTIVE');
    await dr.fence(TENANT, 'Chennai', 6);
    await dr.setHaState(TENANT, 'DR', 'ACTIVE', 6);
    expect(sim.world.epochs.DC.get(`${TENANT}#Chennai`)).toBe(7);
    expect(sim.world.epochs.DR.get(`${TENANT}#Chennai`)).toBe(6);
  });

  test('replaced concentrators (reference scenarios 4 and 5): old ones listed and down, or deleted', async () => {
    const d = director();
    const dc3 = {
      id: 'HA_DC3',
      name: 'HA_DC3',
      tenantId: TENANT,
      metadata: {
        CPE_TYPE: 'DC',
        CPE_MODE: 'HA',
        HA_STATE: 'ACTIVE',
        HA_NAME: 'Chennai',
        WAN00_PUB_IP: '122.60.11.23',
        WAN00_PUB_PORT: '30000',
      },
      tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: IDENT, tunnelId: 'aa11bb22' }],
    };
    sim.faults.replaceCpe('HA_DC1', dc3);
    sim.faults.replaceCpe(
      'HA_DC2',
      {
        ...dc3,
        id: 'HA_DC4',
        name: 'HA_DC4',
        metadata: { ...dc3.metadata, HA_STATE: 'PASSIVE' },
        tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: IDENT, tunnelId: 'cc33dd44' }],
      },
      { deleteOld: true },
    );
    const ids = (await d.listCpes(TENANT)).map((c) => c.id);
    expect(ids).toEqual(['HA_DC1', 'DR', 'BR1', 'BR2', 'HA_DC3', 'HA_DC4']);
    expect((await d.sampleHealth(TENANT, ['HA_DC1']))[0]?.reachable).toBe(false);
    expect((await tunnelOf(d, 'BR1'))?.state).toBe('CREATED');
    const res = await d.updateGroupBranches(TENANT, 'Chennai', { epoch: 1, targetCpeId: 'HA_DC3' });
    expect(res.branches.every((b) => b.changed)).toBe(true);
    expect(await tunnelOf(d, 'BR1')).toMatchObject({ tunnelId: 'aa11bb22', state: 'ESTABLISHED' });
  });

  test('the HTTP fault and state API drives the same world', async () => {
    const post = (action: string, body: unknown) =>
      fetch(`${sim.origin}/_sim/faults/${action}`, { method: 'POST', body: JSON.stringify(body) });
    expect((await post('cpeDown', { id: 'BR1' })).status).toBe(200);
    expect(sim.world.alive(sim.world.mustGet('BR1'))).toBe(false);
    expect((await post('director', { site: 'DR', mode: 'sometimes' })).status).toBe(400);
    expect((await post('cpeUp', { id: 'nope' })).status).toBe(404);
    expect((await post('driftBranch', { branchId: 'BR2', concentratorId: 'DR' })).status).toBe(200);
    const state = (await (await fetch(`${sim.origin}/_sim/state`)).json()) as {
      cpes: { id: string; alive: boolean; target?: string }[];
    };
    expect(state.cpes.find((c) => c.id === 'BR1')?.alive).toBe(false);
    expect(state.cpes.find((c) => c.id === 'BR2')?.target).toBe('DR');
    await director().listCpes(TENANT);
    const log = (await (await fetch(`${sim.origin}/_sim/requests`)).json()) as {
      requests: { operation: string }[];
    };
    expect(log.requests.map((r) => r.operation)).toEqual(['listCpes']);
  });

  test('a bad topology is refused with the field and the value', async () => {
    await expect(
      createZwanSimulator({
        topology: {
          tenants: [{ id: 't', name: 'T' }],
          cpes: [{ id: 'a', name: 'a', tenantId: 'x', metadata: {} }],
        },
      }),
    ).rejects.toThrow(ValidationError);
    await expect(
      createZwanSimulator({
        topology: {
          tenants: [{ id: 't', name: 'T' }],
          cpes: [{ id: 'a', name: 'a', tenantId: 't', metadata: {}, lossPct: 140 }],
        },
      }),
    ).rejects.toThrow(/cpes\.0\.lossPct=140/);
  });

  test('10,000 CPEs: bulk health in ≤ 500-id calls, paged inventory, O(1) lookups', async () => {
    const big = await createZwanSimulator({
      topology: generateTopology({ groups: 100, branchesPerGroup: 96, tenants: 1 }),
    });
    try {
      const d = createZwanDirector({
        site: 'DC',
        baseUrl: big.url('DC'),
        apiKey: async () => SIM_API_KEY,
        pageSize: 1000,
        concurrency: 4,
      });
      const tenant = generatedIds.tenant(0);
      const cpes = await d.listCpes(tenant);
      expect(cpes).toHaveLength(10_000);
      big.faults.cpeDown(generatedIds.concentrator(42, 'dc1'));
      const ids = cpes.map((c) => c.id);
      const samples = await d.sampleHealth(tenant, ids);
      expect(samples.map((s) => s.target)).toEqual(ids);
      expect(samples.filter((s) => !s.reachable).map((s) => s.target)).toEqual([
        generatedIds.concentrator(42, 'dc1'),
      ]);
      const calls = big.requests.filter((r) => r.operation === 'queryCpeHealth');
      expect(calls).toHaveLength(20);
      expect(calls.every((r) => (r.requestBody as { cpeIds: string[] }).cpeIds.length <= 500)).toBe(true);
      expect(big.requests.filter((r) => r.operation === 'listCpes')).toHaveLength(10);
    } finally {
      await big.close();
    }
  });
});
