import fc from 'fast-check';
import {
  backgroundLane,
  backgroundShareOf,
  BucketRequestBudget,
  FOREGROUND_BUSY_MS,
  MemorySlotLedger,
  nextSlots,
  SlottedRequestBudget,
  type SlotLedger,
} from '../../../shared/director/budget.js';
import type { Clock } from '../../../shared/director/limits.js';
import { ConcurrentUpdateError } from '../../../shared/errors.js';
import { MemoryTable, type TableOp, type TableOpOutcome } from '../../../shared/store/memory-table.js';
import { TableSlotLedger } from '../../../shared/store/repos/request-budget.js';
import { keys } from '../../../shared/store/table.js';
import { maxPerSecond } from './http-fakes.js';
import { conditions, type TableItem, type TableKey } from '../../../shared/store/versioned-table.js';

/**
 * Virtual time: `run(done)` wakes sleepers in time order (sleep n ends `overshoot(n)` ms late)
 * until `done` settles.
 */
function virtualClock(
  overshoot: (n: number) => number = () => 0,
): Clock & { run(done: Promise<unknown>): Promise<void> } {
  let t = 1_700_000_000_000;
  let seq = 0;
  const timers: { at: number; seq: number; wake: () => void }[] = [];
  return {
    now: () => t,
    sleep: (ms) =>
      new Promise<void>((wake) => {
        const n = seq++;
        timers.push({ at: t + Math.max(0, ms) + overshoot(n), seq: n, wake });
      }),
    async run(done) {
      let finished = false;
      void done.finally(() => (finished = true));
      while (!finished) {
        await new Promise<void>((r) => setImmediate(r));
        if (timers.length === 0) continue;
        timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = timers.shift()!;
        t = Math.max(t, next.at);
        next.wake();
      }
      await done;
    },
  };
}

const RULE = { requests: 5, windowMs: 1100 };

/** `workers` callers, each taking `each` slots back to back and recording when it may send. */
function hammer(budget: SlottedRequestBudget, clock: Clock, workers: number, each: number) {
  const sent: number[] = [];
  const run = Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < each; i++) {
        await budget.take('meraki#o1');
        sent.push(clock.now());
      }
    }),
  );
  return { sent, run };
}

/** A foreground budget and a background lane of 5/s over one in-memory ledger, on virtual time. */
function foregroundAndLane() {
  const clock = virtualClock();
  const ledger = new MemorySlotLedger();
  const foreground = new SlottedRequestBudget(ledger, { requestsPerSecond: 5, clock });
  const background = backgroundLane(
    new SlottedRequestBudget(ledger, { requestsPerSecond: 5, clock, foreground: false }),
    new SlottedRequestBudget(ledger, { requestsPerSecond: backgroundShareOf(5), clock, foreground: false }),
  );
  return { clock, foreground, background };
}

describe('SlottedRequestBudget over the table ledger (several containers, one organization)', () => {
  it('keeps any 1 s window within requestsPerSecond, reserving only slots that are used', async () => {
    const clock = virtualClock();
    const ops = { put: 0, conditionFailed: 0 };
    // Each table call takes 8 ms of virtual time, so containers race for the item.
    const table = new MemoryTable({
      gate: () => clock.sleep(8),
      afterApply: (op: TableOp, outcome: TableOpOutcome) => {
        if (op.kind === 'put') ops.put += 1;
        if (outcome === 'conditionFailed') ops.conditionFailed += 1;
      },
    });
    const containers = [1, 2, 3, 4].map(
      () => new SlottedRequestBudget(new TableSlotLedger(table, { clock }), { requestsPerSecond: 5, clock }),
    );
    const runs = containers.map((b) => hammer(b, clock, 3, 10));
    const done = Promise.all(runs.map((r) => r.run));
    await clock.run(done);
    const sent = runs.flatMap((r) => r.sent);
    expect(sent).toHaveLength(120);
    expect(maxPerSecond(sent)).toBeLessThanOrEqual(5);
    // A reservation per burst of callers without a slot (the first reserves 3 at once), at most one
    // per request; no slot is reserved for a caller yet to come, so none is dropped unused (each
    // would count in every container's window). The races cost retries but never a shared slot.
    expect(ops.put - ops.conditionFailed).toBeLessThanOrEqual(120);
    expect(ops.put - ops.conditionFailed).toBeLessThan(120 - 4);
    expect(ops.conditionFailed).toBeGreaterThan(0);
    expect(containers.map((c) => c.dropped)).toEqual([0, 0, 0, 0]);
    // Throughput near the share: 120 requests, 5 per 1.1 s, take about 26 s.
    expect(Math.max(...sent) - Math.min(...sent)).toBeLessThan(32_000);
    const read = table.get<{ recent: number[]; version: number }>(keys.budget('meraki#o1'));
    await clock.run(read);
    const item = await read;
    expect(item?.version).toBe(ops.put - ops.conditionFailed);
    // The item keeps the slots of the last two windows (older ones cannot matter), ascending.
    const recent = item?.recent ?? [];
    expect(recent).toEqual([...recent].sort((a, b) => a - b));
    expect(recent.length).toBeGreaterThanOrEqual(5);
    // (two windows before the last reservation, itself made up to two windows ahead of its slots)
    expect(Math.min(...recent)).toBeGreaterThan(Math.max(...sent) - 4 * 1100);
    expect(Math.max(...recent)).toBeGreaterThanOrEqual(Math.max(...sent));
  });

  it('a sender that wakes late drops its slot instead of crowding the next one', async () => {
    // Every third sleep ends 150 ms late (a busy event loop): far beyond lateMs (25).
    const clock = virtualClock((n) => (n % 3 === 0 ? 150 : 0));
    const ledger = new MemorySlotLedger();
    const budgets = [1, 2].map(() => new SlottedRequestBudget(ledger, { requestsPerSecond: 5, clock }));
    const runs = budgets.map((b) => hammer(b, clock, 2, 10));
    const done = Promise.all(runs.map((r) => r.run));
    await clock.run(done);
    const sent = runs.flatMap((r) => r.sent);
    expect(sent).toHaveLength(40);
    expect(budgets[0]!.dropped + budgets[1]!.dropped).toBeGreaterThan(0);
    expect(maxPerSecond(sent)).toBeLessThanOrEqual(5);
  });

  it('R + 1 consecutive slots span more than a second plus the lateness allowed and the guard', () => {
    const budget = new SlottedRequestBudget(new MemorySlotLedger(), { requestsPerSecond: 5 });
    // One slot of each window is kept for urgent requests while they are about.
    expect(budget.rule).toEqual({ requests: 5, windowMs: 1100, room: 1 });
    expect(new SlottedRequestBudget(new MemorySlotLedger(), { requestsPerSecond: 2 }).rule).toEqual({
      requests: 2,
      windowMs: 1100,
    });
  });

  it('up to R slots at once, then each waits for the oldest to leave the window', () => {
    const rule = { requests: 3, windowMs: 1000 };
    const first = nextSlots([], 5, rule, 100);
    expect(first.slots).toEqual([100, 100, 100, 1100, 1100]);
    expect(first.recent).toEqual([100, 100, 100, 1100, 1100]);
    // Later callers continue the same timeline; `notBefore` only ever delays.
    expect(nextSlots(first.recent, 2, rule, 0).slots).toEqual([1100, 2100]);
    expect(nextSlots(first.recent, 1, rule, 9_000).slots).toEqual([9_000]);
  });

  it('an ordinary slot leaves the room; an urgent one takes it, even before slots handed out', () => {
    const rule = { requests: 3, windowMs: 1000, room: 1 };
    // Ordinary callers get 2 of every window's 3.
    const ordinary = nextSlots([], 4, rule, 100);
    expect(ordinary.slots).toEqual([100, 100, 1100, 1100]);
    // An urgent one asked at 150 goes at 150, before the slots already given out at 1100.
    const urgent = nextSlots(ordinary.recent, 1, rule, 150, true);
    expect(urgent.slots).toEqual([150]);
    expect(urgent.recent).toEqual([100, 100, 150, 1100, 1100]);
    // The window is full now: the next urgent one waits until 100 leaves it (and 1100 holds two).
    expect(nextSlots(urgent.recent, 1, rule, 150, true).slots).toEqual([1150]);
    // Without room (no urgent caller about), ordinary callers have the whole share.
    expect(nextSlots([], 4, { requests: 3, windowMs: 1000 }, 100).slots).toEqual([100, 100, 100, 1100]);
  });

  it('whatever mix of urgent and ordinary reservations, any R + 1 consecutive slots span the window', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            gap: fc.integer({ min: 0, max: 700 }),
            count: fc.integer({ min: 1, max: 4 }),
            urgent: fc.boolean(),
          }),
          {
            maxLength: 40,
          },
        ),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 2 }),
        (asks, requests, room) => {
          const rule = { requests, windowMs: 1000, ...(room < requests ? { room } : {}) };
          let recent: number[] = [];
          const all: number[] = [];
          let t = 0;
          for (const a of asks) {
            t += a.gap;
            const next = nextSlots(recent, a.count, rule, t, a.urgent);
            expect(next.slots.every((x) => x >= t)).toBe(true);
            recent = next.recent;
            all.push(...next.slots);
          }
          all.sort((a, b) => a - b);
          for (let i = 0; i + requests < all.length; i++)
            expect((all[i + requests] as number) - (all[i] as number)).toBeGreaterThanOrEqual(1000);
        },
      ),
    );
  });

  it('keeps the room only while urgent requests are about, and any window within R either way', async () => {
    const clock = virtualClock();
    const ledger = new MemorySlotLedger();
    const budget = new SlottedRequestBudget(ledger, { requestsPerSecond: 5, clock });
    const urgentSent: number[] = [];
    const sent: number[] = [];
    // 4 ordinary callers hammer; an urgent request every 1.2 s (within the room: 1 per window) from the second 3.
    const ordinary = hammer(budget, clock, 4, 12);
    const urgent = (async () => {
      await clock.sleep(3_000);
      for (let i = 0; i < 6; i++) {
        const asked = clock.now();
        await budget.take('meraki#o1', { urgent: true });
        urgentSent.push(clock.now() - asked);
        sent.push(clock.now());
        await clock.sleep(1200);
      }
    })();
    await clock.run(Promise.all([ordinary.run, urgent]));
    const all = [...ordinary.sent, ...sent];
    expect(maxPerSecond(all)).toBeLessThanOrEqual(5);
    // Each urgent request went within its window's room: never behind a window of ordinary ones.
    expect(Math.max(...urgentSent)).toBeLessThan(1100);
    // The first found no room kept yet (the ordinary ones had booked the next window whole); each
    // later one went at once, before ordinary slots already handed out.
    expect(urgentSent.slice(1)).toEqual([0, 0, 0, 0, 0]);
    // Before any urgent request, ordinary callers had all 5 slots of a window.
    const t0 = Math.min(...ordinary.sent);
    expect(ordinary.sent.filter((t) => t < t0 + 1000).length).toBe(5);
  });

  it('refuses a rate that is not a whole number of requests per second', () => {
    expect(() => new SlottedRequestBudget(new MemorySlotLedger(), { requestsPerSecond: 4.5 })).toThrow(
      /requestsPerSecond=4\.5: expected an integer >= 1/,
    );
    expect(
      () => new SlottedRequestBudget(new MemorySlotLedger(), { requestsPerSecond: 5, maxLease: 0 }),
    ).toThrow(/maxLease=0/);
  });

  it('a ledger that keeps failing the condition gives up with ConcurrentUpdateError', async () => {
    const table = new MemoryTable();
    const ledger = new TableSlotLedger(table, { maxAttempts: 3 });
    await ledger.reserve('meraki#o1', 1, RULE, 0);
    // Another writer moves the item on between every read and write of this ledger.
    const real = table.get.bind(table);
    const bump = async () => {
      const item = (await real(keys.budget('meraki#o1'))) as TableItem & { version: number };
      await table.put({ ...item, version: item.version + 1 }, conditions.version(item.version));
    };
    await bump();
    table.get = (async (key: TableKey) => {
      const item = await real(key);
      await bump();
      return item;
    }) as typeof table.get;
    await expect(ledger.reserve('meraki#o1', 1, RULE, 0)).rejects.toThrow(ConcurrentUpdateError);
  });

  it('reservations of one ledger never overlap, whatever `notBefore` each asks', async () => {
    // A clock that stands still: the table ledger shifts a reservation by the wall time its
    // rounds took, which made this test fail on a loaded machine (11 instead of 10).
    const still: Clock = { now: () => 0, sleep: () => Promise.resolve() };
    const ledgers: SlotLedger[] = [
      new MemorySlotLedger(),
      new TableSlotLedger(new MemoryTable(), { clock: still }),
    ];
    for (const ledger of ledgers) {
      const rule = { requests: 2, windowMs: 1000 };
      const a = await ledger.reserve('k', 3, rule, 1_000);
      const b = await ledger.reserve('k', 2, rule, 900);
      const c = await ledger.reserve('k', 1, rule, 5_000);
      expect([a, b, c]).toEqual([[1_000, 1_000, 2_000], [2_000, 3_000], [5_000]]);
      expect(await ledger.reserve('other', 1, rule, 10)).toEqual([10]);
    }
  });
});

describe('BucketRequestBudget', () => {
  it('one token bucket per key, in the map it was given', async () => {
    const buckets = new Map();
    const clock = virtualClock();
    const budget = new BucketRequestBudget({ requestsPerSecond: 2, burst: 1 }, clock, buckets);
    expect(await budget.take('a')).toBe(0);
    expect(await budget.take('b')).toBe(0);
    const waited = budget.take('a');
    await clock.run(waited);
    expect(await waited).toBe(500);
    expect([...buckets.keys()]).toEqual(['a', 'b']);
  });
});

describe('the background lane (status and the drift reconcile)', () => {
  it('keeps the foreground its part of the share while a background caller reads as fast as it can', async () => {
    const clock = virtualClock();
    const ledger = new MemorySlotLedger();
    const budget = (rate: number) =>
      new SlottedRequestBudget(ledger, { requestsPerSecond: rate, clock, lateMs: 25, guardMs: 75 });
    const shared = budget(5);
    // The background callers' container: its own budget over the same timeline, not foreground.
    const background = backgroundLane(
      new SlottedRequestBudget(ledger, { requestsPerSecond: 5, clock, foreground: false }),
      budget(backgroundShareOf(5)),
    );
    const sent: { at: number; lane: 'fg' | 'bg' }[] = [];
    const caller = (b: { take(key: string): Promise<number> }, lane: 'fg' | 'bg', n: number) =>
      (async () => {
        for (let i = 0; i < n; i++) {
          await b.take('meraki#o1');
          sent.push({ at: clock.now(), lane });
        }
      })();
    // Three background readers (34 pages each) and a re-point fan-out asking at once: sharing the
    // timeline evenly, the fan-out would get a quarter of it (40 requests ≈ 35 s).
    const run = Promise.all([
      caller(background, 'bg', 34),
      caller(background, 'bg', 34),
      caller(background, 'bg', 34),
      caller(shared, 'fg', 40),
    ]);
    await clock.run(run);
    expect(backgroundShareOf(5)).toBe(2);
    const at = (lane: 'fg' | 'bg') => sent.filter((s) => s.lane === lane).map((s) => s.at);
    // The whole budget's rule holds for both lanes together…
    expect(maxPerSecond(sent.map((s) => s.at))).toBeLessThanOrEqual(5);
    // …the background enters the shared timeline at its lane's pace (2 per 1.1 s window; a
    // window may hold one more where a congested shared timeline bunched them)…
    const bg = at('bg');
    expect(maxPerSecond(bg)).toBeLessThanOrEqual(3);
    expect((bg.length - 2) / ((Math.max(...bg) - Math.min(...bg)) / 1100)).toBeLessThanOrEqual(2);
    // …so the foreground keeps 3 of every 5 slots: its 40 requests take about 40 / 3 windows.
    const fgDone = Math.max(...at('fg'));
    const bgDone = Math.max(...at('bg'));
    expect(fgDone).toBeLessThan(bgDone);
    const start = Math.min(...sent.map((s) => s.at));
    expect(fgDone - start).toBeLessThanOrEqual((40 / 3) * 1100 + 1100);
  });

  it('halves its pace while the foreground sends, and takes it back once the foreground is quiet', async () => {
    const { clock, foreground, background } = foregroundAndLane();
    const read = async (n: number) => {
      const at: number[] = [];
      for (let i = 0; i < n; i++) {
        await background.take('meraki#o1');
        at.push(clock.now());
      }
      return at;
    };
    const span = (at: number[]) => (at[at.length - 1] as number) - (at[0] as number);
    // Alone: 2 per 1.1 s window, 20 reads in about 9 windows.
    let alone: number[] = [];
    await clock.run((async () => (alone = await read(20)))());
    // With a re-point fan-out sending one request every 300 ms meanwhile: 1 per window.
    let busy: number[] = [];
    let stop = false;
    const fanOut = (async () => {
      while (!stop) {
        await foreground.take('meraki#o1');
        await clock.sleep(300);
      }
    })();
    await clock.run(
      (async () => {
        busy = await read(20);
        stop = true;
        await fanOut;
      })(),
    );
    expect(span(alone)).toBeLessThanOrEqual(10 * 1100);
    expect(span(busy)).toBeGreaterThanOrEqual(1.6 * span(alone));
    // The foreground quiet for longer than the busy mark: the full lane again.
    await clock.run(clock.sleep(FOREGROUND_BUSY_MS + 100));
    let after: number[] = [];
    await clock.run((async () => (after = await read(20)))());
    expect(span(after)).toBeLessThanOrEqual(10 * 1100);
  });

  it("goes at a quarter of its pace while urgent requests (a re-tag's batches) are about", async () => {
    const { clock, foreground, background } = foregroundAndLane();
    let stop = false;
    // A batch submission or status read every second, as five running batches make.
    const batches = (async () => {
      while (!stop) {
        await foreground.take('meraki#o1', { urgent: true });
        await clock.sleep(1000);
      }
    })();
    const at: number[] = [];
    await clock.run(
      (async () => {
        await clock.sleep(10); // the first urgent request marks the timeline
        for (let i = 0; i < 10; i++) {
          await background.take('meraki#o1');
          at.push(clock.now());
        }
        stop = true;
        await batches;
      })(),
    );
    // 4 lane slots per read, 2 per 1.1 s window: one read per 2.2 s.
    expect((at[9] as number) - (at[0] as number)).toBeGreaterThanOrEqual(9 * 2200 - 100);
  });

  it('gives a share of at least 1, two fifths of the budget', () => {
    expect([1, 2, 3, 5, 10].map(backgroundShareOf)).toEqual([1, 1, 1, 2, 4]);
  });
});

describe('a deferrable request (a verification poll)', () => {
  it("lets the process's requests already waiting go first, for at most maxDeferMs", async () => {
    const clock = virtualClock();
    const budget = new SlottedRequestBudget(new MemorySlotLedger(), {
      requestsPerSecond: 5,
      clock,
      maxDeferMs: 2000,
    });
    const sent: { at: number; who: string }[] = [];
    const take = async (who: string, deferrable: boolean) => {
      await budget.take('meraki#o1', deferrable ? { deferrable } : undefined);
      sent.push({ at: clock.now(), who });
    };
    // Ten urgent requests (two windows' worth) waiting, then a deferrable one: it goes after every
    // urgent one.
    await clock.run(
      Promise.all([...Array.from({ length: 10 }, () => take('submit', false)), take('verify', true)]),
    );
    expect(sent.map((s) => s.who).indexOf('verify')).toBe(10);
    // Forty urgent ones (about 9 s of slots) waiting: the deferrable waits 2 s at most, then
    // queues as any request does, ahead of the ones that come after it.
    sent.length = 0;
    await clock.run(
      Promise.all([
        ...Array.from({ length: 40 }, () => take('submit', false)),
        take('verify', true),
        clock.sleep(3000).then(() => Promise.all(Array.from({ length: 5 }, () => take('later', false)))),
      ]),
    );
    const order = sent.map((s) => s.who);
    expect(order.indexOf('verify')).toBeLessThan(order.indexOf('later'));
  });
});
