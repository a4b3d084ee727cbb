/**
 * Fenced tag swaps over HTTP to the Meraki simulator: the group's stored epoch (a fence on an
 * in-memory record here: the fan-out reads DynamoDB, the adapter only calls `read()`) checked
 * right before and after each write, tags written from the swap's own read, and every swap of the
 * pipeline verified against the branch's reachable hub.
 */
import { jest } from '@jest/globals';
import { createMerakiDirector, pathTarget } from '../../../shared/director/meraki/adapter.js';
import type { FenceState, RepointFence, WriteClaims } from '../../../shared/director/port.js';
import type { RepointAction } from '../../../shared/domain/model.js';
import { RepointNotReachedError, RepointPendingError, StaleEpochError } from '../../../shared/errors.js';
import { createMerakiPipelineDirector, type ReachVerifier } from '../../../shared/meraki/pipeline.js';
import { systemRuntime } from '../../../shared/runtime.js';
import { MemoryTable } from '../../../shared/store/memory-table.js';
import { StateRepository } from '../../../shared/store/state-repo.js';
import type { MerakiSimulator } from '../../../local/simulator/meraki/server.js';
import { simClient, simConfig, simulators } from './tags-sim.js';

jest.setTimeout(60_000);

const sims = simulators();
const start = (networks = 3) => sims(networks, { tunnelSettleMs: 0 });
const config = simConfig;

/** A fetch that runs `before(method, path)` ahead of each request (a race staged at a point). */
function staged(before: (method: string, path: string) => Promise<void> | void): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    await before(init?.method ?? 'GET', url.pathname.replace(/^\/api\/v1/, ''));
    return fetch(input, init);
  }) as typeof fetch;
}

function director(
  sim: MerakiSimulator,
  f?: typeof fetch,
  extra: { claims?: WriteClaims; claimWaitMs?: number } = {},
) {
  return createMerakiDirector({
    config: config(sim),
    ...simClient(sim),
    minSampleIntervalMs: 0,
    batches: { firstPollMs: 5, pollIntervalMs: 5 },
    ...(f ? { fetch: f } : {}),
    ...extra,
  });
}

/** Write claims as every function shares them (the state table's repository, in memory here). */
const sharedClaims = () => new StateRepository(new MemoryTable(), systemRuntime).claims;

/** The group's stored record, as a fence reads it. */
function record(initial: FenceState): RepointFence & { state: FenceState; reads: number } {
  const r = {
    state: initial,
    reads: 0,
    read: async () => {
      r.reads++;
      return { ...r.state };
    },
  };
  return r;
}

const N = 'N_o1_1';
const action = (hub: string, epoch: number): RepointAction => ({
  groupKey: `o1#${N}`,
  tenantId: 'o1',
  branchId: N,
  targetId: pathTarget(N, hub),
  epoch,
  tunnels: [],
});

describe('fenced tag swaps (simulator over HTTP)', () => {
  it('an epoch-1 swap racing an epoch-2 one never leaves the network on the epoch-1 hub', async () => {
    const sim = await start();
    const fence = record({ epoch: 1, servingId: pathTarget(N, 'paris') });
    let raced = false;
    const d2 = director(sim);
    // Epoch 1 wants paris. Right before its PUT goes out (after its fence check), epoch 2 is
    // stored (serving london) and its own swap runs to completion: the network is on london
    // already, so epoch 2 writes nothing. Then epoch 1's PUT lands on the Dashboard.
    const d1 = director(
      sim,
      staged(async (method, path) => {
        if (method !== 'PUT' || path !== `/networks/${N}` || raced) return;
        raced = true;
        fence.state = { epoch: 2, servingId: pathTarget(N, 'london') };
        const r2 = await d2.repoint(action('london', 2), { fence });
        expect(r2.changed).toBe(false);
      }),
    );
    await expect(d1.repoint(action('paris', 1), { fence })).rejects.toThrow(StaleEpochError);
    expect(raced).toBe(true);
    // Epoch 1's PUT did land (paris) and was redone for the newest serving from a fresh read.
    const tunnel = sim.tunnelChanges.filter((c) => c.networkId === N).map((c) => c.to);
    expect(tunnel).toEqual(['paris', 'london']);
    expect(sim.tunnelHub(N)).toBe('london');
  });

  it('with write claims, the epoch-2 change waits out the epoch-1 PUT still in flight and reports only once the network is on its hub', async () => {
    const sim = await start();
    const fence = record({ epoch: 1, servingId: pathTarget(N, 'paris') });
    const claims = sharedClaims();
    const d2 = director(sim, undefined, { claims });
    let r2: Promise<unknown> | undefined;
    let settledAt: number | undefined;
    let hubWhenSettled: string | undefined;
    // Epoch 1 wants paris. Right before its PUT goes out (claimed, fence checked), epoch 2 is
    // stored (serving london) and its change starts. The PUT is held until that change settles
    // or 300 ms have passed: without claims it settles at once ("already on london"), and the
    // PUT lands after it reported; with them it waits for the claim, so the PUT goes first.
    const d1 = director(
      sim,
      staged(async (method, path) => {
        if (method !== 'PUT' || path !== `/networks/${N}` || r2) return;
        fence.state = { epoch: 2, servingId: pathTarget(N, 'london') };
        r2 = d2.repoint(action('london', 2), { fence }).finally(() => {
          settledAt = sim.tunnelChanges.length;
          hubWhenSettled = sim.tunnelHub(N);
        });
        await Promise.race([r2.catch(() => undefined), new Promise((r) => setTimeout(r, 300))]);
      }),
      { claims },
    );
    await expect(d1.repoint(action('paris', 1), { fence })).rejects.toThrow(StaleEpochError);
    await expect(r2).resolves.toMatchObject({ epoch: 2 });
    // The epoch-1 PUT (paris) landed before epoch 2 reported, and epoch 2 reported on london.
    const tunnel = sim.tunnelChanges.filter((c) => c.networkId === N).map((c) => c.to);
    expect(tunnel.slice(0, 2)).toEqual(['paris', 'london']);
    expect(settledAt).toBeGreaterThanOrEqual(2);
    expect(hubWhenSettled).toBe('london');
    expect(sim.tunnelHub(N)).toBe('london');
    expect(await claims.live('o1')).toEqual([]);
  });

  it('the claim is made before the fence is read: a newer epoch stored right after that read still waits for the PUT', async () => {
    const sim = await start();
    const state = { epoch: 1, servingId: pathTarget(N, 'paris') } as FenceState;
    const claims = sharedClaims();
    const d2 = director(sim, undefined, { claims });
    let r2: Promise<unknown> | undefined;
    let changesWhenSettled = -1;
    // Epoch 1's fence is read (epoch 1: go on); at that very moment epoch 2 is stored and its
    // change starts, and the read answers only once that change settled or 300 ms passed.
    const racing: RepointFence = {
      read: async () => {
        const seen = { ...state };
        if (!r2) {
          state.epoch = 2;
          state.servingId = pathTarget(N, 'london');
          r2 = d2
            .repoint(action('london', 2), { fence: { read: async () => ({ ...state }) } })
            .finally(() => {
              changesWhenSettled = sim.tunnelChanges.length;
            });
          await Promise.race([r2.catch(() => undefined), new Promise((r) => setTimeout(r, 300))]);
        }
        return seen;
      },
    };
    await director(sim, undefined, { claims })
      .repoint(action('paris', 1), { fence: racing })
      .catch(() => undefined);
    await expect(r2).resolves.toMatchObject({ epoch: 2 });
    // Epoch 1's PUT (paris) landed, and only then did epoch 2 report, on london.
    expect(sim.tunnelChanges.map((c) => c.to).slice(0, 1)).toEqual(['paris']);
    expect(changesWhenSettled).toBeGreaterThanOrEqual(1);
    expect(sim.tunnelHub(N)).toBe('london');
  });

  it('a PUT whose outcome is unknown keeps its claim until it ends; a refused one releases it', async () => {
    const sim = await start();
    const claims = sharedClaims();
    // Each PUT reaches the Dashboard only after the client gave up (200 ms): it may land, and does.
    const timedOut = createMerakiDirector({
      config: config(sim),
      ...simClient(sim),
      minSampleIntervalMs: 0,
      timeoutMs: 200,
      retries: 0,
      claims,
      fetch: staged(async (method) => {
        if (method === 'PUT') await new Promise((r) => setTimeout(r, 400));
      }),
    });
    await expect(timedOut.repoint(action('paris', 1), { fence: record({ epoch: 1 }) })).rejects.toThrow();
    const kept = await claims.live('o1');
    // One claim per PUT sent (a timed-out PUT is re-read and tried again, at most 3 times).
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThanOrEqual(3);
    expect(kept.every((c) => c.branchId === N && c.epoch === 1)).toBe(true);
    // Each lasts past its PUT's whole deadline (timeoutMs + 10 s, + 5 s).
    expect(Math.min(...kept.map((c) => c.until)) - Date.now()).toBeGreaterThan(10_000);
    // A newer change waits for it (here: not long enough), so it is pending, not done.
    const error = await director(sim, undefined, { claims, claimWaitMs: 50 })
      .repoint(action('london', 2), { fence: record({ epoch: 2 }) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RepointPendingError);
    // A refusal (a newer epoch stored before the write) is certain: nothing stays claimed.
    const other = sharedClaims();
    await expect(
      director(sim, undefined, { claims: other }).repoint(action('paris', 3), {
        fence: record({ epoch: 4 }),
      }),
    ).rejects.toThrow(StaleEpochError);
    expect(await other.live('o1')).toEqual([]);
  });

  it('a batch is claimed while it is submitted: a single change started meanwhile waits for it', async () => {
    const sim = await start(12);
    const claims = sharedClaims();
    const ids = Array.from({ length: 12 }, (_, i) => `N_o1_${i}`);
    const states = new Map(
      ids.map((id) => [id, { epoch: 1, servingId: pathTarget(id, 'paris') } as FenceState]),
    );
    const fenceOf = (id: string): RepointFence => ({ read: async () => ({ ...states.get(id)! }) });
    const d2 = director(sim, undefined, { claims });
    let r2: Promise<unknown> | undefined;
    let claimedDuringPost: string[] = [];
    let changesWhenSettled = -1;
    const d1 = director(
      sim,
      staged(async (method, path) => {
        if (method !== 'POST' || !path.endsWith('/actionBatches') || r2) return;
        claimedDuringPost = (await claims.live('o1')).map((c) => c.branchId).sort();
        // Epoch 2 of N is stored while the batch (epoch 1: paris) is on its way.
        states.set(N, { epoch: 2, servingId: pathTarget(N, 'london') });
        r2 = d2.repoint(action('london', 2), { fence: fenceOf(N) }).finally(() => {
          changesWhenSettled = sim.tunnelChanges.filter((c) => c.networkId === N).length;
        });
        await Promise.race([r2.catch(() => undefined), new Promise((r) => setTimeout(r, 300))]);
      }),
      { claims },
    );
    const report = await d1.retagMany(
      'o1',
      ids.map((networkId) => ({ networkId, hub: 'paris', epoch: 1, fence: fenceOf(networkId) })),
    );
    await expect(r2).resolves.toMatchObject({ epoch: 2 });
    expect(claimedDuringPost).toEqual([...ids].sort());
    // The batch moved N to paris before epoch 2 reported; epoch 2 left it on london.
    expect(changesWhenSettled).toBeGreaterThanOrEqual(2);
    expect(sim.tunnelHub(N)).toBe('london');
    expect(report.stale.map((x) => x.networkId)).toEqual([N]);
    expect(await claims.live('o1')).toEqual([]);
  });

  it('an older claimed swap that outlives the wait leaves the change pending: one swap, or a batch', async () => {
    const sim = await start(12);
    const claims = sharedClaims();
    // A swap at epoch 1 claimed by a writer that never answers (it crashed): until its claim
    // is past, a newer change of the network cannot rule out that PUT landing after it.
    await claims.claim('o1', [{ branchId: N, epoch: 1 }], 60_000);
    const d = director(sim, undefined, { claims, claimWaitMs: 50 });
    const fence = record({ epoch: 2, servingId: pathTarget(N, 'paris') });
    const error = await d.repoint(action('paris', 2), { fence }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RepointPendingError);
    expect((error as Error).message).toMatch(
      /N_o1_1: a swap of it at epoch 1 may still land \(claimed until .*\); left to the next reconcile/,
    );
    const ids = Array.from({ length: 12 }, (_, i) => `N_o1_${i}`);
    const report = await d.retagMany(
      'o1',
      ids.map((networkId) => ({ networkId, hub: 'paris', epoch: 2, fence: record({ epoch: 2 }) })),
    );
    expect(report.pending.map((p) => p.networkId)).toEqual([N]);
    expect(report.changed.sort()).toEqual(ids.filter((id) => id !== N).sort());
    expect(sim.tunnelHub(N)).toBe('london');
    // A claim at the same or a newer epoch is no older swap: nothing waits for it.
    const same = await director(sim, undefined, { claims, claimWaitMs: 50 }).repoint(action('paris', 1), {
      fence: record({ epoch: 1 }),
    });
    expect(same).toMatchObject({ changed: true });
  });

  it('a newer epoch already stored refuses the swap before anything is written', async () => {
    const sim = await start();
    const d = director(sim);
    const fence = record({ epoch: 5, servingId: pathTarget(N, 'london') });
    const error = await d.repoint(action('paris', 4), { fence }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StaleEpochError);
    expect((error as StaleEpochError).currentEpoch).toBe(5);
    expect((error as Error).message).toContain('superseded by the stored epoch 5');
    expect(sim.log.filter((e) => e.method === 'PUT')).toEqual([]);
    expect(sim.tunnelHub(N)).toBe('london');
  });

  it("keeps an operator's tag added between the swap's read and its write", async () => {
    const sim = await start();
    let gets = 0;
    const d = director(
      sim,
      staged((method, path) => {
        // After the swap's first read, an operator adds a tag in the Dashboard.
        if (method === 'GET' && path === `/networks/${N}` && ++gets === 2)
          sim.editTags(N, { add: ['ops-maintenance'] });
      }),
    );
    const fence = record({ epoch: 1, servingId: pathTarget(N, 'paris') });
    await expect(d.repoint(action('paris', 1), { fence })).resolves.toMatchObject({ changed: true });
    expect(sim.tunnelHub(N)).toBe('paris');
    expect(sim.network(N)?.tags).toContain('ops-maintenance');
    expect(sim.network(N)?.tags).toEqual([
      'branch',
      'london_primary_down',
      'paris_backup_up',
      'region-1',
      'ops-maintenance',
    ]);
    expect(gets).toBe(4); // the re-read saw the edit: read twice again, the change recomputed
  });

  it("many networks are written from the call's own read, never from the caller's earlier listing", async () => {
    const sim = await start(30);
    const d = director(sim);
    await d.listNetworks('o1'); // the caller's listing
    sim.editTags('N_o1_7', { add: ['ops-note'] }); // an operator, after it
    const ids = Array.from({ length: 30 }, (_, i) => `N_o1_${i}`);
    const fence = record({ epoch: 3 });
    const report = await d.retagMany(
      'o1',
      ids.map((networkId) => ({ networkId, hub: 'paris', epoch: 3, fence })),
    );
    expect(report.changed).toHaveLength(30);
    expect(sim.network('N_o1_7')?.tags).toEqual(expect.arrayContaining(['ops-note', 'paris_backup_up']));
    expect(fence.reads).toBe(60); // each network's fence before and after its batch
  });

  it('a coalesced batch skips the networks whose fence moved and redoes a write overtaken by a newer epoch', async () => {
    const sim = await start(4);
    const d = director(sim);
    const stale = record({ epoch: 9, servingId: pathTarget('N_o1_0', 'london') });
    let calls = 0;
    const overtaken: RepointFence = {
      // Epoch 2 (paris) checks out before the batch; epoch 3 (london) is stored by the time it completed.
      read: async () =>
        ++calls === 1
          ? { epoch: 2, servingId: pathTarget('N_o1_1', 'paris') }
          : { epoch: 3, servingId: pathTarget('N_o1_1', 'london') },
    };
    const fine = record({ epoch: 1 });
    const report = await d.retagMany('o1', [
      { networkId: 'N_o1_0', hub: 'paris', epoch: 8, fence: stale },
      { networkId: 'N_o1_1', hub: 'paris', epoch: 2, fence: overtaken },
      { networkId: 'N_o1_2', hub: 'paris', epoch: 1, fence: fine },
    ]);
    expect(report.stale.map((s) => s.networkId).sort()).toEqual(['N_o1_0', 'N_o1_1']);
    expect(report.changed).toEqual(['N_o1_2']);
    expect(sim.tunnelHub('N_o1_0')).toBe('london'); // never written
    expect(sim.tunnelHub('N_o1_1')).toBe('london'); // written, then redone for epoch 3
    expect(sim.tunnelHub('N_o1_2')).toBe('paris');
  });
});

describe('verified swaps (pipeline director)', () => {
  /** Verification from the simulator's own view of reachability (the adapter's verifyReach reads VPN statuses). */
  const simVerifier = (sim: MerakiSimulator): ReachVerifier => ({
    async verifyReach(_org, targets) {
      const reached: string[] = [];
      const notReached: { networkId: string; hub: string; reaching?: string; reason: string }[] = [];
      for (const t of targets) {
        const on = sim.reachableHub(t.networkId);
        if (on === t.hub) reached.push(t.networkId);
        else
          notReached.push({
            networkId: t.networkId,
            hub: t.hub,
            ...(on ? { reaching: on } : {}),
            reason: 'no reachable peer in the VPN statuses',
          });
      }
      return { reached, notReached };
    },
  });

  it('a swap whose tunnel does not come up is a failed re-point naming the network, the hub and the reason', async () => {
    const sim = await start();
    const d = createMerakiPipelineDirector(config(sim), {
      ...simClient(sim),
      verify: { verifier: simVerifier(sim), timeoutMs: 100, pollMs: 20 },
      coalesceIdleMs: 1,
      coalesceMaxMs: 5,
    });
    sim.breakTunnel(N, 'paris', true);
    const fence = record({ epoch: 1, servingId: pathTarget(N, 'paris') });
    const error = await d.repoint(action('paris', 1), { fence }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RepointNotReachedError);
    expect((error as Error).message).toBe(
      `tags swapped but ${N} does not reach hub paris: no reachable peer in the VPN statuses`,
    );
    expect(sim.tunnelHub(N)).toBe('paris'); // the tags did change
    sim.breakTunnel(N, 'paris', false);
    // The next reconcile: tags already right, now reaching: done, unchanged.
    await expect(d.repoint(action('paris', 1), { fence })).resolves.toMatchObject({ changed: false });
  });

  it("by default through the adapter's VPN statuses: a broken tunnel fails the re-point, a healed one passes", async () => {
    const sim = await start();
    const d = createMerakiPipelineDirector(config(sim), {
      ...simClient(sim),
      verify: { timeoutMs: 150, pollMs: 30 },
      coalesceIdleMs: 1,
      coalesceMaxMs: 5,
    });
    expect(d.verifies).toBe(true);
    sim.breakTunnel(N, 'paris', true);
    const fence = record({ epoch: 1, servingId: pathTarget(N, 'paris') });
    const error = await d.repoint(action('paris', 1), { fence }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RepointNotReachedError);
    expect((error as Error).message).toMatch(
      new RegExp(`^tags swapped but ${N} does not reach hub paris: .+`),
    );
    const vpnReads = sim.log.filter((e) => e.path === '/organizations/o1/appliance/vpn/statuses');
    expect(vpnReads.length).toBeGreaterThanOrEqual(2); // polled until the timeout
    sim.breakTunnel(N, 'paris', false);
    await expect(d.repoint(action('paris', 1), { fence })).resolves.toMatchObject({ changed: false });
  });
});
