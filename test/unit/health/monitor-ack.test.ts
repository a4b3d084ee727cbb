/**
 * MONITOR_BLIND acknowledged during the run that raised it: once the run sees the operator's
 * acknowledgement (it re-reads the director status while latched), the share rule counts only
 * the DOWN transitions after it, so the same run does not raise the latch again from the mass
 * DOWN the operator just confirmed; a new mass DOWN after the acknowledgement still does.
 */
import type { HubSpec } from '../failover/fake-director.js';
import { runHealthCheck } from '../../../shared/health/run.js';
import { FakeClock, MemoryStore, runDeps, settings, snapshotDirector, T0 } from './fakes.js';

/** Two groups of two DC concentrators: four monitored targets (the share rule's minimum). */
const GROUPS: HubSpec[][] = [
  [
    { id: 'a1', site: 'DC', haState: 'ACTIVE' },
    { id: 'a2', site: 'DC', haState: 'PASSIVE' },
  ],
  [
    { id: 'b1', site: 'DC', haState: 'ACTIVE' },
    { id: 'b2', site: 'DC', haState: 'PASSIVE' },
  ],
];
const UP = { health: 'UP' as const, badStreak: 0, cleanSince: null, since: T0 - 600_000 };

/**
 * A run of 4 rounds (T0 … T0 + 15 s), DOWN at the first bad sample, with `down(id, at)` saying
 * which targets are bad; the operator acknowledges MONITOR_BLIND between the first two rounds.
 */
async function runWithAck(down: (id: string, at: number) => boolean) {
  const clock = new FakeClock(T0);
  const director = snapshotDirector('DC', GROUPS, clock, { loss: (id, at) => (down(id, at) ? 100 : 0) });
  const store = new MemoryStore();
  for (const id of ['a1', 'a2', 'b1', 'b2']) store.seed(id, UP);
  const deps = runDeps({ DC: director }, store, clock, settings({ failAfter: 1, samplesPerRun: 4 }), {
    blindShare: 0.5,
    blindMinTargets: 4,
  });
  const latches: boolean[] = [];
  deps.sleep = async (ms) => {
    latches.push(store.directors.get('DC')?.monitorBlindLatched ?? false);
    await clock.sleep(ms);
    if (clock.t === T0 + 5_000) {
      // ack-monitor-blind (StateRepository.acknowledgeMonitorBlind): the latch cleared, the ack kept.
      const item = store.directors.get('DC');
      if (item) {
        const ack = { at: clock.t, reason: 'DC power loss confirmed', by: 'noc' };
        store.directors.set('DC', {
          ...item,
          monitorBlind: false,
          monitorBlindLatched: false,
          acknowledged: ack,
        });
      }
    }
  };
  const summary = await runHealthCheck(deps);
  latches.push(store.directors.get('DC')?.monitorBlindLatched ?? false);
  return { summary, latches, status: store.directors.get('DC') };
}

describe('health run: MONITOR_BLIND acknowledged during the run that raised it', () => {
  it('is not raised again by the same run from the DOWNs the operator acknowledged', async () => {
    // a1 and a2 go DOWN in the first round: 2 of 4 (50 %), the latch is raised.
    const { summary, latches, status } = await runWithAck((id) => id.startsWith('a'));
    expect(summary.transitions.map((t) => `${t.target}:${t.to}`)).toEqual(['a1:DOWN', 'a2:DOWN']);
    // Latched after round 1, acknowledged before round 2, and it stays so for the rest of the run.
    // Before the fix: round 2 raised it again from the run's cumulative count (2 DOWN).
    expect(latches).toEqual([true, false, false, false]);
    expect(status).toMatchObject({ monitorBlind: false, monitorBlindLatched: false });
  });

  it('a new mass DOWN after the acknowledgement raises it again', async () => {
    // a1, a2 DOWN in round 1 (acknowledged); b1, b2 DOWN in round 3: 2 of 4 since the ack.
    const { latches, status } = await runWithAck((id, at) => id.startsWith('a') || at >= T0 + 10_000);
    expect(latches).toEqual([true, false, true, true]);
    expect(status).toMatchObject({ monitorBlind: true, monitorBlindLatched: true });
  });
});
