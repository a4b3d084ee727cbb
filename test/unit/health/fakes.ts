/**
 * In-memory fakes for the health-run unit tests: a store with DynamoDB's version-conditional
 * health writes (the whole HealthState is kept, as the store persists it), a scripted director
 * (snapshot or series), a fake clock, and a gate that holds chosen writes until the test releases
 * them (so the interleaving of overlapping runs is the test's, not the scheduler's).
 */
import type { Director, DirectorHealth } from '../../../shared/director/port.js';
import type { HealthState } from '../../../shared/domain/health.js';
import type { Sample, SiteName, SiteRole } from '../../../shared/domain/model.js';
import type { HealthRunDeps, HealthSettings, HealthStore } from '../../../shared/health/run.js';
import type {
  DirectorItem,
  DirectorStatus,
  HealthItemWrite,
  HealthWriteResult,
  StoredHealth,
} from '../../../shared/store/state-repo.js';
import { topology, type HubSpec } from '../failover/fake-director.js';

export const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
/** One group with one concentrator, `hub1` (DC/ACTIVE). */
export const HUB1: HubSpec[] = [{ id: 'hub1', site: 'DC', haState: 'ACTIVE' }];
export const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A fake clock: `sleep` advances time at once (after yielding to other work). */
export class FakeClock {
  constructor(public t: number) {}
  now = (): number => this.t;
  sleep = async (ms: number): Promise<void> => {
    this.t += Math.max(0, ms);
    await new Promise((resolve) => setImmediate(resolve));
  };
}

/** Health items and director items in Maps; every write yields to the event loop first. */
export class MemoryStore implements HealthStore {
  readonly items = new Map<string, StoredHealth>();
  readonly directors = new Map<SiteName, DirectorItem>();
  /** The site roles the run reads (set them to test a switchover). */
  siteRoles: Record<SiteName, SiteRole> = { DC: 'ACTIVE', DR: 'PASSIVE' };
  /** Every successful health write, in order. */
  readonly written: HealthItemWrite[] = [];

  async getSiteRoles(): Promise<Record<SiteName, SiteRole>> {
    return { ...this.siteRoles };
  }
  async loadHealth(): Promise<Map<string, StoredHealth>> {
    return new Map([...this.items].map(([id, s]) => [id, { state: { ...s.state }, version: s.version }]));
  }
  async readHealth(_groupKey: string, targetId: string): Promise<StoredHealth | undefined> {
    await new Promise((resolve) => setImmediate(resolve));
    this.reads++;
    const s = this.items.get(targetId);
    return s && { state: { ...s.state }, version: s.version };
  }
  /** Single-target reads ({@link readHealth}) so far. */
  reads = 0;
  async writeHealth(item: HealthItemWrite, expected: number | undefined): Promise<HealthWriteResult> {
    await new Promise((resolve) => setImmediate(resolve));
    const current = this.items.get(item.targetId);
    if (current?.version !== expected) return { ok: false, current: current && { ...current } };
    const version = (expected ?? 0) + 1;
    this.items.set(item.targetId, { state: JSON.parse(JSON.stringify(item.state)) as HealthState, version });
    this.written.push(item);
    return { ok: true, version };
  }
  async loadDirectorStatus(site: SiteName): Promise<DirectorItem | undefined> {
    const item = this.directors.get(site);
    return item && { ...item };
  }
  async writeDirectorStatus(status: DirectorStatus): Promise<boolean> {
    const previous = this.directors.get(status.site);
    const kept = { ...previous };
    if (status.reachable) {
      delete kept.lostAt;
      delete kept.lastAnsweredAt;
    }
    this.directors.set(status.site, {
      ...kept,
      ...status,
      type: 'director',
      version: (previous?.version ?? 0) + 1,
    } as DirectorItem);
    return true;
  }
  /** Seed a target's stored state. */
  seed(targetId: string, state: HealthState, version = 1): void {
    this.items.set(targetId, { state, version });
  }
  state(targetId: string): HealthState | undefined {
    return this.items.get(targetId)?.state;
  }
}

/**
 * The same store seen through a gate: health writes for which `hold(item)` is true wait until
 * {@link Gate.release}; {@link Gate.entered} resolves when the first held write arrives.
 */
export interface Gate {
  store: HealthStore;
  entered: Promise<HealthItemWrite>;
  release(): void;
}
export function gate(inner: HealthStore, hold: (item: HealthItemWrite) => boolean): Gate {
  let enter!: (item: HealthItemWrite) => void;
  let open!: () => void;
  const entered = new Promise<HealthItemWrite>((r) => (enter = r));
  const opened = new Promise<void>((r) => (open = r));
  let released = false;
  const store: HealthStore = {
    loadHealth: (groupKeys) => inner.loadHealth(groupKeys),
    readHealth: (groupKey, targetId) => inner.readHealth(groupKey, targetId),
    loadDirectorStatus: (site) => inner.loadDirectorStatus(site),
    writeDirectorStatus: (status) => inner.writeDirectorStatus(status),
    getSiteRoles: () => inner.getSiteRoles(),
    writeHealth: async (item, expected) => {
      if (!released && hold(item)) {
        enter(item);
        await opened;
      }
      return inner.writeHealth(item, expected);
    },
  };
  return {
    store,
    entered,
    release: () => {
      released = true;
      open();
    },
  };
}

/** What a scripted director answers at a time: reachable or not, and each CPE's loss (undefined: unreachable CPE). */
export interface DirectorScript {
  reachable?: (at: number) => boolean;
  loss?: (cpeId: string, at: number) => number | undefined;
}

/**
 * A snapshot (zWAN-like) director of one site whose answers follow a script on the given clock:
 * one group of these hubs, or (a list of lists) groups G1, G2, … of one branch each.
 */
export function snapshotDirector(
  site: SiteName,
  hubs: HubSpec[] | HubSpec[][],
  clock: { now(): number },
  script: DirectorScript = {},
): Director & { calls: number } {
  const groups = hubs.every(Array.isArray) ? hubs : [hubs as HubSpec[]];
  const cpes = groups.flatMap((g, i) =>
    topology({ hubs: g, branches: 1, ...(groups.length > 1 ? { haName: `G${i + 1}` } : {}) }),
  );
  const director = {
    kind: 'zwan' as const,
    site,
    calls: 0,
    listCpes: async () => cpes,
    sampleHealth: async (_tenant: string, ids: readonly string[]): Promise<Sample[]> => {
      director.calls++;
      const at = clock.now();
      if (script.reachable && !script.reachable(at)) throw new Error('director down');
      return ids.flatMap((id) => {
        const loss = script.loss ? script.loss(id, at) : 0;
        return loss === undefined
          ? []
          : [{ target: id, at, reachable: loss < 100, lossPct: loss, latencyMs: 10 }];
      });
    },
    health: async (): Promise<DirectorHealth> => {
      const reachable = script.reachable ? script.reachable(clock.now()) : true;
      return { site, reachable, healthy: reachable };
    },
    fence: async () => {},
    setHaState: async () => {},
    repoint: async () => {
      throw new Error('not used');
    },
  };
  return director;
}

/**
 * A series (Meraki-like) director: per-minute points of each hub, `lagMs` behind the clock, each
 * returned once (a watermark per target); `loss(id, at)` null is a no-data point.
 */
export function seriesDirector(
  hubs: HubSpec[],
  clock: { now(): number },
  loss: (cpeId: string, at: number) => number | null,
  lagMs = 120_000,
): Director {
  const cpes = topology({ hubs, branches: 1 });
  const watermark = new Map<string, number>();
  return {
    kind: 'meraki',
    site: 'DC',
    sampling: 'series',
    listCpes: async () => cpes,
    sampleHealth: async (_tenant, ids) => {
      const newest = Math.floor((clock.now() - lagMs) / 60_000) * 60_000;
      return ids.flatMap((id) => {
        const out: Sample[] = [];
        for (
          let at = Math.max(newest - 240_000, (watermark.get(id) ?? -Infinity) + 60_000);
          at <= newest;
          at += 60_000
        ) {
          const l = loss(id, at);
          out.push({
            target: id,
            at,
            reachable: l === null || l < 100,
            lossPct: l,
            latencyMs: l === null ? null : 10,
          });
        }
        watermark.set(id, newest);
        return out;
      });
    },
    health: async () => ({ site: 'DC', reachable: true, healthy: true }),
    fence: async () => {},
    setHaState: async () => {},
    repoint: async () => {
      throw new Error('not used');
    },
  };
}

/** Health settings for the tests: 5 s samples, 12 per run, DOWN after 3, UP after 30 s. */
export function settings(over: Partial<HealthSettings> = {}): HealthSettings {
  return {
    lossThresholdPct: 30,
    failAfter: 3,
    recoverAfterSec: 30,
    sampleIntervalSec: 5,
    samplesPerRun: 12,
    ...over,
  };
}

/** Deps of one run on its own clock. */
export function runDeps(
  directors: HealthRunDeps['directors'],
  repo: HealthStore,
  clock: FakeClock,
  health: HealthSettings = settings(),
  election?: HealthRunDeps['config']['election'],
): HealthRunDeps {
  return {
    directors,
    repo,
    config: { tenants: ['t1'], health, ...(election ? { election } : {}) },
    clock: clock.now,
    sleep: clock.sleep,
    log: silent,
  };
}
