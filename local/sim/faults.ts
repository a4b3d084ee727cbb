/**
 * The checker's fault alphabet (the sandbox fault script's verbs) and the swarm: every rate and
 * every fault of a schedule drawn from its seed up front, so a schedule can be shrunk by dropping
 * faults and replayed exactly.
 */
import type { SiteName } from '../../shared/domain/model.js';
import type { DirectorMode, SimWorld } from '../simulator/zwan/world.js';
import type { Prng } from './prng.js';
import type { TransportFaults } from './transport.js';

/** One fault at a virtual time (ms after the start). */
export type Fault =
  | { at: number; verb: 'down' | 'up'; id: string }
  | { at: number; verb: 'loss'; id: string; pct: number }
  | { at: number; verb: 'oscillate'; id: string; periodMs: number; times: number }
  | { at: number; verb: 'site-down' | 'site-up'; site: SiteName }
  | { at: number; verb: 'director'; site: SiteName; mode: DirectorMode; forMs: number }
  | { at: number; verb: 'swizzle'; forMs: number }
  /** A point-in-time restore of the state table to its content at `fromAt` (epochs fall back). */
  | { at: number; verb: 'restore-table'; fromAt: number }
  /**
   * A site lost for `forMs`: its director down, and with `power` its concentrators too
   * (site-down); long enough, DIRECTOR_LOST (the checker's `dr.directorLostAfterSec` is 60 s).
   */
  | { at: number; verb: 'site-lost'; site: SiteName; forMs: number; power: boolean }
  /** Start a DR execution (the real DR tasks, in the state machine's order, see ./dr.ts). */
  | {
      at: number;
      verb: 'dr';
      workflow: 'SwitchoverDcToDr' | 'FailbackDrToDc';
      mode: 'planned' | 'unplanned';
    }
  /**
   * Meraki worlds (./meraki-world.ts): loss (null: no data) on the path from a network (`*`:
   * every network of the organization, i.e. the hub down) to a hub; that path flapping between
   * 100 % and clean; the Dashboard answering 5xx, 429 or refusing connections for `forMs`.
   */
  | {
      at: number;
      verb: 'path-loss';
      organizationId: string;
      networkId: string;
      hub: string;
      pct: number | null;
    }
  | {
      at: number;
      verb: 'path-oscillate';
      organizationId: string;
      networkId: string;
      hub: string;
      periodMs: number;
      times: number;
    }
  | { at: number; verb: 'dashboard'; mode: 'error5xx' | 'tooMany' | 'down'; forMs: number };

/** Rates of one schedule (TigerBeetle's options swarm: some off, some high). */
export interface Swarm {
  faultPhaseMs: number;
  transport: TransportFaults;
  /**
   * Per invocation: the chance its process crashes, at an await drawn uniformly among its first
   * few hundred (a long fan-out is not more likely to die than a short one).
   */
  crash: number;
  /** Per table write: the chance its answer is lost after it landed. */
  lostStoreAnswer: number;
  stream: { duplicate: number; shuffle: number; maxDelayMs: number };
  /** Stream shards, each with its own poller (2: two failover invocations can overlap). */
  shards: number;
  /** Chance a health run gets an overlapping second run. */
  overlapHealth: number;
  consoleOps: number;
  /** `dr.autoSwitchover`: DIRECTOR_LOST of the DC director starts SwitchoverDcToDr (approved at once). */
  autoSwitchover: boolean;
}

/** A calm run (hand-written schedules, measurements): no faults, no crashes, no console. */
export const CALM: Partial<Swarm> = {
  transport: { latencyMs: [1, 20], refused: 0, error5xx: 0, tooMany: 0, lostAnswer: 0, lateAnswer: 0 },
  crash: 0,
  lostStoreAnswer: 0,
  stream: { duplicate: 0, shuffle: 0, maxDelayMs: 500 },
  overlapHealth: 0,
  consoleOps: 0,
  autoSwitchover: false,
};

const maybe = (rng: Prng, max: number) => (rng.chance(0.5) ? 0 : rng.float() * max);

/** Draw a schedule's rates. */
export function drawSwarm(rng: Prng): Swarm {
  const transport: TransportFaults = {
    latencyMs: [1, rng.int(5, 400)],
    refused: maybe(rng, 0.05),
    error5xx: maybe(rng, 0.05),
    tooMany: maybe(rng, 0.03),
    lostAnswer: maybe(rng, 0.03),
    lateAnswer: maybe(rng, 0.02),
  };
  // A share of schedules on a clean network (only the directors' own faults): S6 is promised,
  // and judged, only over a window without transport faults.
  if (rng.chance(0.3))
    Object.assign(transport, { refused: 0, error5xx: 0, tooMany: 0, lostAnswer: 0, lateAnswer: 0 });
  return {
    faultPhaseMs: rng.int(2, 5) * 60_000,
    transport,
    crash: maybe(rng, 0.3),
    lostStoreAnswer: maybe(rng, 0.02),
    stream: { duplicate: maybe(rng, 0.3), shuffle: maybe(rng, 0.3), maxDelayMs: rng.int(100, 4000) },
    overlapHealth: maybe(rng, 0.4),
    shards: rng.int(1, 2),
    consoleOps: rng.chance(0.5) ? 0 : rng.int(1, 6),
    autoSwitchover: rng.chance(0.5),
  };
}

/** Draw a schedule's faults over the concentrators and sites. */
export function drawFaults(rng: Prng, concentrators: readonly string[], swarm: Swarm): Fault[] {
  const faults: Fault[] = [];
  const count = rng.chance(0.1) ? 0 : rng.int(1, 10);
  const when = () => rng.int(0, swarm.faultPhaseMs - 1);
  for (let i = 0; i < count && concentrators.length > 0; i++) {
    const id = rng.pick(concentrators);
    const r = rng.float();
    if (r < 0.3) faults.push({ at: when(), verb: 'down', id }, { at: when(), verb: 'up', id });
    else if (r < 0.45) faults.push({ at: when(), verb: 'loss', id, pct: rng.pick([0, 10, 35, 60, 100]) });
    else if (r < 0.6)
      faults.push({
        at: when(),
        verb: 'oscillate',
        id,
        periodMs: rng.int(2, 40) * 1000,
        times: rng.int(2, 12),
      });
    else if (r < 0.7) {
      const site = rng.pick(['DC', 'DR'] as const);
      faults.push({ at: when(), verb: 'site-down', site }, { at: when(), verb: 'site-up', site });
    } else if (r < 0.9)
      faults.push({
        at: when(),
        verb: 'director',
        site: rng.chance(0.8) ? 'DC' : 'DR',
        mode: rng.pick(['error5xx', 'down', 'hang'] as const),
        forMs: rng.int(5, 90) * 1000,
      });
    else if (r < 0.96) faults.push({ at: when(), verb: 'swizzle', forMs: rng.int(10, 60) * 1000 });
    else {
      const at = when();
      faults.push({ at, verb: 'restore-table', fromAt: rng.int(0, at) });
    }
  }
  // A table restore across a site-role change leaves the store's roles and the directors' apart
  // for good (nothing re-asserts a director's role from the table: every write is then refused
  // DIRECTOR_PASSIVE, see the report of issue 10 item 6): not drawn together with DR episodes.
  if (rng.chance(0.3) && !faults.some((f) => f.verb === 'restore-table')) faults.push(...drawDr(rng, swarm));
  return faults.sort((a, b) => a.at - b.at);
}

/**
 * A DR episode: a planned switchover (and maybe its failback); the DC site lost for minutes
 * (director down, maybe its power too) with a switchover drawn after DIRECTOR_LOST (or left to
 * `autoSwitchover`) and maybe a failback once it is back; or the DR director lost while DC is
 * ACTIVE. Each part its own fault, so shrinking drops them one by one.
 */
function drawDr(rng: Prng, swarm: Swarm): Fault[] {
  const phase = swarm.faultPhaseMs;
  const r = rng.float();
  if (r < 0.35) {
    const at = rng.int(0, Math.floor(phase * 0.6));
    const out: Fault[] = [{ at, verb: 'dr', workflow: 'SwitchoverDcToDr', mode: 'planned' }];
    if (rng.chance(0.6))
      out.push({
        at: rng.int(at + 20_000, at + 150_000),
        verb: 'dr',
        workflow: 'FailbackDrToDc',
        mode: 'planned',
      });
    return out;
  }
  if (r < 0.8) {
    const at = rng.int(0, Math.floor(phase * 0.5));
    const forMs = rng.int(60, 300) * 1000;
    const out: Fault[] = [{ at, verb: 'site-lost', site: 'DC', forMs, power: rng.chance(0.6) }];
    if (rng.chance(0.7))
      out.push({
        at: at + rng.int(30, 200) * 1000,
        verb: 'dr',
        workflow: 'SwitchoverDcToDr',
        mode: 'unplanned',
      });
    if (rng.chance(0.5))
      out.push({
        at: at + forMs + rng.int(0, 90) * 1000,
        verb: 'dr',
        workflow: 'FailbackDrToDc',
        mode: 'planned',
      });
    return out;
  }
  return [
    {
      at: rng.int(0, Math.floor(phase * 0.7)),
      verb: 'site-lost',
      site: 'DR',
      forMs: rng.int(60, 240) * 1000,
      power: rng.chance(0.5),
    },
  ];
}

/** Apply one fault to the world; `later` schedules its follow-ups. */
export function applyFault(
  world: SimWorld,
  f: Fault,
  later: (ms: number, fn: () => void) => void,
  rng: Prng,
): void {
  switch (f.verb) {
    case 'down':
    case 'up':
      world.setUp(f.id, f.verb === 'up');
      return;
    case 'loss': {
      const c = world.cpes.get(f.id);
      if (c) c.lossPct = f.pct;
      return;
    }
    case 'oscillate':
      for (let i = 0; i < f.times; i++) later(i * f.periodMs, () => world.setUp(f.id, i % 2 === 1));
      later(f.times * f.periodMs, () => world.setUp(f.id, true));
      return;
    case 'site-down':
    case 'site-up':
      world.setSitePower(f.site, f.verb === 'site-up');
      return;
    case 'director':
      world.sites[f.site].mode = f.mode;
      later(f.forMs, () => (world.sites[f.site].mode = 'ok'));
      return;
    case 'swizzle': {
      // Clog both directors one by one, then unclog them in random order.
      const sites = rng.shuffle(['DC', 'DR'] as SiteName[]);
      sites.forEach((s, i) => later(i * 2_000, () => (world.sites[s].mode = 'hang')));
      rng
        .shuffle([...sites])
        .forEach((s, i) => later(f.forMs + i * 3_000, () => (world.sites[s].mode = 'ok')));
      return;
    }
    case 'site-lost':
      world.sites[f.site].mode = 'down';
      if (f.power) world.setSitePower(f.site, false);
      later(f.forMs, () => {
        world.sites[f.site].mode = 'ok';
        if (f.power) world.setSitePower(f.site, true);
      });
      return;
    case 'restore-table':
    case 'dr':
      return; // the store's and the DR workflows', not the world's: the schedule applies them
    case 'path-loss':
    case 'path-oscillate':
    case 'dashboard':
      return; // Meraki worlds apply their own (./meraki-world.ts)
  }
}

/** Heal everything: power, CPEs, loss, directors. */
export function healWorld(world: SimWorld): void {
  for (const s of ['DC', 'DR'] as const) {
    world.setSitePower(s, true);
    world.sites[s].mode = 'ok';
  }
  for (const c of world.cpes.values()) {
    world.setUp(c.id, true);
    c.lossPct = 0;
  }
}

/** A fault for the trace. */
export function describeFault(f: Fault): string {
  switch (f.verb) {
    case 'down':
    case 'up':
      return `${f.verb} ${f.id}`;
    case 'loss':
      return `loss ${f.id} ${f.pct}`;
    case 'oscillate':
      return `oscillate ${f.id} every ${f.periodMs / 1000} s ×${f.times}`;
    case 'site-down':
    case 'site-up':
      return `${f.verb} ${f.site}`;
    case 'director':
      return `director ${f.site} ${f.mode} for ${f.forMs / 1000} s`;
    case 'swizzle':
      return `swizzle-clog both directors for ${f.forMs / 1000} s`;
    case 'restore-table':
      return `restore the state table to its content at +${Math.round(f.fromAt / 1000)} s (PITR)`;
    case 'site-lost':
      return `site ${f.site} lost for ${f.forMs / 1000} s (director down${f.power ? ', power off' : ''})`;
    case 'dr':
      return `start ${f.workflow} (${f.mode})`;
    case 'path-loss':
      return `loss ${f.networkId === '*' ? `every network of ${f.organizationId}` : f.networkId} → ${f.hub} ${f.pct ?? 'no data'}`;
    case 'path-oscillate':
      return `oscillate ${f.networkId === '*' ? `every network of ${f.organizationId}` : f.networkId} → ${f.hub} every ${f.periodMs / 1000} s ×${f.times}`;
    case 'dashboard':
      return `dashboard ${f.mode} for ${f.forMs / 1000} s`;
  }
}
