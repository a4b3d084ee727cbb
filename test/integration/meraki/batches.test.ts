/**
 * Action batches by Meraki's rules, over HTTP to the simulator: synchronous for ≤ 20 actions,
 * one pending listing per interval for all running batches, a batch that outlives the caller's
 * patience reported pending (not failed) and never resubmitted while it runs, and a 400 naming
 * one network that does not fail the others.
 */
import { jest } from '@jest/globals';
import { createMerakiDirector, parseMerakiConfig } from '../../../shared/director/meraki/adapter.js';
import { createMerakiBatches } from '../../../shared/director/meraki/batches.js';
import { createMerakiContext } from '../../../shared/director/meraki/context.js';
import { hubStateTags } from '../../../shared/domain/meraki-tags.js';
import type { MerakiSimulator } from '../../../local/simulator/meraki/server.js';
import { HUBS, simClient, simConfig, simulators } from './tags-sim.js';

jest.setTimeout(60_000);

const start = simulators();
const config = simConfig;
const client = simClient;

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `N_o1_${from + i}`);
const toParis = (networkIds: string[]) => networkIds.map((networkId) => ({ networkId, hub: 'paris' }));
const posts = (sim: MerakiSimulator) =>
  sim.log.filter((e) => e.method === 'POST' && e.path === '/organizations/o1/actionBatches');
const listings = (sim: MerakiSimulator) =>
  sim.log.filter((e) => e.method === 'GET' && e.path === '/organizations/o1/actionBatches');
const reads = (sim: MerakiSimulator) =>
  sim.log.filter((e) => e.method === 'GET' && /^\/organizations\/o1\/actionBatches\/[^/]+$/.test(e.path));

describe('Meraki action batches (simulator over HTTP)', () => {
  it('goes synchronous for ≤ 20 actions (no polling) and asynchronous above', async () => {
    const sim = await start(41, { batchDurationMs: 50 });
    const d = createMerakiDirector({
      config: config(sim),
      ...client(sim),
      batches: { firstPollMs: 10, pollIntervalMs: 10 },
    });
    const twenty = await d.retagMany('o1', toParis(ids(20)));
    expect(twenty.changed).toHaveLength(20);
    expect(posts(sim).map((e) => (e.requestBody as { synchronous: boolean }).synchronous)).toEqual([true]);
    expect(reads(sim)).toEqual([]);
    sim.clearLog();
    const more = await d.retagMany('o1', toParis(ids(21, 20)));
    expect(more.changed).toHaveLength(21);
    expect(posts(sim).map((e) => (e.requestBody as { synchronous: boolean }).synchronous)).toEqual([false]);
    expect(ids(41).every((n) => sim.tunnelHub(n) === 'paris')).toBe(true);
  });

  it('polls running batches together: one pending listing when several are due, then a read of each done', async () => {
    const sim = await start(500, { batchDurationMs: 1_200 });
    const d = createMerakiDirector({
      config: config(sim),
      ...client(sim),
      batches: { firstPollMs: 200, pollIntervalMs: 200, maxPollIntervalMs: 400 },
    });
    sim.clearLog();
    const report = await d.retagMany('o1', toParis(ids(500)));
    expect(report.changed).toHaveLength(500);
    expect(report.batches).toHaveLength(5);
    // A look per batch every poll interval (200 ms) would be ≥ 5 × 1200 / 200 = 30 requests. Here
    // the batches due together (looks at 200, 300, 500, 900, 1300 ms) share one listing a round,
    // plus the one before submitting, and each batch is read once it left the listing (twice at
    // most, if a look found it just before it completed; a batch submitted late is looked at alone).
    expect(reads(sim).length).toBeGreaterThanOrEqual(5);
    expect(reads(sim).length).toBeLessThanOrEqual(10);
    expect(reads(sim).length + listings(sim).length).toBeLessThanOrEqual(16);
    expect(listings(sim).every((e) => e.query.status === 'pending')).toBe(true);
  });

  it('learns how long a batch of its size takes: the next batches are looked at about when they are done', async () => {
    const sim = await start(400, { batchDurationMs: 800 });
    const d = createMerakiDirector({
      config: config(sim),
      ...client(sim),
      batches: { firstPollMs: 100, pollIntervalMs: 200, size: 100, maxRunning: 1 },
    });
    // One batch at a time: the first is looked at from 100 ms on until it is done, and teaches 800 ms.
    const first = await d.retagMany('o1', toParis(ids(100)));
    expect(first.changed).toHaveLength(100);
    const firstLooks = reads(sim).length + listings(sim).length;
    sim.clearLog();
    const rest = await d.retagMany('o1', toParis(ids(300, 100)));
    expect(rest.changed).toHaveLength(300);
    expect(rest.batches).toHaveLength(3);
    // Each later batch: its result read once or twice (a miss near the estimate is looked at again
    // 50 ms later), against ≥ 4 looks for the first one (100, 200, 400, 800 ms). On real time one
    // of the three may miss twice (a look sent a few ms early): without the learning each would take
    // four or more, twelve in all.
    const laterReads = reads(sim).length;
    expect(laterReads).toBeGreaterThanOrEqual(3);
    expect(laterReads).toBeLessThanOrEqual(7);
    expect(firstLooks).toBeGreaterThanOrEqual(4);
    expect(ids(400).every((n) => sim.tunnelHub(n) === 'paris')).toBe(true);
  });

  it('a batch that outlives the wait is pending, not failed, and is not resubmitted while it runs', async () => {
    const sim = await start(30, { batchDurationMs: 1_500 });
    const d = createMerakiDirector({
      config: config(sim),
      ...client(sim),
      batches: { firstPollMs: 50, pollIntervalMs: 50, timeoutMs: 300 },
    });
    const changes = toParis(ids(30));
    const first = await d.retagMany('o1', changes);
    expect(first.failed).toEqual([]);
    expect(first.changed).toEqual([]);
    expect(first.pending).toHaveLength(30);
    expect(first.pending[0]).toMatchObject({
      batchId: expect.any(String),
      reason: expect.stringContaining('may still apply'),
    });
    expect(first.batches).toEqual([expect.objectContaining({ state: 'pending', failed: false })]);
    // Asked again while it runs: found in the pending listing, waited for, never resubmitted.
    const second = await d.retagMany('o1', changes);
    expect(second.pending).toHaveLength(30);
    expect(second.failed).toEqual([]);
    expect(posts(sim)).toHaveLength(1);
    // Another instance (another function) sees it too, and once it completed, it reads the tags.
    const other = createMerakiDirector({
      config: config(sim),
      ...client(sim),
      batches: { firstPollMs: 50, pollIntervalMs: 50, timeoutMs: 5_000 },
    });
    const third = await other.retagMany('o1', changes);
    expect(third.unchanged).toHaveLength(30);
    expect(third.pending).toEqual([]);
    expect(posts(sim)).toHaveLength(1);
    expect(ids(30).every((n) => sim.tunnelHub(n) === 'paris')).toBe(true);
  });

  it('a 400 at submission naming one network is resubmitted without it: the other 99 are re-tagged', async () => {
    const sim = await start(99, { batchDurationMs: 20 });
    const parsed = parseMerakiConfig(config(sim));
    const batches = createMerakiBatches(createMerakiContext(parsed, client(sim)), {
      batches: { firstPollMs: 10, pollIntervalMs: 10 },
    });
    const hub = HUBS[1] as (typeof HUBS)[number];
    const tags = ['branch', hubStateTags(HUBS[0] as (typeof HUBS)[number], 0).down, hubStateTags(hub, 1).up];
    const actions = [...ids(50), 'N_gone', ...ids(49, 50)].map((networkId) => ({ networkId, tags }));
    const outcome = await batches.submit('o1', actions);
    expect(outcome.rejected).toEqual([{ networkId: 'N_gone', reason: expect.stringContaining('N_gone') }]);
    expect(outcome.rejected[0]?.reason).toContain('HTTP 400');
    expect(outcome.batch?.state).toBe('done');
    expect(outcome.actions).toHaveLength(99);
    expect(ids(99).every((n) => sim.tunnelHub(n) === 'paris')).toBe(true);
    expect(posts(sim)).toHaveLength(2);
  });

  /** A fetch that answers the action-batch POST itself (after `forward`ing it, or not) with a 502. */
  const lostPost = (forward: boolean): typeof fetch => {
    let done = false;
    return (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      if (!done && init?.method === 'POST' && url.pathname.endsWith('/actionBatches')) {
        done = true;
        if (forward) await fetch(input, init);
        return new Response(JSON.stringify({ errors: ['Bad gateway'] }), { status: 502 });
      }
      return fetch(input, init);
    }) as typeof fetch;
  };

  it('never resends a POST whose answer was lost: a batch that exists is waited for, one that does not is failed', async () => {
    const sim = await start(24, { batchDurationMs: 200 });
    const make = (forward: boolean) =>
      createMerakiDirector({
        config: config(sim),
        ...client(sim),
        retries: 0,
        fetch: lostPost(forward),
        batches: { firstPollMs: 20, pollIntervalMs: 20 },
      });
    const created = await make(true).retagMany('o1', toParis(ids(24)));
    expect(created.failed).toEqual([]);
    expect(created.changed).toHaveLength(24);
    expect(posts(sim)).toHaveLength(1);
    const lost = await make(false).retagMany(
      'o1',
      ids(24).map((networkId) => ({ networkId, hub: 'london' })),
    );
    expect(lost.changed).toEqual([]);
    expect(lost.failed).toHaveLength(24);
    expect(lost.failed[0]?.reason).toContain('HTTP 502');
    expect(posts(sim)).toHaveLength(1); // the lost one never reached it, and was not resent
    expect(ids(24).every((n) => sim.tunnelHub(n) === 'paris')).toBe(true);
  });
});
