/**
 * The zWAN simulator's world, in memory: each director's own configuration (export, import,
 * isolation), branch management (management URL, reboot) and the PASSIVE refusal, through the
 * world and the in-process dispatch (no socket).
 */
import { ValidationError } from '../../../shared/errors.js';
import { createZwanSimulator, generateTopology, type ZwanSimulator } from '../../../local/simulator/index.js';
import { SIM_API_KEY } from '../../../local/simulator/zwan/server.js';

const TENANT = 'lab-tenant';
const ids = (sim: ZwanSimulator, site: 'DC' | 'DR') =>
  sim.world.listCpes(site, TENANT, 0, 100).items.map((c) => c.id);

let sim: ZwanSimulator;
beforeEach(async () => {
  sim = await createZwanSimulator({ listen: false });
});

async function call(site: 'DC' | 'DR', method: string, path: string, json?: unknown) {
  const r = await sim.dispatch({
    method,
    url: new URL(`${sim.url(site)}${path}`),
    headers: { 'x-api-key': SIM_API_KEY },
    ...(json !== undefined ? { json } : {}),
  });
  if (r.kind !== 'reply') throw new Error(`no reply: ${r.kind}`);
  return r as { status: number; body: { error?: { code: string; message: string } } };
}

describe('director configurations', () => {
  test('export → import is the identity on what a director lists, and replaces (not merges)', () => {
    const exported = sim.world.exportConfig('DC');
    sim.world.addCpe(
      { id: 'X1', name: 'X1', tenantId: TENANT, metadata: { HA_NAME: 'Other' } },
      { directors: ['DR'] },
    );
    const dcListing = sim.world.listCpes('DC', TENANT, 0, 100).items;

    sim.world.importConfig('DR', JSON.parse(JSON.stringify(exported)));

    expect(sim.world.listCpes('DR', TENANT, 0, 100).items).toEqual(dcListing);
    expect(ids(sim, 'DR')).not.toContain('X1');
  });

  test('an invalid configuration is refused with the field and changes nothing', () => {
    const before = ids(sim, 'DR');
    const exported = sim.world.exportConfig('DC');
    const dup = {
      ...exported,
      tenants: [
        {
          ...exported.tenants[0],
          cpes: [...(exported.tenants[0]?.cpes ?? []), exported.tenants[0]?.cpes[0]],
        },
      ],
    };
    expect(() => sim.world.importConfig('DR', dup)).toThrow(
      /tenants\.0\.cpes\.5\.id="HA_DC1": expected an id used once/,
    );
    expect(() => sim.world.importConfig('DR', { ...exported, format: 'v0' })).toThrow(ValidationError);
    expect(ids(sim, 'DR')).toEqual(before);
  });

  test('a CPE onboarded at one director only is listed, fenced and written by that director only', async () => {
    sim.world.addCpe(
      {
        id: 'MDU_DC1',
        name: 'MDU_DC1',
        tenantId: TENANT,
        metadata: { CPE_TYPE: 'DC', CPE_MODE: 'HA', HA_STATE: 'ACTIVE', HA_NAME: 'Madurai' },
      },
      { directors: ['DC'] },
    );
    expect(ids(sim, 'DC')).toContain('MDU_DC1');
    expect(ids(sim, 'DR')).not.toContain('MDU_DC1');
    expect((await call('DR', 'GET', `/tenants/${TENANT}/cpes/MDU_DC1`)).status).toBe(404);
    expect((await call('DR', 'PUT', `/tenants/${TENANT}/ha-groups/Madurai/epoch`, { epoch: 1 })).status).toBe(
      404,
    );
    expect((await call('DC', 'PUT', `/tenants/${TENANT}/ha-groups/Madurai/epoch`, { epoch: 1 })).status).toBe(
      200,
    );
    sim.world.deleteCpe('MDU_DC1', { directors: ['DC'] });
    expect(ids(sim, 'DC')).not.toContain('MDU_DC1');
    expect(sim.world.cpes.has('MDU_DC1')).toBe(true); // the hardware is still there
    expect(() => sim.world.deleteCpe('MDU_DC1', { directors: ['DR'] })).toThrow(
      /not configured on the DR director/,
    );
  });

  test('generated topologies: both directors hold everything; every branch provisioning-onboarded, managed by DC', async () => {
    const big = await createZwanSimulator({
      listen: false,
      topology: generateTopology({ groups: 2, branchesPerGroup: 3 }),
    });
    expect(big.world.configs.DR.cpes.size).toBe(big.world.cpes.size);
    expect(
      [...big.world.cpes.values()].every((c) => c.onboardedBy === 'provisioning' && c.managedBy === 'DC'),
    ).toBe(true);
  });
});

describe('writes: PASSIVE and NOT_MANAGED', () => {
  test('a PASSIVE director answers 409 DIRECTOR_PASSIVE to every write; fence and management URL still work', async () => {
    const repoint = {
      targetCpeId: 'DR',
      epoch: 1,
      tunnels: [{ haTunnelIdentifier: 'CHENNAI-HA-00', tunnelId: 'd4e8a0b3' }],
    };
    const writes = [
      call('DR', 'PUT', `/tenants/${TENANT}/cpes/DR/ha-state`, { state: 'ACTIVE', epoch: 1 }),
      call('DR', 'POST', `/tenants/${TENANT}/cpes/BR1/repoint`, repoint),
      call('DR', 'POST', `/tenants/${TENANT}/ha-groups/Chennai/update-branches`, { epoch: 1 }),
    ];
    for (const r of await Promise.all(writes)) {
      expect(r.status).toBe(409);
      expect(r.body.error?.code).toBe('DIRECTOR_PASSIVE');
    }
    expect((await call('DR', 'PUT', `/tenants/${TENANT}/ha-groups/Chennai/epoch`, { epoch: 1 })).status).toBe(
      200,
    );
    expect(
      (await call('DR', 'PUT', '/provisioning/management-url', { url: 'https://dr.example.net' })).status,
    ).toBe(200);
    // Now DR manages BR1 (provisioning) and, made ACTIVE, may re-point it; not BR2 (SSH).
    await call('DR', 'PUT', '/site/role', { role: 'ACTIVE' });
    expect((await call('DR', 'POST', `/tenants/${TENANT}/cpes/BR1/repoint`, repoint)).status).toBe(200);
    const br2 = await call('DR', 'POST', `/tenants/${TENANT}/cpes/BR2/repoint`, repoint);
    expect(br2.status).toBe(409);
    expect(br2.body.error).toMatchObject({ code: 'NOT_MANAGED', branchId: 'BR2', managedBy: 'DC' });
    expect(sim.world.currentTarget('BR2')).toBe('HA_DC1');
    expect(sim.faults.reboot()).toEqual(['BR2']);
    expect((await call('DR', 'POST', `/tenants/${TENANT}/cpes/BR2/repoint`, repoint)).status).toBe(200);
  });

  test('setJobRunner swaps the runner before the first job, and refuses after', async () => {
    const started: string[] = [];
    const runner = {
      startBackup: (site: 'DC' | 'DR') => {
        started.push(site);
        return { jobId: `j-${site}`, kind: 'backup' as const, state: 'SUCCEEDED' as const, progressPct: 100 };
      },
      startRestore: () => {
        throw new Error('not used');
      },
      getJob: () => undefined,
      attached: [] as unknown[],
      attach(configs: unknown) {
        this.attached.push(configs);
      },
    };
    sim.setJobRunner(runner);
    expect(runner.attached).toEqual([sim.world]);
    const body = { scope: 'msp', bucket: 'bkt', mspPrefix: 'm/', elkPrefix: 'e/', clientToken: 't1' };
    expect((await call('DC', 'POST', '/backups', body)).status).toBe(202);
    expect(started).toEqual(['DC']);
    expect(() => sim.setJobRunner(runner)).toThrow(/already started/);
  });
});

test('a job answer shares nothing with the job the runner keeps (in-process answers go uncopied)', async () => {
  const manifest = [{ key: 'm/config.json', bytes: 12, sha256: 'a'.repeat(64) }];
  const job = {
    jobId: 'j1',
    kind: 'backup' as const,
    state: 'SUCCEEDED' as const,
    progressPct: 100,
    manifest,
  };
  sim.setJobRunner({
    startBackup: () => job,
    startRestore: () => job,
    getJob: (_site: 'DC' | 'DR', id: string) => (id === 'j1' ? job : undefined),
    attach() {},
  });
  const first = (await call('DC', 'GET', '/jobs/j1')) as unknown as {
    status: number;
    body: { manifest: { key: string; bytes: number }[] };
  };
  expect(first.status).toBe(200);
  expect(first.body.manifest).toEqual(manifest);
  // Whoever got the answer changes it: the job and the next answer are as they were.
  const entry = first.body.manifest[0];
  if (entry) entry.bytes = 0;
  first.body.manifest.push({ key: 'x', bytes: 1 });
  expect(job.manifest).toEqual([{ key: 'm/config.json', bytes: 12, sha256: 'a'.repeat(64) }]);
  expect(((await call('DC', 'GET', '/jobs/j1')).body as { manifest: unknown }).manifest).toEqual(
    job.manifest,
  );
});

describe('request log and routing', () => {
  test('every request is logged by default; maxLoggedRequests 0 logs none and answers the same', async () => {
    const health = await call('DC', 'GET', '/health');
    const known = await call('DC', 'GET', `/tenants/${TENANT}/cpes?limit=2`);
    const wrongMethod = await call('DC', 'DELETE', '/health');
    const unknown = await call('DC', 'GET', '/no/such/route');
    expect([health.status, known.status, wrongMethod.status, unknown.status]).toEqual([200, 200, 405, 404]);
    expect(sim.requests.map((r) => [r.operation, r.status])).toEqual([
      ['getDirectorHealth', 200],
      ['listCpes', 200],
      [undefined, 405],
      [undefined, 404],
    ]);

    const quiet = await createZwanSimulator({ listen: false, maxLoggedRequests: 0 });
    const r = await quiet.dispatch({
      method: 'GET',
      url: new URL(`${quiet.url('DC')}/tenants/${TENANT}/cpes?limit=2`),
      headers: { 'x-api-key': SIM_API_KEY },
    });
    expect(r.kind === 'reply' && r.status).toBe(200);
    expect(r.kind === 'reply' && r.body).toEqual(known.body);
    expect(quiet.requests).toEqual([]);
  });
});
