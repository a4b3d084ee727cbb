/**
 * The DynamoDB requests per run that local/tools/cost.ts bills ({@link REQUESTS}) are what the
 * real code sends: a steady health run and a steady drift pass over several groups, with the real
 * repositories over the in-memory table, every table operation counted.
 */
import { groupKey } from '../../../shared/domain/model.js';
import { reconcileDrift } from '../../../shared/failover/drift.js';
import { runHealthCheck } from '../../../shared/health/run.js';
import type { Runtime } from '../../../shared/runtime.js';
import { MemoryTable, type TableOpKind } from '../../../shared/store/memory-table.js';
import { StateRepository } from '../../../shared/store/state-repo.js';
import { keys } from '../../../shared/store/table.js';
import { REQUESTS } from '../../../local/tools/cost.js';
import { testFailoverDeps } from '../../helpers/failover-deps.js';
import { FakeDirector, topology, type HubSpec } from '../failover/fake-director.js';
import { FakeClock, runDeps, settings, snapshotDirector, T0 } from '../health/fakes.js';

const GROUPS = 5;
const hubsOf = (g: number): HubSpec[] => [
  { id: `G${g}-DC1`, site: 'DC', haState: 'ACTIVE' },
  { id: `G${g}-DC2`, site: 'DC', haState: 'PASSIVE' },
  { id: `G${g}-DR1`, site: 'DR', haState: 'ACTIVE' },
];
const GROUP_HUBS = Array.from({ length: GROUPS }, (_, i) => hubsOf(i + 1));

/** The real state repository over a table that counts its operations by kind. */
function countedRepo(clock: { now(): number }) {
  const ops = new Map<TableOpKind, number>();
  const table = new MemoryTable({ afterApply: (op) => void ops.set(op.kind, (ops.get(op.kind) ?? 0) + 1) });
  let ids = 0;
  const runtime: Runtime = {
    now: () => clock.now(),
    sleep: async () => {},
    random: () => 0.5,
    id: () => `id-${++ids}`,
  };
  const count = (kind: TableOpKind) => ops.get(kind) ?? 0;
  return { table, repo: new StateRepository(table, runtime), ops, count };
}

/** Health runs over every group until every candidate is UP and settled (runs write until then). */
async function settledHealth(repo: StateRepository, clock: FakeClock) {
  const directors = {
    DC: snapshotDirector('DC', GROUP_HUBS, clock),
    DR: snapshotDirector('DR', GROUP_HUBS, clock),
  };
  for (let run = 0; run < 3; run++) {
    await runHealthCheck(runDeps(directors, repo, clock, settings()));
    clock.t += 60_000;
  }
  return directors;
}

describe('DynamoDB requests per run, as the cost tool bills them', () => {
  it('a steady health run: one Query per group, one of the site roles, one GetItem per director, no write', async () => {
    const clock = new FakeClock(T0);
    const { table, repo, ops, count } = countedRepo(clock);
    const directors = await settledHealth(repo, clock);
    ops.clear();
    const steady = await runHealthCheck(runDeps(directors, repo, clock, settings()));
    expect(steady.targets).toBe(GROUPS * 3);
    expect(steady.writes).toBe(0);
    expect({
      query: count('query'),
      get: count('get'),
      put: count('put'),
      batchPut: count('batchPut'),
    }).toEqual({
      query: GROUPS * REQUESTS.healthReadsPerGroup + REQUESTS.healthReadsPerRun,
      get: 2, // the two sites' directors (the cost tool's S)
      put: 0,
      batchPut: 0,
    });
    // One strongly consistent read unit per group's Query: its health items fit in 4 KB.
    const items = await table.query(keys.healthPartition(groupKey('t1', 'G1')));
    expect(items.length).toBe(3);
    expect(Buffer.byteLength(JSON.stringify(items))).toBeLessThan(4096);
  });

  it('a steady drift pass: four reads per group and one per tenant, no write', async () => {
    const clock = { now: () => T0 };
    const { repo, ops, count } = countedRepo(clock);
    const cpes = GROUP_HUBS.flatMap((hubs, i) =>
      topology({ hubs, branches: 3, haName: `G${i + 1}`, on: hubs[0]?.id ?? '' }),
    );
    await settledHealth(repo, new FakeClock(T0));
    const { deps } = testFailoverDeps({
      store: repo,
      directors: { DC: new FakeDirector(cpes, 'DC'), DR: new FakeDirector(cpes, 'DR') },
      audit: repo,
      tenants: ['t1'],
      now: clock.now,
    });
    const first = await reconcileDrift(deps); // elects each group (writes), branches already there
    expect(first.errors).toEqual([]);
    ops.clear();
    const steady = await reconcileDrift(deps);
    expect(steady.groups).toBe(GROUPS);
    expect(steady.drifted).toBe(0);
    expect(count('query') + count('get')).toBe(
      GROUPS * REQUESTS.reconcileReadsPerGroup + 1 * REQUESTS.reconcileReadsPerTenant,
    );
    expect(count('put') + count('delete') + count('batchPut')).toBe(0);
  });
});
