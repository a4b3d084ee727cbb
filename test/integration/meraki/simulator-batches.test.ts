import { generateOrganization } from '../../../local/simulator/meraki/generate.js';
import { realisticBatchDurationMs, type SimBatchAction } from '../../../local/simulator/meraki/server.js';
import { clockedSim, type ClockedSim } from './simulator-helpers.js';

interface BatchBody {
  id: string;
  confirmed: boolean;
  synchronous: boolean;
  status: { completed: boolean; failed: boolean; errors: string[] };
  actions: unknown[];
}

const PARIS = ['branch', 'london_primary_down', 'paris_backup_up'];
const retag = (ids: number[], tags: string[] = PARIS) =>
  ids.map((i) => ({ resource: `/networks/N_o1_${i}`, operation: 'update', body: { tags } }));

describe('Meraki simulator action batches: durations, listing, the 10-minute limit, 5 running (raw HTTP)', () => {
  let c: ClockedSim;
  const durations: number[] = [];
  beforeEach(async () => {
    durations.length = 0;
    c = await clockedSim([generateOrganization({ id: 'o1', networks: 30 })], {
      batchDurationMs: (actions: readonly SimBatchAction[]) => {
        const ms = actions.length === 7 ? 11 * 60_000 : 1_000 + actions.length * 100;
        durations.push(ms);
        return ms;
      },
    });
  });
  afterEach(async () => c.sim.close());

  const submit = (actions: unknown[], extra: Record<string, unknown> = {}) =>
    c.call('/organizations/o1/actionBatches', {
      method: 'POST',
      body: { confirmed: true, synchronous: false, actions, ...extra },
    });
  const listed = async (status?: string) =>
    (
      (await c.call(`/organizations/o1/actionBatches${status ? `?status=${status}` : ''}`))
        .body as BatchBody[]
    ).map((b) => b.id);

  it('an asynchronous batch takes its duration, is listed pending until then, and applies all at once', async () => {
    const r = await submit(retag([0, 1, 2]));
    expect(r.status).toBe(201);
    const b = r.body as BatchBody;
    expect(b.status).toMatchObject({ completed: false, failed: false });
    expect(durations).toEqual([1_300]);
    expect(await listed('pending')).toEqual([b.id]);
    c.advance(1_299);
    expect(
      ((await c.call(`/organizations/o1/actionBatches/${b.id}`)).body as BatchBody).status.completed,
    ).toBe(false);
    expect(c.sim.network('N_o1_0')?.tags).not.toEqual(PARIS);
    c.advance(1);
    expect(
      ((await c.call(`/organizations/o1/actionBatches/${b.id}`)).body as BatchBody).status,
    ).toMatchObject({
      completed: true,
      failed: false,
    });
    expect([0, 1, 2].map((i) => c.sim.tunnelHub(`N_o1_${i}`))).toEqual(['paris', 'paris', 'paris']);
    expect(await listed('pending')).toEqual([]);
    expect(await listed('completed')).toEqual([b.id]);
    expect(await listed()).toEqual([b.id]);
  });

  it('the realistic duration: seconds, growing with the actions', async () => {
    const slow = await clockedSim([generateOrganization({ id: 'o1', networks: 100 })], {
      batchDurationMs: realisticBatchDurationMs,
    });
    try {
      const all = Array.from({ length: 100 }, (_, i) => i);
      const r = await slow.call('/organizations/o1/actionBatches', {
        method: 'POST',
        body: { confirmed: true, synchronous: false, actions: retag(all) },
      });
      const id = (r.body as BatchBody).id;
      slow.advance(11_999);
      expect(
        ((await slow.call(`/organizations/o1/actionBatches/${id}`)).body as BatchBody).status.completed,
      ).toBe(false);
      slow.advance(1);
      expect(
        ((await slow.call(`/organizations/o1/actionBatches/${id}`)).body as BatchBody).status.completed,
      ).toBe(true);
    } finally {
      await slow.sim.close();
    }
  });

  it('a synchronous batch of at most 20 actions answers completed; 21 are refused', async () => {
    const r = await submit(retag([3, 4]), { synchronous: true });
    expect(r.status).toBe(201);
    expect((r.body as BatchBody).status).toMatchObject({ completed: true, failed: false });
    expect(c.sim.tunnelHub('N_o1_3')).toBe('paris');
    const big = await submit(retag(Array.from({ length: 21 }, (_, i) => i)), { synchronous: true });
    expect(big.status).toBe(400);
    expect((big.body as { errors: string[] }).errors[0]).toMatch(
      /Too many actions: 21; a synchronous batch holds at most 20/,
    );
  });

  it('a batch not completed within 10 minutes fails and applies nothing, even after its own duration', async () => {
    const r = await submit(retag([0, 1, 2, 3, 4, 5, 6]));
    const id = (r.body as BatchBody).id;
    c.advance(10 * 60_000 - 1);
    expect(await listed('pending')).toEqual([id]);
    c.advance(1);
    const b = (await c.call(`/organizations/o1/actionBatches/${id}`)).body as BatchBody;
    expect(b.status.failed).toBe(true);
    expect(b.status.errors[0]).toMatch(/did not complete within 10 minutes/);
    expect(await listed('failed')).toEqual([id]);
    c.advance(5 * 60_000);
    expect(c.sim.tunnelHub('N_o1_0')).toBe('london');
    expect(c.sim.stats().batchesFailed).toBe(1);
  });

  it('at most 5 confirmed asynchronous batches run per organization; a synchronous one still goes', async () => {
    for (let i = 0; i < 5; i++) expect((await submit(retag([i]))).status).toBe(201);
    const sixth = await submit(retag([5]));
    expect(sixth.status).toBe(400);
    expect((sixth.body as { errors: string[] }).errors).toEqual([
      'Too many concurrently executing batches. Maximum is 5 confirmed but not yet executed batches.',
    ]);
    expect((await submit(retag([6]), { synchronous: true })).status).toBe(201);
    expect(await listed('pending')).toHaveLength(5);
    c.advance(1_100);
    expect((await submit(retag([5]))).status).toBe(201);
  });

  it('an unconfirmed batch can be deleted, a confirmed one cannot; nothing runs until confirmed', async () => {
    const draft = await submit(retag([8]), { confirmed: false });
    const id = (draft.body as BatchBody).id;
    c.advance(60_000);
    expect(c.sim.tunnelHub('N_o1_8')).toBe('london');
    expect((await c.call(`/organizations/o1/actionBatches/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await c.call(`/organizations/o1/actionBatches/${id}`)).status).toBe(404);
    const running = (await submit(retag([9]))).body as BatchBody;
    const del = await c.call(`/organizations/o1/actionBatches/${running.id}`, { method: 'DELETE' });
    expect(del.status).toBe(400);
    expect((del.body as { errors: string[] }).errors[0]).toMatch(/confirmed action batch cannot be deleted/);
    c.advance(1_100);
    expect(c.sim.tunnelHub('N_o1_9')).toBe('paris');
  });

  it('a batch with one bad action is refused at submission with a 400 naming it, and nothing is created', async () => {
    const unknown = await submit([
      ...retag([0]),
      { resource: '/networks/N_nope', operation: 'update', body: { tags: ['a'] } },
    ]);
    expect(unknown.status).toBe(400);
    expect((unknown.body as { errors: string[] }).errors[0]).toBe(
      'Action 1: network N_nope is not in organization o1',
    );
    const badTag = await submit(retag([0, 1], ['branch', 'two words']));
    expect(badTag.status).toBe(400);
    expect((badTag.body as { errors: string[] }).errors[0]).toMatch(
      /actions\[0\]\.body\.tags' contains an invalid tag "two words"/,
    );
    const badStatus = await c.call('/organizations/o1/actionBatches?status=running');
    expect(badStatus.status).toBe(400);
    expect((badStatus.body as { errors: string[] }).errors[0]).toMatch(
      /'status' must be one of pending, completed, failed, not "running"/,
    );
    expect(await listed()).toEqual([]);
  });
});
