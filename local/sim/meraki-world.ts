/**
 * Meraki worlds for the checker: the Meraki Dashboard simulator (local/simulator/meraki) driven
 * in-process through its `dispatch()` on the checker's virtual clock, behind the real Meraki
 * pipeline director (shared/meraki/pipeline.ts `merakiSiteDirectors`) and its real HTTP client.
 *
 * The adapter takes no `transport` (shared/director/meraki/adapter.ts passes only `fetch` to
 * the HTTP client), so the checker injects a `fetch` that answers from `dispatch()` with
 * seeded latency and faults on the virtual clock; it ignores the client's `AbortSignal.timeout`
 * (a wall-clock timer) and times calls out itself in virtual time.
 *
 * Each branch network is an HA group (`<orgId>#<networkId>`) whose candidates are the paths to
 * its hubs (`networkId→hub`) in failover order; its one branch is the network. What the world
 * says: the network's tunnel follows its one `_up` tag; a candidate is "ACTIVE" when its hub's
 * `_up` tag is on the network, "PASSIVE" when its `_down` tag is (S3 asks the serving hub up and
 * every other down); a completed fan-out is judged by the hub the network reaches (VPN status),
 * since the pipeline verifies every swap. Health truth is the loss series the Dashboard returned (per
 * minute, at the point's own time, 2 minutes late).
 */
import { pathTarget, parsePathTarget } from '../../shared/director/meraki/adapter.js';
import { hubStateTags } from '../../shared/domain/meraki-tags.js';
import type { SiteName } from '../../shared/domain/model.js';
import {
  createMerakiSimulator,
  type MerakiSimulator,
  type SimOrganization,
} from '../simulator/meraki/server.js';
import type { Fault, Swarm } from './faults.js';
import type { CheckedWorld, GroupShape } from './invariants.js';
import type { Prng } from './prng.js';
import type { SimScheduler } from './scheduler.js';
import { headersOf, type TransportFaults, type TransportLog } from './transport.js';

/** A Meraki world's shape: organizations with their hubs (in failover order) and networks. */
export interface MerakiTopology {
  organizations: SimOrganization[];
}

const HUB_NAMES = ['london', 'paris', 'madrid'] as const;

/**
 * How long after the world changed a network's paths a completed fan-out is judged by tags, not
 * reach: its verification's last read (answered within two transport legs of at most 400 ms)
 * and its store writes may predate the change.
 */
const REACH_GRACE_MS = 5_000;

/** Draw a Meraki world: 1–2 organizations, 2–3 hubs each, 1–8 networks each (a few drifted). */
export function randomMerakiTopology(rng: Prng): MerakiTopology {
  const orgs = rng.int(1, 2);
  const organizations: SimOrganization[] = [];
  for (let o = 1; o <= orgs; o++) {
    const hubs = HUB_NAMES.slice(0, rng.int(2, 3)).map((name, i) => ({
      name,
      tagPrefix: `${name}${o}`,
      trackedIp: `198.51.${o}.${i + 1}`,
    }));
    const count = rng.int(1, 8);
    const networks = Array.from({ length: count }, (_, n) => {
      const on = rng.chance(0.1) ? rng.int(0, hubs.length - 1) : 0;
      return {
        id: `o${o}n${n + 1}`,
        name: `Branch ${o}.${n + 1}`,
        tags: ['branch', ...hubs.map((h, i) => (i === on ? hubStateTags(h, i).up : hubStateTags(h, i).down))],
      };
    });
    organizations.push({ id: `org${o}`, name: `Organization ${o}`, hubs, networks });
  }
  return { organizations };
}

/** The checker's groups of a Meraki world: one per network, its hubs' paths as candidates. */
export function merakiShapes(topology: MerakiTopology): Map<string, GroupShape> {
  const shapes = new Map<string, GroupShape>();
  for (const org of topology.organizations)
    for (const n of org.networks) {
      const key = `${org.id}#${n.id}`;
      shapes.set(key, {
        key,
        tenantId: org.id,
        haName: n.id,
        candidates: org.hubs.map((h) => pathTarget(n.id, h.name)),
        branches: [n.id],
      });
    }
  return shapes;
}

/** Draw a Meraki world's faults (see the Meraki verbs of {@link Fault}). */
export function drawMerakiFaults(rng: Prng, topology: MerakiTopology, swarm: Swarm): Fault[] {
  const faults: Fault[] = [];
  const count = rng.chance(0.1) ? 0 : rng.int(1, 8);
  const when = () => rng.int(0, swarm.faultPhaseMs - 1);
  for (let i = 0; i < count; i++) {
    const org = rng.pick(topology.organizations);
    const hub = rng.pick(org.hubs).name;
    // A hub down (every path to it) or one branch's path.
    const networkId = rng.chance(0.4) ? '*' : rng.pick(org.networks).id;
    const r = rng.float();
    if (r < 0.35) {
      faults.push(
        { at: when(), verb: 'path-loss', organizationId: org.id, networkId, hub, pct: 100 },
        { at: when(), verb: 'path-loss', organizationId: org.id, networkId, hub, pct: 0 },
      );
    } else if (r < 0.55)
      faults.push({
        at: when(),
        verb: 'path-loss',
        organizationId: org.id,
        networkId,
        hub,
        pct: rng.pick([0, 10, 35, 60, 100, null]),
      });
    else if (r < 0.75)
      faults.push({
        at: when(),
        verb: 'path-oscillate',
        organizationId: org.id,
        networkId,
        hub,
        periodMs: rng.int(30, 150) * 1000,
        times: rng.int(2, 8),
      });
    else
      faults.push({
        at: when(),
        verb: 'dashboard',
        mode: rng.pick(['error5xx', 'tooMany', 'down'] as const),
        forMs: rng.int(5, 150) * 1000,
      });
  }
  return faults.sort((a, b) => a.at - b.at);
}

/** A running Meraki world: the simulator, its faults, and the checker's view of it. */
export interface MerakiWorld {
  readonly sim: MerakiSimulator;
  readonly topology: MerakiTopology;
  readonly view: CheckedWorld;
  /** The Dashboard's own fault mode (the transport answers for it). */
  mode: 'ok' | 'error5xx' | 'tooMany' | 'down';
  apply(f: Fault, later: (ms: number, fn: () => void) => void): void;
  heal(): void;
  /** The `fetch` the adapter's HTTP client calls: in-process, on the virtual clock, with faults. */
  fetch(parts: {
    rng: Prng;
    faults: () => TransportFaults;
    log: TransportLog;
    timeoutMs: number;
    lossThresholdPct: number;
  }): typeof fetch;
}

function named(name: string, message: string, cause?: unknown): Error {
  const e = new Error(message, cause === undefined ? undefined : { cause });
  e.name = name;
  return e;
}

/** Start a Meraki world on the scheduler's clock (no socket). */
export async function createMerakiWorld(topology: MerakiTopology, sched: SimScheduler): Promise<MerakiWorld> {
  const sim = await createMerakiSimulator({
    organizations: topology.organizations,
    listen: false,
    now: () => sched.now,
    monotonicNow: () => sched.now,
    setTimer: (ms, fn) => sched.at(ms, fn),
    batchCompletionDelayMs: 1_500,
    logBodies: false,
    maxLog: 0,
  });
  const orgOf = new Map(topology.organizations.flatMap((o) => o.networks.map((n) => [n.id, o])));
  const hubIndex = (networkId: string, hub: string) =>
    orgOf.get(networkId)?.hubs.findIndex((h) => h.name === hub) ?? -1;

  const target = (networkId: string, hub: string | undefined) =>
    hub === undefined ? undefined : pathTarget(networkId, hub);
  // When the world last changed each network's paths (a loss fault, the heal): a fan-out that
  // completes just after it verified before it, so its reach is judged by tags for a moment.
  const pathChangedAt = new Map<string, number>();
  const reachedTarget = (networkId: string) =>
    sched.now - (pathChangedAt.get(networkId) ?? Number.NEGATIVE_INFINITY) < REACH_GRACE_MS
      ? target(networkId, sim.tunnelHub(networkId))
      : target(networkId, sim.reachableHub(networkId));

  const view: CheckedWorld = {
    currentTarget: (networkId) => target(networkId, sim.tunnelHub(networkId)),
    // S3a by the hub a branch reaches: the pipeline verifies each swap before it counts as done.
    reachedTarget,
    cpes: {
      get(id) {
        const p = parsePathTarget(id);
        const org = p ? orgOf.get(p.networkId) : undefined;
        const i = p ? hubIndex(p.networkId, p.hub) : -1;
        const hub = org?.hubs[i];
        if (!p || !hub) return undefined;
        const tags = sim.network(p.networkId)?.tags ?? [];
        const t = hubStateTags(hub, i);
        const site: SiteName = i < 2 ? 'DC' : 'DR';
        const haRole = tags.includes(t.up) ? 'ACTIVE' : tags.includes(t.down) ? 'PASSIVE' : undefined;
        return { site, ...(haRole ? { haRole } : {}) };
      },
    },
    sites: { DC: { mode: 'ok' }, DR: { mode: 'ok' } },
    othersPassive: true,
  };

  // Per path, the loss set now (oscillation flips it; heal clears it).
  const setLoss = (organizationId: string, networkId: string, hub: string, pct: number | null) => {
    const org = topology.organizations.find((o) => o.id === organizationId);
    for (const n of org?.networks ?? [])
      if (networkId === '*' || n.id === networkId) {
        sim.setLoss(n.id, hub, pct);
        pathChangedAt.set(n.id, sched.now);
      }
  };

  const world: MerakiWorld = {
    sim,
    topology,
    view,
    mode: 'ok',
    apply(f, later) {
      switch (f.verb) {
        case 'path-loss':
          setLoss(f.organizationId, f.networkId, f.hub, f.pct);
          return;
        case 'path-oscillate':
          for (let i = 0; i < f.times; i++)
            later(i * f.periodMs, () => setLoss(f.organizationId, f.networkId, f.hub, i % 2 === 0 ? 100 : 0));
          later(f.times * f.periodMs, () => setLoss(f.organizationId, f.networkId, f.hub, 0));
          return;
        case 'dashboard':
          world.mode = f.mode;
          later(f.forMs, () => (world.mode = 'ok'));
          return;
        default:
          return; // zWAN verbs: not drawn for Meraki worlds
      }
    },
    heal() {
      world.mode = 'ok';
      for (const org of topology.organizations)
        for (const n of org.networks) {
          for (const h of org.hubs) sim.setLoss(n.id, h.name, 0);
          pathChangedAt.set(n.id, sched.now);
        }
    },
    fetch({ rng, faults, log, timeoutMs, lossThresholdPct }) {
      const leg = () => {
        const [lo, hi] = faults().latencyMs;
        return rng.int(lo, hi);
      };
      const faulted = () => (log.lastFaultAt.DC = sched.now);
      // What the client's fetch transport reads of a Response (status, headers.get, text): a
      // real one per answer (undici, a body stream) cost more than the Dashboard's work.
      const answer = (status: number, text: string, headers: Record<string, string>) =>
        ({ status, headers: headersOf(headers), body: null, text: async () => text }) as unknown as Response;
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        answer(status, JSON.stringify(body), { 'content-type': 'application/json', ...headers });
      return (async (input: string | URL | Request, init?: RequestInit) => {
        log.calls++;
        const f = faults();
        const url = new URL(String(input instanceof Request ? input.url : input));
        await sched.sleep(leg());
        if (world.mode === 'down' || rng.chance(f.refused)) {
          faulted();
          throw new TypeError('fetch failed', {
            cause: Object.assign(new Error(`connect ECONNREFUSED ${url.host}`), { code: 'ECONNREFUSED' }),
          });
        }
        if (world.mode === 'error5xx' || rng.chance(f.error5xx)) {
          faulted();
          await sched.sleep(leg());
          return reply(rng.pick([500, 502, 503]), { errors: ['injected'] });
        }
        if (world.mode === 'tooMany' || rng.chance(f.tooMany)) {
          faulted();
          await sched.sleep(leg());
          return reply(429, { errors: ['API rate limit exceeded (injected)'] }, { 'retry-after': '1' });
        }
        const headers = Object.fromEntries(
          Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [
            k.toLowerCase(),
            v,
          ]),
        );
        const r = await sim.dispatch({
          method: init?.method ?? 'GET',
          url,
          headers,
          body: typeof init?.body === 'string' ? init.body : '',
        });
        // The simulator's own bug, never an injected fault (those are answered above): T1.
        if (r.status === 500 && r.text.includes('Internal simulator error'))
          log.internalErrors.push(`${init?.method ?? 'GET'} ${url.pathname}: ${r.text.slice(0, 300)}`);
        if (r.status === 200 && /\/uplinksLossAndLatency$/.test(url.pathname))
          recordSeries(r.text, url, log, lossThresholdPct, sched);
        if (rng.chance(f.lostAnswer)) {
          faulted();
          await sched.sleep(timeoutMs);
          throw named('TimeoutError', `no complete answer within ${timeoutMs} ms`);
        }
        if (rng.chance(f.lateAnswer)) {
          faulted();
          await sched.sleep(timeoutMs + leg());
          throw named('TimeoutError', `no complete answer within ${timeoutMs} ms`);
        }
        await sched.sleep(leg());
        return answer(r.status, r.text, r.headers);
      }) as typeof fetch;
    },
  };

  /** The health truth: each path's per-minute points as the Dashboard returned them (new ones only). */
  function recordSeries(text: string, url: URL, log: TransportLog, threshold: number, s: SimScheduler) {
    const orgId = decodeURIComponent(/\/organizations\/([^/]+)\//.exec(url.pathname)?.[1] ?? '');
    const org = topology.organizations.find((o) => o.id === orgId);
    const rows = JSON.parse(text) as {
      networkId: string;
      ip: string;
      timeSeries: { ts: string; lossPercent: number | null }[];
    }[];
    for (const row of rows) {
      const hub = org?.hubs.find((h) => h.trackedIp === row.ip);
      if (!hub) continue;
      const target = pathTarget(row.networkId, hub.name);
      let list = log.samples.get(target);
      if (!list) log.samples.set(target, (list = []));
      for (const p of row.timeSeries) {
        const at = Date.parse(p.ts);
        if (list.length > 0 && at <= (list[list.length - 1]?.[0] ?? 0)) continue;
        list.push([at, p.lossPercent === null ? null : p.lossPercent < threshold, s.current()?.id ?? 0]);
      }
    }
  }

  return world;
}

/** Whether a seed draws a Meraki world (about one in five; its own stream, so zWAN seeds are unchanged). */
export function drawsMeraki(seed: number): boolean {
  const h = Math.imul(seed ^ 0x4d455241, 0x9e3779b1) >>> 0;
  return ((h ^ (h >>> 15)) >>> 0) % 5 === 0;
}
