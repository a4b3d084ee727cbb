/**
 * MONITOR_BLIND end to end, on one machine: the real health run (fake clock) samples the zWAN
 * simulator over HTTP and writes to DynamoDB Local; the failover function is fed the table's
 * real stream records, filtered as the synthesized mapping filters them. Half of the monitored
 * concentrators going DOWN in one run makes the monitor blind; the hold must survive the next
 * runs (which see no new DOWN) until enough targets are UP again or an operator acknowledges it;
 * then failover acts.
 */
import { readFileSync } from 'node:fs';
import type { SiteName } from '../../../shared/domain/model.js';
import { acknowledgeMonitorBlind } from '../../../shared/failover/console.js';
import { ackMonitorBlindEventSchema, parseEvent } from '../../../shared/failover/console-events.js';
import { reconcileDrift } from '../../../shared/failover/drift.js';
import type { FailoverDeps } from '../../../shared/failover/ports.js';
import type { LocalPublisher } from '../../../shared/notify/local.js';
import { HEALTH_METRICS } from '../../../shared/observability.js';
import type { DirectorItem, StateRepository } from '../../../shared/store/state-repo.js';
import { keys } from '../../../shared/store/table.js';
import { generateTopology, type ZwanSimulator } from '../../../local/simulator/index.js';
import { testFailoverDeps } from '../../helpers/failover-deps.js';
import { testContext } from '../../helpers/lambda-context.js';
import { simDirectors } from '../../helpers/sim-directors.js';
import { startHarness, type Harness } from '../health-check/harness.js';
import { branchTargets, id, KEY, repointCount, TENANT } from './generated-group.js';
import { startFailoverFunction, type TestFailoverFunction } from './failover-function.js';

const BRANCHES = 4;
const context = testContext('monitor-blind-it', 60_000);

interface World {
  /** The health run on DynamoDB Local and the simulator (fake clock, counted metrics). */
  health: Harness;
  sim: ZwanSimulator;
  repo: StateRepository;
  failover: FailoverDeps;
  published: LocalPublisher;
  /** The failover function on the health run's table. */
  fn: TestFailoverFunction;
}
let w: World;

/** One health run at the next whole minute of the fake clock. */
const run = () => w.health.run();

/** Hand the stream's records since the last call to the failover function. */
async function invoke() {
  const event = await w.fn.stream.event();
  expect(await w.fn.handler(event, context)).toEqual({ batchItemFailures: [] });
  return event.Records.length;
}

const targets = () => branchTargets(w.sim, BRANCHES);
const repointCalls = () => repointCount(w.sim);
const directorItem = (site: SiteName) => w.repo.get<DirectorItem>(keys.director(site));

beforeEach(async () => {
  // One group of four concentrators: two DOWN in one run is 50 % of 4 (the default blind rule).
  const health = await startHarness({
    topology: generateTopology({ groups: 1, branchesPerGroup: BRANCHES }),
    health: { recoverAfterSec: 30 },
  });
  const { table, sim, repo } = health;
  const { deps: failover, published } = testFailoverDeps({
    store: repo,
    directors: simDirectors(sim, 2000),
    audit: repo,
    tenants: [TENANT],
  });
  // The stream as the deployed mapping delivers it: only the records its filter lets through.
  const fn = await startFailoverFunction(table, failover);
  w = { health, sim, repo, failover, published, fn };

  // Steady state: every concentrator UP (after the hold), DC1 elected and serving.
  for (let runs = 0; runs < 5; runs++) {
    await run();
    const all = await repo.listHealth(KEY);
    if (all.length === 4 && all.every((h) => h.health === 'UP')) break;
  }
  await invoke();
  expect(await repo.getGroup(KEY)).toMatchObject({ servingId: id('dc1'), epoch: 1, alarms: [] });
  expect(targets()).toEqual(Array(BRANCHES).fill(id('dc1')));
  sim.clearRequests();
});

afterEach(async () => {
  w.fn.stream.close();
  await w.health.stop();
});

/** DC1 and DC2 go DOWN in one run: blind, held; the next runs keep it so. */
async function massDownAndHold(): Promise<void> {
  w.sim.faults.cpeDown(id('dc1'));
  w.sim.faults.cpeDown(id('dc2'));
  const summary = await run();
  expect(summary.transitions.map((t) => `${t.target}:${t.to}`).sort()).toEqual([
    `${id('dc1')}:DOWN`,
    `${id('dc2')}:DOWN`,
  ]);
  expect(await directorItem('DC')).toMatchObject({ monitorBlind: true, monitorBlindLatched: true });
  await invoke();
  expect(await w.repo.getGroup(KEY)).toMatchObject({
    servingId: id('dc1'),
    epoch: 1,
    alarms: ['MONITOR_BLIND'],
  });
  expect(w.published.notices.filter((n) => n.kind === 'MONITOR_BLIND')).toHaveLength(1);

  // The next runs see no new DOWN transition: the monitor stays blind, nothing is re-pointed.
  for (let i = 0; i < 2; i++) {
    expect((await run()).transitions).toEqual([]);
    for (const site of ['DC', 'DR'] as const) {
      expect(await directorItem(site)).toMatchObject({ monitorBlind: true, monitorBlindLatched: true });
    }
    await invoke();
  }
  // Every run that ends blind emits MonitorBlind = 1 (the CloudWatch alarm stays raised).
  expect(w.health.metrics.get(HEALTH_METRICS.monitorBlind)).toBe(3);
  const drift = await reconcileDrift(w.failover);
  expect(drift.held).toEqual([KEY]);
  expect(await w.repo.getGroup(KEY)).toMatchObject({ servingId: id('dc1'), epoch: 1 });
  expect(repointCalls()).toBe(0);
  expect(targets()).toEqual(Array(BRANCHES).fill(id('dc1')));
}

describe('MONITOR_BLIND is sticky', () => {
  it('holds across runs, then an operator acknowledgement lets failover act (and the hold does not come back)', async () => {
    await massDownAndHold();

    const event = parseEvent(
      ackMonitorBlindEventSchema,
      JSON.parse(readFileSync('functions/ack-monitor-blind/events/acknowledge.json', 'utf8')),
      'ack-monitor-blind event',
    );
    const ack = await acknowledgeMonitorBlind(w.failover, event);
    expect(ack).toMatchObject({ acknowledged: true, stillBlind: false, heldGroups: [KEY] });
    expect(await directorItem('DC')).toMatchObject({
      monitorBlind: false,
      monitorBlindLatched: false,
      acknowledged: { reason: event.reason, by: 'noc@example.com' },
    });
    const notice = w.published.notices.find((n) => n.kind === 'MONITOR_BLIND_ACK');
    expect(notice).toMatchObject({ groupKey: KEY, from: id('dc1'), by: 'noc@example.com' });
    expect(notice?.reason).toContain(event.reason);
    const day = new Date().toISOString().slice(0, 10);
    expect((await w.repo.listAuditEvents(day)).some((a) => a.kind === 'MONITOR_BLIND_ACK')).toBe(true);

    // The director items' change reaches the failover function through the stream: it acts now.
    await invoke();
    expect(await w.repo.getGroup(KEY)).toMatchObject({ servingId: id('dr1'), epoch: 2, alarms: [] });
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dr1')));

    // The same targets are still DOWN but nothing new went DOWN: the acknowledgement stands.
    expect((await run()).transitions).toEqual([]);
    expect(await directorItem('DC')).toMatchObject({ monitorBlind: false, monitorBlindLatched: false });
    expect(w.health.metrics.get(HEALTH_METRICS.monitorBlind)).toBe(3);

    // Acknowledging again when nothing is blind changes and notifies nothing.
    const again = await acknowledgeMonitorBlind(w.failover, event);
    expect(again).toMatchObject({ acknowledged: false, stillBlind: false });
    expect(w.published.notices.filter((n) => n.kind === 'MONITOR_BLIND_ACK')).toHaveLength(1);
  });

  it('clears by itself once enough targets are UP again, and the held group fails over then', async () => {
    await massDownAndHold();

    // DC2 recovers: after the 30 s hold it is UP, 1 of 4 DOWN (25 %) is below the 50 % rule.
    w.sim.faults.cpeUp(id('dc2'));
    const summary = await run();
    expect(summary.transitions.map((t) => `${t.target}:${t.to}`)).toEqual([`${id('dc2')}:UP`]);
    expect(await directorItem('DC')).toMatchObject({ monitorBlind: false, monitorBlindLatched: false });

    await invoke();
    expect(await w.repo.getGroup(KEY)).toMatchObject({ servingId: id('dc2'), epoch: 2, alarms: [] });
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dc2')));
  });

  it('an acknowledgement while the standby DR director is unreachable: DR candidates stay frozen until it answers', async () => {
    await massDownAndHold();
    // The DR director stops answering (the DC one, which the failover acts through, still does).
    w.sim.faults.director('DR', { mode: 'error5xx' });
    await run();
    // Director reachability is not the monitor's verdict: the latch alone is recorded blind.
    expect(await directorItem('DR')).toMatchObject({ reachable: false, monitorBlindLatched: true });

    const ack = await acknowledgeMonitorBlind(w.failover, { reason: 'checked', by: 'noc' });
    expect(ack).toMatchObject({ acknowledged: true, stillBlind: false });
    expect(await directorItem('DC')).toMatchObject({ monitorBlind: false, monitorBlindLatched: false });
    // Both DC concentrators are DOWN and DR1's last health is UP, but DR is frozen: nothing moves.
    await invoke();
    expect(await w.repo.getGroup(KEY)).toMatchObject({
      servingId: id('dc1'),
      epoch: 1,
      alarms: ['ALL_DOWN'],
    });
    expect(repointCalls()).toBe(0);

    // The DR director answers: its candidates are elected again.
    w.sim.faults.director('DR', { mode: 'ok' });
    await run();
    expect(await directorItem('DR')).toMatchObject({ reachable: true, monitorBlind: false });
    await invoke();
    expect(await w.repo.getGroup(KEY)).toMatchObject({ servingId: id('dr1'), epoch: 2, alarms: [] });
    expect(targets()).toEqual(Array(BRANCHES).fill(id('dr1')));
  });
});
