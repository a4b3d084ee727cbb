/**
 * DIRECTOR_LOST: the ACTIVE site's director unreachable for `dr.directorLostAfterSec` is raised
 * once per outage (notice with the evidence; with auto switchover, SwitchoverDcToDr started with
 * the approval step), and cleared when it answers again. A PASSIVE site's director is never lost.
 */
import { directorLossNotices, type SwitchoverStarter } from '../../../shared/health/director-lost.js';
import { runHealthCheck, type DirectorLossListener } from '../../../shared/health/run.js';
import type { Notice } from '../../../shared/notify/port.js';
import { silentLog } from '../../../shared/observability.js';
import { FakeClock, HUB1, MemoryStore, runDeps, snapshotDirector, T0 } from './fakes.js';

const MIN = 60_000;

/** A DC director down from +1 min to +8 min; runs every minute, lost after 300 s. */
function world(opts: { autoSwitchover?: boolean; role?: 'ACTIVE' | 'PASSIVE' } = {}) {
  const clock = new FakeClock(T0);
  const down = (at: number) => at >= T0 + MIN && at < T0 + 8 * MIN;
  const dc = snapshotDirector('DC', HUB1, clock, { reachable: (at) => !down(at) });
  const store = new MemoryStore();
  if (opts.role === 'PASSIVE') store.siteRoles = { DC: 'PASSIVE', DR: 'ACTIVE' };
  const notices: Notice[] = [];
  const started: { name: string; input: unknown }[] = [];
  const starter: SwitchoverStarter = {
    async start(name, input) {
      started.push({ name, input });
      return `arn:exec:${name}`;
    },
  };
  const listener: DirectorLossListener = directorLossNotices({
    notifier: { notify: async (n) => void notices.push(n), publish: async () => true },
    log: silentLog,
    autoSwitchover: opts.autoSwitchover ?? false,
    starter,
  });
  const run = async () => {
    const deps = { ...runDeps({ DC: dc }, store, clock), directorLoss: listener };
    deps.config = { ...deps.config, directorLostAfterSec: 300 };
    await runHealthCheck(deps, { samplesPerRun: 1 });
  };
  /** Runs every minute from now until `untilMin`. */
  const runUntil = async (untilMin: number) => {
    while (clock.t <= T0 + untilMin * MIN) {
      await run();
      clock.t = Math.ceil((clock.t + 1) / MIN) * MIN;
    }
  };
  return { clock, store, notices, started, runUntil };
}

describe('DIRECTOR_LOST', () => {
  it('is raised once, after 300 s unreachable, with the evidence; cleared when the director answers', async () => {
    const w = world();
    await w.runUntil(5);
    expect(w.notices).toEqual([]); // unreachable since +1 min: 4 min so far
    await w.runUntil(7);
    const lost = w.notices.filter((n) => n.kind === 'DIRECTOR_LOST');
    expect(lost).toHaveLength(1);
    expect(lost[0]?.at).toBe(T0 + 6 * MIN);
    expect(lost[0]?.reason).toMatch(/the DC director \(site ACTIVE\) has not answered for 5 min/);
    expect(lost[0]?.reason).toMatch(new RegExp(`unreachable since ${new Date(T0 + MIN).toISOString()}`));
    // The run that found it unreachable had no answer from it: the bound is that run's start.
    expect(lost[0]?.reason).toMatch(new RegExp(`last answer before ${new Date(T0 + MIN).toISOString()}`));
    expect(lost[0]?.detail).toMatchObject({ site: 'DC', concentrators: [{ id: 'hub1', health: 'UNKNOWN' }] });
    expect((await w.store.loadDirectorStatus('DC'))?.lostAt).toBe(T0 + 6 * MIN);
    expect(w.started).toEqual([]); // auto switchover is off

    await w.runUntil(9);
    expect(w.notices.map((n) => n.kind)).toEqual(['DIRECTOR_LOST', 'DIRECTOR_BACK']);
    expect((await w.store.loadDirectorStatus('DC'))?.lostAt).toBeUndefined();
  });

  it('with auto switchover on, starts SwitchoverDcToDr once (unplanned, with approval) and says so', async () => {
    const w = world({ autoSwitchover: true });
    await w.runUntil(7);
    expect(w.started).toEqual([
      {
        name: `director-lost-DC-${T0 + MIN}`,
        input: { mode: 'unplanned', reason: expect.stringMatching(/^DIRECTOR_LOST/), approval: true },
      },
    ]);
    expect(w.notices[0]?.reason).toMatch(/SwitchoverDcToDr started .*waits for your approval/);
  });

  it('a PASSIVE site director unreachable is never lost', async () => {
    const w = world({ role: 'PASSIVE', autoSwitchover: true });
    await w.runUntil(9);
    expect(w.notices).toEqual([]);
    expect(w.started).toEqual([]);
  });
});
