/**
 * The failover function end to end on one machine: DynamoDB Local (state table with its real
 * stream, the idempotency table, both as the synthesized CDK app defines them), the zWAN simulator
 * over HTTP, and Lambda-shaped events built from the stream's own records that pass the
 * synthesized event source mapping's filter criteria.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { Director } from '../../../shared/director/port.js';
import type { CandidateSlot, Health, SiteName } from '../../../shared/domain/model.js';
import { reconcileDrift } from '../../../shared/failover/drift.js';
import type { FailoverDeps } from '../../../shared/failover/ports.js';
import { loadTenantView, reconcileGroup, type ReconcileResult } from '../../../shared/failover/service.js';
import type { LocalPublisher } from '../../../shared/notify/local.js';
import type { CountingMetricSink } from '../../../shared/observability.js';
import { StateRepository } from '../../../shared/store/state-repo.js';
import {
  createZwanSimulator,
  generatedIds,
  generateTopology,
  type ZwanSimulator,
} from '../../../local/simulator/index.js';
import { testContext } from '../../helpers/lambda-context.js';
import { createTestTable, type TestTable } from '../../helpers/ddb.js';
import { testFailoverDeps } from '../../helpers/failover-deps.js';
import { simDirectors } from '../../helpers/sim-directors.js';
import { branchTargets, id, KEY, repointCount, TENANT, type Slot } from './generated-group.js';
import { startFailoverFunction, type TestFailoverFunction } from './failover-function.js';

const SLOTS: Record<string, { slot: CandidateSlot; site: SiteName }> = {
  dc1: { slot: 'DC/ACTIVE', site: 'DC' },
  dc2: { slot: 'DC/PASSIVE', site: 'DC' },
  dr1: { slot: 'DR/ACTIVE', site: 'DR' },
  dr2: { slot: 'DR/PASSIVE', site: 'DR' },
};
const BRANCHES = 6;
const context = testContext('failover-it', 60_000);

interface World {
  table: TestTable;
  sim: ZwanSimulator;
  repo: StateRepository;
  deps: FailoverDeps;
  published: LocalPublisher;
  metrics: CountingMetricSink;
  fn: TestFailoverFunction;
}

let w: World;

async function setHealth(slot: Slot, health: Health, at = Date.now()): Promise<void> {
  const current = (await w.repo.listHealth(KEY)).find((h) => h.targetId === id(slot));
  await w.repo.saveHealth({
    groupKey: KEY,
    tenantId: TENANT,
    targetId: id(slot),
    name: id(slot),
    ...SLOTS[slot]!,
    state: { health, badStreak: 0, cleanSince: null, since: at },
    transition: { target: id(slot), from: current?.health ?? 'UNKNOWN', to: health, at, reason: 'test' },
  });
}

const targets = () => branchTargets(w.sim, BRANCHES);
const repointCalls = () => repointCount(w.sim);

async function invoke(event?: DynamoDBStreamEvent) {
  return w.fn.handler(event ?? (await w.fn.stream.event()), context);
}

beforeEach(async () => {
  const table = await createTestTable('failover');
  const sim = await createZwanSimulator({
    topology: generateTopology({ groups: 1, branchesPerGroup: BRANCHES }),
  });
  const repo = new StateRepository(table.doc, table.tableName);
  const { deps, published, metrics } = testFailoverDeps({
    store: repo,
    directors: simDirectors(sim, 1000),
    audit: repo,
    tenants: [TENANT],
  });
  // These tests inject faults into single re-points: one call per branch (the group call has
  // its own test below).
  deps.settings.groupCall = false;
  const fn = await startFailoverFunction(table, deps);
  w = { table, sim, repo, deps, published, metrics, fn };
  // Steady state: every concentrator UP, the first election puts DC1 in service at epoch 1.
  for (const slot of ['dc1', 'dc2', 'dr1', 'dr2'] as const) await setHealth(slot, 'UP');
  expect(await invoke()).toEqual({ batchItemFailures: [] });
  expect(await repo.getGroup(KEY)).toMatchObject({ servingId: id('dc1'), epoch: 1 });
  sim.clearRequests();
});

afterEach(async () => {
  w.fn.stream.close();
  await w.sim.close();
  await w.table.drop();
});

describe('failover function (DynamoDB Local stream → handler → simulator)', () => {
  it('fails over on a DOWN transition: epoch 2, HA_STATE moved, every branch on DC2, outcomes and audit written', async () => {
    w.sim.faults.cpeDown(id('dc1'));
    await setHealth('dc1', 'DOWN');
    expect(await invoke()).toEqual({ batchItemFailures: [] });
    expect(await w.repo.getGroup(KEY)).toMatchObject({ servingId: id('dc2'), epoch: 2 });
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dc2')));
    expect(w.sim.world.mustGet(id('dc2')).haRole).toBe('ACTIVE');
    const outcomes = await w.repo.listBranchOutcomes(KEY);
    expect(outcomes).toHaveLength(BRANCHES);
    expect(outcomes.every((o) => o.result === 'ok' && o.targetId === id('dc2') && o.epoch === 2)).toBe(true);
    const audit = await w.repo.listAuditEvents(new Date().toISOString().slice(0, 10));
    expect(audit.map((a) => a.kind)).toContain('FAILOVER');
    expect(audit.every((a) => a.expiresAt > Date.now() / 1000)).toBe(true);
    expect(w.published.notices.find((n) => n.kind === 'FAILOVER')).toMatchObject({
      from: id('dc1'),
      to: id('dc2'),
    });
  });

  it('changes nothing for duplicate and replayed records (idempotent on group + epoch)', async () => {
    w.sim.faults.cpeDown(id('dc1'));
    await setHealth('dc1', 'DOWN');
    const event = await w.fn.stream.event();
    const doubled = { Records: [...event.Records, ...event.Records] };
    expect(await invoke(doubled)).toEqual({ batchItemFailures: [] });
    const calls = repointCalls();
    expect(calls).toBe(BRANCHES);
    expect(await invoke(event)).toEqual({ batchItemFailures: [] });
    const replays: (boolean | undefined)[] = [];
    const replaying = w.fn.handlerFor(w.deps, (r) => replays.push(r.fanOut?.replayed));
    expect(await replaying(event, context)).toEqual({ batchItemFailures: [] });
    expect(replays).toEqual([true]);
    expect(repointCalls()).toBe(calls);
    expect(await w.repo.getGroup(KEY)).toMatchObject({ epoch: 2 });
    expect(w.published.notices.filter((n) => n.kind === 'FAILOVER')).toHaveLength(1);
  });

  it('moves a group larger than one wave with one group call over HTTP, fenced at the new epoch', async () => {
    w.deps.settings.groupCall = true;
    w.deps.settings.concurrency = 2;
    w.sim.faults.cpeDown(id('dc1'));
    await setHealth('dc1', 'DOWN');
    expect(await invoke()).toEqual({ batchItemFailures: [] });
    const groupCalls = w.sim.requests.filter((r) => r.operation === 'updateGroupBranches');
    expect(groupCalls.map((r) => [r.status, r.requestBody])).toEqual([
      [200, { epoch: 2, targetCpeId: id('dc2') }],
    ]);
    expect(repointCalls()).toBe(0);
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dc2')));
    const outcomes = await w.repo.listBranchOutcomes(KEY);
    expect(outcomes.filter((o) => o.result === 'ok' && o.epoch === 2)).toHaveLength(BRANCHES);
    // The epoch is bound to DC2 on the director: the same epoch for DC1 is refused.
    const dc = w.deps.directors.DC;
    await expect(
      dc.repointGroup!({ tenantId: TENANT, haName: generatedIds.group(0), targetId: id('dc1'), epoch: 2 }),
    ).rejects.toThrow(/already decided for/);
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dc2')));
  });

  it('fails a bad record alone', async () => {
    w.sim.faults.cpeDown(id('dc1'));
    await setHealth('dc1', 'DOWN');
    const event = await w.fn.stream.event();
    const bad = { eventName: 'MODIFY', dynamodb: { SequenceNumber: 'bad-1' } } as never;
    const result = await invoke({ Records: [bad, ...event.Records] });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad-1' }] });
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dc2')));
  });

  it('lets exactly one of two racing invocations win the epoch', async () => {
    w.sim.faults.cpeDown(id('dc1'));
    await setHealth('dc1', 'DOWN');
    const event = await w.fn.stream.event();
    const other = w.fn.handlerFor(w.deps);
    const results = await Promise.all([w.fn.handler(event, context), other(event, context)]);
    expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(await w.repo.getGroup(KEY)).toMatchObject({ servingId: id('dc2'), epoch: 2 });
    // One change, audited once (the outbox's dedup id). The loser may find the winner's outbox
    // not yet cleared and send it too: notices are at least once.
    const audit = await w.repo.listAuditEvents(new Date().toISOString().slice(0, 10));
    expect(audit.filter((a) => a.kind === 'FAILOVER')).toHaveLength(1);
    expect(w.published.notices.filter((n) => n.kind === 'FAILOVER').length).toBeGreaterThanOrEqual(1);
    expect((await w.repo.getGroup(KEY))?.outbox).toBeUndefined();
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dc2')));
  });

  it('records 5xx failures during the fan-out and the drift reconcile finishes the job', async () => {
    w.deps.settings.concurrency = 1;
    w.sim.faults.cpeDown(id('dc1'));
    await setHealth('dc1', 'DOWN');
    // 3 failing calls with one retry each: the first branch fails twice (left over), the second recovers.
    w.sim.faults.failNextRepoints(3);
    expect(await invoke()).toEqual({ batchItemFailures: [] });
    const failed = (await w.repo.listBranchOutcomes(KEY)).filter((o) => o.result === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.error).toMatch(/DirectorUnavailableError/);
    expect(w.published.notices.some((n) => n.kind === 'REPOINT_FAILURE')).toBe(true);
    expect(w.metrics.get('RepointFailures')).toBe(1);
    const report = await reconcileDrift(w.deps);
    expect(report).toMatchObject({ repointed: 1, failed: 0, errors: [] });
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dc2')));
  });

  it('records timeouts when the director hangs mid fan-out, then reconciles once it answers again', async () => {
    const view = await loadTenantView(w.deps, TENANT);
    const directors = simDirectors(w.sim, 200);
    // The director hangs right after the fan-out's fence and fresh listing.
    let hangAfterListing = true;
    const dc: Director = Object.create(directors.DC) as Director;
    dc.listCpes = async (tenantId) => {
      const cpes = await directors.DC.listCpes(tenantId);
      if (hangAfterListing) w.sim.faults.director('DC', { mode: 'hang' });
      hangAfterListing = false;
      return cpes;
    };
    w.deps.directors = { ...directors, DC: dc };
    w.sim.faults.cpeDown(id('dc1'));
    await setHealth('dc1', 'DOWN');
    const r = await reconcileGroup(w.deps, KEY, { view });
    expect(r).toMatchObject({ servingId: id('dc2'), epoch: 2 });
    expect(r.fanOut?.counts.failed).toBe(BRANCHES);
    expect((await w.repo.listBranchOutcomes(KEY)).every((o) => o.result === 'failed')).toBe(true);
    w.sim.faults.heal();
    w.sim.faults.cpeDown(id('dc1'));
    const report = await reconcileDrift(w.deps);
    expect(report).toMatchObject({ repointed: BRANCHES, failed: 0 });
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dc2')));
  });

  it('after a crash mid fan-out, the retried record finishes the fan-out at once (its idempotency record still says in progress)', async () => {
    // A director that stops answering for good after 2 re-points: the invocation never finishes.
    let calls = 0;
    const done: Promise<unknown>[] = [];
    let crashed!: () => void;
    const crash = new Promise<void>((resolve) => (crashed = resolve));
    const real = w.deps.directors.DC;
    const crashing: Director = Object.create(real) as Director;
    crashing.repoint = (action) => {
      if (++calls <= 2) {
        const p = real.repoint(action);
        done.push(p);
        return p;
      }
      crashed();
      return new Promise(() => undefined);
    };
    const crashingDeps = { ...w.deps, directors: { ...w.deps.directors, DC: crashing } };
    const crashingHandler = w.fn.handlerFor(crashingDeps);
    w.sim.faults.cpeDown(id('dc1'));
    await setHealth('dc1', 'DOWN');
    const event = await w.fn.stream.event();
    const abandoned = crashingHandler(event, context);
    await crash; // the "Lambda" dies here, with two branches moved
    await Promise.all(done);
    expect(targets().filter((t) => t === id('dc2')).length).toBe(2);
    expect(await w.repo.getGroup(KEY)).toMatchObject({ servingId: id('dc2'), epoch: 2 });
    // The stream retries the record: the fan-out is still marked in progress, so it runs again
    // directly (fenced, fresh listing, idempotent re-points) and moves the rest now…
    const results: ReconcileResult[] = [];
    expect(await w.fn.handlerFor(w.deps, (r) => results.push(r))(event, context)).toEqual({
      batchItemFailures: [],
    });
    expect(results[0]?.fanOut).toMatchObject({
      inProgressElsewhere: true,
      counts: { repointed: BRANCHES - 2, unchanged: 2, failed: 0 },
    });
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dc2')));
    // …so the drift reconcile has nothing left to do.
    const report = await reconcileDrift(w.deps);
    expect(report.repointed).toBe(0);
    void abandoned;
  });

  it('after a table restore (stored epoch 1, the director fence at 7) raises the stored epoch above it and re-points', async () => {
    w.sim.world.epochs.DC.set(KEY, 7);
    w.sim.faults.cpeDown(id('dc1'));
    await setHealth('dc1', 'DOWN');
    expect(await invoke()).toEqual({ batchItemFailures: [] });
    expect(await w.repo.getGroup(KEY)).toMatchObject({ servingId: id('dc2'), epoch: 8 });
    expect(w.sim.world.epochs.DC.get(KEY)).toBe(8);
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dc2')));
    expect(w.published.notices.filter((n) => n.kind === 'FAILOVER')).toHaveLength(1);
  });

  it('after a table restore that lost a decision (the director has epoch 2 bound to dr1) raises the new decision above it', async () => {
    // The store, restored to before epoch 2, decides dc2 at epoch 2 again: the same number for
    // another decision. The director refuses it (one decision per epoch) instead of landing it.
    w.sim.world.epochs.DC.set(KEY, 2);
    w.sim.world.boundServing.DC.set(KEY, id('dr1'));
    w.sim.faults.cpeDown(id('dc1'));
    await setHealth('dc1', 'DOWN');
    expect(await invoke()).toEqual({ batchItemFailures: [] });
    expect(await w.repo.getGroup(KEY)).toMatchObject({ servingId: id('dc2'), epoch: 3 });
    expect(w.sim.world.epochs.DC.get(KEY)).toBe(3);
    expect(w.sim.world.boundServing.DC.get(KEY)).toBe(id('dc2'));
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dc2')));
  });

  it('takes DR when both DC concentrators are DOWN, and raises ALL_DOWN (no re-point) when DR is DOWN too', async () => {
    for (const slot of ['dc1', 'dc2'] as const) {
      w.sim.faults.cpeDown(id(slot));
      await setHealth(slot, 'DOWN');
    }
    expect(await invoke()).toEqual({ batchItemFailures: [] });
    expect(await w.repo.getGroup(KEY)).toMatchObject({ servingId: id('dr1'), alarms: [] });
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dr1')));
    w.sim.clearRequests();
    for (const slot of ['dr1', 'dr2'] as const) {
      w.sim.faults.cpeDown(id(slot));
      await setHealth(slot, 'DOWN');
    }
    const epoch = (await w.repo.getGroup(KEY))?.epoch;
    expect(await invoke()).toEqual({ batchItemFailures: [] });
    expect(await w.repo.getGroup(KEY)).toMatchObject({ servingId: id('dr1'), epoch, alarms: ['ALL_DOWN'] });
    expect(repointCalls()).toBe(0);
    expect(w.published.notices.filter((n) => n.kind === 'ALL_DOWN')).toHaveLength(1);
  });

  it('holds every change while the ACTIVE site director is unreachable (frozen, no alarm), then acts when it answers', async () => {
    await w.repo.writeDirectorStatus({ site: 'DC', reachable: false, since: Date.now(), reason: 'test' });
    w.sim.faults.cpeDown(id('dc1'));
    await setHealth('dc1', 'DOWN');
    expect(await invoke()).toEqual({ batchItemFailures: [] });
    const held = await w.repo.getGroup(KEY);
    expect(held).toMatchObject({ servingId: id('dc1'), epoch: 1, alarms: [] });
    expect(w.published.notices.map((n) => n.kind)).not.toContain('MONITOR_BLIND');
    expect(repointCalls()).toBe(0);
    await w.repo.writeDirectorStatus({ site: 'DC', reachable: true, since: Date.now() });
    expect(await invoke()).toEqual({ batchItemFailures: [] });
    expect(await w.repo.getGroup(KEY)).toMatchObject({ servingId: id('dc2'), epoch: 2, alarms: [] });
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dc2')));
  });
});
