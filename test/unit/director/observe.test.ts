/**
 * Observe mode: the decorator refuses every director write (counted, logged, ObserveModeError,
 * nothing reaches the director), reads pass through; the failover service stores and notifies
 * would-be decisions, its drift pass sends nothing, and act mode later moves the branches once.
 */
import { parseConfig } from '../../../shared/config/load.js';
import {
  DIRECTOR_WRITES,
  directorsForMode,
  isObserveOnly,
  OBSERVE_METRICS,
  observeOnly,
} from '../../../shared/director/observe.js';
import type { DrDirector } from '../../../shared/director/port.js';
import { ConfigError, ObserveModeError } from '../../../shared/errors.js';
import { reconcileDrift } from '../../../shared/failover/drift.js';
import type { FailoverDeps } from '../../../shared/failover/ports.js';
import { observing, reconcileGroup, wouldDo } from '../../../shared/failover/service.js';
import { CountingMetricSink, type LogSink } from '../../../shared/observability.js';
import { harness, kinds, KEY } from '../failover/harness.js';

/** A LogSink that keeps every line. */
function recordingLog(): LogSink & { lines: { level: string; message: string; attrs: unknown[] }[] } {
  const lines: { level: string; message: string; attrs: unknown[] }[] = [];
  const at =
    (level: string) =>
    (message: string, ...attrs: Record<string, unknown>[]) =>
      void lines.push({ level, message, attrs });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A DrDirector (plus the zWAN group button and the Meraki tag calls) recording every call. */
function recordingDirector() {
  const calls: string[] = [];
  const record =
    (name: string, answer: unknown = undefined) =>
    async () => {
      calls.push(name);
      return answer;
    };
  const director = {
    kind: 'zwan' as const,
    site: 'DR' as const,
    listCpes: record('listCpes', [{ id: 'c1' }]),
    sampleHealth: record('sampleHealth', []),
    health: record('health', { site: 'DR', reachable: true, healthy: true }),
    getJob: record('getJob', { jobId: 'j1', kind: 'backup', state: 'RUNNING', progressPct: 5 }),
    vpnReach: record('vpnReach', []),
    fence: record('fence'),
    setHaState: record('setHaState'),
    repoint: record('repoint'),
    repointGroup: record('repointGroup'),
    updateGroupBranches: record('updateGroupBranches'),
    setSiteRole: record('setSiteRole'),
    startBackup: record('startBackup'),
    startRestore: record('startRestore'),
    setManagementUrl: record('setManagementUrl'),
    retagOne: record('retagOne'),
    retagMany: record('retagMany'),
  };
  return { director, calls };
}

const action = {
  groupKey: 't1#Chennai',
  branchId: 'BR1',
  targetId: 'HA_DC2',
  epoch: 7,
  tunnels: [{ haTunnelIdentifier: 'HA-T1', tunnelId: 'T-2' }],
};
const location = { bucket: 'b', mspPrefix: 'msp/DR/x/', elkPrefix: 'drrepository/x/' };

describe('observeOnly', () => {
  it('refuses every write before it reaches the director: ObserveModeError, one count and one warning each', async () => {
    const { director, calls } = recordingDirector();
    const log = recordingLog();
    const metrics = new CountingMetricSink();
    const observed = observeOnly(director as unknown as DrDirector, { log, metrics }) as unknown as Record<
      string,
      (...args: unknown[]) => Promise<unknown>
    >;
    const args: Record<string, unknown[]> = {
      fence: ['t1', 'Chennai', 7],
      setHaState: ['t1', 'HA_DC2', 'ACTIVE', 7],
      repoint: [action, { fence: { read: async () => ({ epoch: 7 }) } }],
      repointGroup: [{ tenantId: 't1', haName: 'Chennai', targetId: 'HA_DC2', epoch: 7 }],
      updateGroupBranches: ['t1', 'Chennai', { epoch: 7 }],
      setSiteRole: ['PASSIVE'],
      startBackup: ['msp', location, { clientToken: 'tok' }],
      startRestore: ['msp', location],
      setManagementUrl: ['https://dr.example.net'],
      retagOne: ['org1', 'N_1', 'hub2'],
      retagMany: ['org1', [{ networkId: 'N_1', hub: 'hub2' }]],
    };
    expect(Object.keys(args).sort()).toEqual([...DIRECTOR_WRITES].sort());
    for (const name of DIRECTOR_WRITES) {
      const error = await observed[name]!(...(args[name] ?? [])).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ObserveModeError);
      expect((error as ObserveModeError).operation).toBe(name);
      expect((error as Error).message).toContain(`observe mode: ${name}(`);
    }
    expect(calls).toEqual([]);
    expect(metrics.get(OBSERVE_METRICS.refusedWrites)).toBe(DIRECTOR_WRITES.length);
    expect(log.lines.map((l) => [l.level, l.message])).toEqual(
      DIRECTOR_WRITES.map((name) => [
        'warn',
        `observe mode: refused ${name} on the zwan DR director (nothing sent)`,
      ]),
    );
    // The log line names what was refused (identifiers and epoch), never a function.
    const repointLine = log.lines.find((l) => l.message.includes('refused repoint'));
    expect(repointLine?.attrs[0]).toMatchObject({
      operation: 'repoint',
      site: 'DR',
      args: [{ branchId: 'BR1', targetId: 'HA_DC2', epoch: 7 }],
    });
  });

  it("passes every read through unchanged and keeps the adapter's other fields", async () => {
    const { director, calls } = recordingDirector();
    const metrics = new CountingMetricSink();
    const observed = observeOnly(director as unknown as DrDirector, { log: recordingLog(), metrics });
    await expect(observed.listCpes('t1')).resolves.toEqual([{ id: 'c1' }]);
    await expect(observed.sampleHealth('t1', ['c1'])).resolves.toEqual([]);
    await expect(observed.health()).resolves.toMatchObject({ reachable: true });
    await expect(observed.getJob('j1')).resolves.toMatchObject({ state: 'RUNNING' });
    await expect((observed as unknown as typeof director).vpnReach()).resolves.toEqual([]);
    expect(calls).toEqual(['listCpes', 'sampleHealth', 'health', 'getJob', 'vpnReach']);
    expect(observed.kind).toBe('zwan');
    expect(observed.site).toBe('DR');
    expect(metrics.get(OBSERVE_METRICS.refusedWrites)).toBe(0);
  });

  it('is recognisable, wraps once, and directorsForMode wraps only in observe mode', async () => {
    const { director } = recordingDirector();
    const sinks = { log: recordingLog(), metrics: new CountingMetricSink() };
    const d = director as unknown as DrDirector;
    expect(isObserveOnly(d)).toBe(false);
    const once = observeOnly(d, sinks);
    expect(isObserveOnly(once)).toBe(true);
    expect(observeOnly(once, sinks)).toBe(once);
    const act = directorsForMode('act', { DC: d }, sinks);
    expect(act.DC).toBe(d);
    const observe = directorsForMode('observe', { DC: d, DR: d }, sinks);
    expect(isObserveOnly(observe.DC) && isObserveOnly(observe.DR)).toBe(true);
    await expect(observe.DC.fence('t1', 'Chennai', 1)).rejects.toBeInstanceOf(ObserveModeError);
  });
});

describe('config mode', () => {
  const base = {
    env: 'lab',
    director: {
      kind: 'zwan',
      sites: { DC: { baseUrl: 'https://dc.example.net' }, DR: { baseUrl: 'https://dr.example.net' } },
      secretName: 's',
      tenants: ['t1'],
    },
  };

  it('defaults to act and accepts observe', () => {
    expect(parseConfig(base).mode).toBe('act');
    expect(parseConfig({ ...base, mode: 'observe' }).mode).toBe('observe');
  });

  it('a bad mode is a ConfigError naming the field and the value', () => {
    let error: unknown;
    try {
      parseConfig({ ...base, mode: 'watch' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      expect.objectContaining({ path: 'mode', value: 'watch' }),
    ]);
    expect((error as Error).message).toMatch(/mode="watch": expected .*act.*observe/);
  });
});

/** The unit harness with its directors wrapped as observe mode wraps them. */
function observeHarness(branches: number) {
  const h = harness({ branches, on: 'DC1' });
  const log = recordingLog();
  const deps: FailoverDeps = {
    ...h.deps,
    directors: directorsForMode('observe', h.deps.directors, { log, metrics: h.metrics }),
  };
  return { ...h, observeDeps: deps, log };
}

describe('the failover service in observe mode', () => {
  it('stores and notifies "observe: would fail over … N branches", writes nothing to the director, stores no outcome', async () => {
    const h = observeHarness(4);
    expect(observing(h.observeDeps)).toBe(true);
    const first = await reconcileGroup(h.observeDeps, KEY, { trigger: 'stream' });
    expect(first).toMatchObject({ servingId: 'DC1', epoch: 1, changed: true });
    h.store.setHealth(KEY, 'DC1', 'DOWN', 2);
    const r = await reconcileGroup(h.observeDeps, KEY, { trigger: 'stream' });
    expect(r).toMatchObject({ servingId: 'DC2', previousId: 'DC1', epoch: 2, changed: true, held: false });
    expect(r.reason).toMatch(/^observe: would fail over Chennai DC1 → DC2: 4 branches; /);
    expect(r.fanOut?.observed).toEqual({
      repoints: 4,
      haState: [
        { cpeId: 'DC2', state: 'ACTIVE' },
        { cpeId: 'DC1', state: 'PASSIVE' },
      ],
    });
    expect(r.fanOut?.counts).toMatchObject({ total: 4, repointed: 0, unchanged: 0, failed: 0 });
    // Nothing reached the director: no fence, no HA_STATE, no re-point; branches still on DC1.
    expect(h.director.calls.fence).toEqual([]);
    expect(h.director.calls.setHaState).toEqual([]);
    expect(h.director.calls.repoint).toBe(0);
    expect([...h.director.branchTargets().values()]).toEqual(['DC1', 'DC1', 'DC1', 'DC1']);
    expect(await h.store.listBranchOutcomes(KEY)).toEqual([]);
    // The decision is the controller's own state: stored, worded as what it would do.
    expect(await h.store.getGroup(KEY)).toMatchObject({ servingId: 'DC2', epoch: 2 });
    expect((await h.store.getGroup(KEY))?.reason).toMatch(/^observe: would fail over Chennai/);
    const failover = h.published.notices.find((n) => n.kind === 'FAILOVER');
    expect(failover).toMatchObject({ observed: true, from: 'DC1', to: 'DC2', epoch: 2 });
    expect(failover?.reason).toContain('observe: would fail over Chennai DC1 → DC2: 4 branches');
    expect(h.audited.filter((n) => n.kind === 'FAILOVER')).toHaveLength(1);
    // Refusals counted (one fence per fan-out), would-be work counted, no Failovers/Repoints.
    expect(h.metrics.get(OBSERVE_METRICS.refusedWrites)).toBe(2);
    expect(h.metrics.get(OBSERVE_METRICS.wouldRepoint)).toBe(4);
    expect(h.metrics.get(OBSERVE_METRICS.wouldChangeServing)).toBe(2);
    expect(h.metrics.get('Failovers')).toBe(0);
    expect(h.metrics.get('Repoints')).toBe(0);
    expect(kinds(h)).toEqual(['ELECTED', 'FAILOVER']);
  });

  it('drift passes send nothing and notify nothing; act mode then moves the branches once, without a second notice', async () => {
    const h = observeHarness(3);
    await reconcileGroup(h.observeDeps, KEY, { trigger: 'stream' });
    h.store.setHealth(KEY, 'DC1', 'DOWN', 2);
    await reconcileGroup(h.observeDeps, KEY, { trigger: 'stream' });
    const refused = h.metrics.get(OBSERVE_METRICS.refusedWrites);
    const noticesBefore = h.published.notices.length;
    for (let pass = 0; pass < 3; pass++) {
      const report = await reconcileDrift(h.observeDeps);
      expect(report).toMatchObject({ drifted: 3, repointed: 0, failed: 0, errors: [] });
      expect(report.results[0]?.fanOut?.observed?.repoints).toBe(3);
    }
    expect(h.metrics.get(OBSERVE_METRICS.refusedWrites)).toBe(refused);
    expect(h.published.notices).toHaveLength(noticesBefore);
    expect(h.director.calls.repoint).toBe(0);

    // Switched to act (the same store; directors no longer wrapped): one pass moves them.
    const act = await reconcileDrift(h.deps);
    expect(act).toMatchObject({ drifted: 3, repointed: 3, failed: 0 });
    expect([...h.director.branchTargets().values()]).toEqual(['DC2', 'DC2', 'DC2']);
    expect(h.director.calls.setHaState).toEqual([
      ['DC2', 'ACTIVE', 2],
      ['DC1', 'PASSIVE', 2],
    ]);
    expect(h.published.notices).toHaveLength(noticesBefore);
    const again = await reconcileDrift(h.deps);
    expect(again).toMatchObject({ drifted: 0, repointed: 0 });
  });

  it('words each kind of change', () => {
    const group = { key: KEY, tenantId: 't1', haName: 'Chennai', branches: [], candidates: [] };
    expect(wouldDo('FAILBACK', group, 'DC2', 'DC1', 1)).toBe(
      'observe: would fail back Chennai DC2 → DC1: 1 branch',
    );
    const meraki = {
      ...group,
      candidates: ['london', 'paris'].map((hub) => ({ id: `N_1→${hub}`, name: `Branch 1 → ${hub}` })),
    } as unknown as Parameters<typeof wouldDo>[1];
    expect(wouldDo('FAILOVER', meraki, 'N_1→london', 'N_1→paris', 1)).toBe(
      'observe: would fail over Chennai from Branch 1 → london to Branch 1 → paris: 1 branch',
    );
    expect(wouldDo('ELECTED', group, undefined, 'DC1', 0)).toBe(
      'observe: would elect Chennai - → DC1: 0 branches',
    );
  });
});
