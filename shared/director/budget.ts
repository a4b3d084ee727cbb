/**
 * The request budget: the right to send one request under a limit shared by many senders (the
 * Meraki Dashboard's per-organization limit, shared by every function and container of the
 * controller). The HTTP client takes one unit per attempt.
 *
 * {@link SlottedRequestBudget} hands out send times ("slots") from one timeline per key, each
 * slot to one caller only, whoever asks, under one rule: any R + 1 consecutive slots of a key
 * span at least `windowMs = 1000 + lateMs + guardMs` (R = `requestsPerSecond`). So up to R
 * requests may go at once, then the next waits until the oldest has left the window. The
 * timeline lives behind a {@link SlotLedger}: in memory for one process ({@link MemorySlotLedger}),
 * or in the state table for the whole controller (shared/store/repos/request-budget.ts). A caller
 * reserves a small lease of slots per ledger write, so a busy container does not pay one write
 * per request.
 *
 * Urgent requests (an action batch's submission and status reads: five running batches and the
 * whole re-tag wait on them) must not queue behind a second of verification and console reads
 * already given slots (measured: half a second per batch, a tenth of a 10,000-network re-tag).
 * While one was made lately, the others leave one slot of every window (`room`), and an urgent
 * reservation takes the earliest time at which it fits anywhere in the timeline, before ordinary
 * slots already handed out if need be. The rule holds for the whole timeline either way.
 *
 * Why any 1 s window holds at most R requests. Every request is sent in `[s, s + lateMs]` of its
 * own slot `s` (a slot found later than that is dropped, never used). If R + 1 requests fell in
 * one window `[t, t + 1000)`, their R + 1 distinct slots would lie in `(t − lateMs, t + 1000)`,
 * a span shorter than `1000 + lateMs < windowMs`: the rule forbids it. `guardMs` absorbs what the
 * sender cannot see: network jitter and clock skew between containers.
 */
import type { TakeOptions } from './http.js';
import { systemClock, TokenBucket, type Clock } from './limits.js';

/** The right to send one request under `key` (e.g. `meraki#<organizationId>`). */
export interface RequestBudget {
  /**
   * Wait until one request may be sent under `key`; resolves with the ms waited. A `deferrable`
   * one first lets this process's other waiting requests of the key go (where the budget can).
   */
  take(key: string, options?: TakeOptions): Promise<number>;
  /** Whether a foreground caller sent under `key` lately, as far as this budget has seen. */
  foregroundBusy?(key: string): boolean;
  /** Whether an urgent request was sent under `key` lately (a re-tag's batches are running). */
  urgentActive?(key: string): boolean;
}

/** A foreground reservation marks its key busy until this long after its last slot. */
export const FOREGROUND_BUSY_MS = 2000;

/**
 * An urgent reservation keeps the room of {@link SlotWindow.room} open this long after its last
 * slot (longer than an action batch of 100 takes, so a running re-tag keeps it between its
 * submissions); otherwise ordinary requests have the whole share.
 */
export const URGENT_ROOM_MS = 10_000;

/** How one reservation is made. */
export interface ReserveOptions {
  /** A foreground caller's (the failover's re-points, the health check): marks the key busy. */
  foreground?: boolean;
  /** Urgent slots: they may go into the room a window keeps (see {@link SlotWindow.room}). */
  urgent?: boolean;
}

/** The rule of a key's timeline: any `requests + 1` consecutive slots span at least `windowMs`. */
export interface SlotWindow {
  requests: number;
  windowMs: number;
  /**
   * Slots of every window kept for urgent reservations while urgent callers are about (see
   * {@link URGENT_ROOM_MS}): an ordinary one is only given a slot where the window ending at it
   * holds at most `requests − room` slots, so an urgent one finds room in any window, even before
   * slots already handed out. @default 0
   */
  room?: number;
}

/**
 * Where the slots of a key are handed out: one timeline per key, whoever reserves.
 */
export interface SlotLedger {
  /**
   * Reserve `count` slots of `key`, none before `notBefore`, under `rule` (see {@link nextSlots}).
   * Resolves with their times (epoch ms), ascending.
   */
  reserve(
    key: string,
    count: number,
    rule: SlotWindow,
    notBefore: number,
    options?: ReserveOptions,
  ): Promise<number[]>;
  /**
   * Until when (epoch ms) the key's timeline, as last seen here, says a foreground caller is
   * sending (its last foreground slot + {@link FOREGROUND_BUSY_MS}); 0 when never.
   */
  busyUntil?(key: string): number;
  /** Until when (epoch ms) the key's timeline, as last seen here, keeps the urgent room; 0 when never. */
  urgentRoomUntil?(key: string): number;
}

/** Whether `log` (ascending) keeps the rule in every run of `requests + 1` slots around index `at`. */
function keepsRule(log: readonly number[], at: number, rule: SlotWindow): boolean {
  const first = Math.max(0, at - rule.requests);
  const last = Math.min(at, log.length - 1 - rule.requests);
  for (let a = first; a <= last; a++)
    if ((log[a + rule.requests] as number) - (log[a] as number) < rule.windowMs) return false;
  return true;
}

/** Where `t` goes in `log` (ascending): after every slot ≤ t. */
function indexFor(log: readonly number[], t: number): number {
  let i = log.length;
  while (i > 0 && (log[i - 1] as number) > t) i--;
  return i;
}

/** The earliest time ≥ `notBefore` a slot fits in `log` (anywhere, not only after its last). */
function earliestFit(log: readonly number[], rule: SlotWindow, notBefore: number): number {
  // A slot becomes possible where an older one leaves its window: at notBefore, or windowMs after
  // a slot. The end of the timeline always fits.
  const candidates = [notBefore, ...log.map((t) => t + rule.windowMs).filter((t) => t > notBefore)];
  for (const t of candidates.sort((a, b) => a - b)) {
    const at = indexFor(log, t);
    const trial = [...log.slice(0, at), t, ...log.slice(at)];
    if (keepsRule(trial, at, rule)) return t;
  }
  return Math.max(
    notBefore,
    ...log.slice(-1),
    (log[log.length - rule.requests] ?? -Infinity) + rule.windowMs,
  );
}

/**
 * The next `count` slots after `recent` (the timeline's slots, ascending). An ordinary slot is the
 * earliest time ≥ `notBefore` and ≥ the last slot such that it is at least `windowMs` after the
 * slot `requests − room` places before it (the rule, leaving `room`). An urgent one is the
 * earliest time ≥ `notBefore` at which inserting it anywhere keeps the rule: it may go before
 * ordinary slots already handed out, into the room they leave. Returns the slots and the new
 * `recent` (those within two windows of `notBefore` or later: older ones cannot matter).
 */
export function nextSlots(
  recent: readonly number[],
  count: number,
  rule: SlotWindow,
  notBefore: number,
  urgent = false,
): { slots: number[]; recent: number[] } {
  const log = recent.filter((t) => t >= notBefore - 2 * rule.windowMs);
  const limit = Math.max(1, rule.requests - (rule.room ?? 0));
  const slots: number[] = [];
  for (let i = 0; i < count; i++) {
    let slot: number;
    if (urgent) slot = earliestFit(log, rule, notBefore);
    else {
      const previous = log[log.length - 1] ?? -Infinity;
      const windowStart = log.length >= limit ? (log[log.length - limit] as number) : -Infinity;
      slot = Math.max(notBefore, previous, windowStart + rule.windowMs);
    }
    slots.push(slot);
    log.splice(indexFor(log, slot), 0, slot);
  }
  return { slots: slots.sort((a, b) => a - b), recent: log };
}

/** A key's timeline as a ledger keeps it: its recent and future slots, and its marks. */
export interface Timeline {
  /** The slots from two windows before the last reservation on (epoch ms, ascending). */
  recent: number[];
  /** Until when a foreground caller is sending (epoch ms). */
  busyUntil?: number;
  /** Until when the room for urgent requests is kept (epoch ms). */
  urgentUntil?: number;
}

/** A mark `ms` after the last of `slots`, never moved back. */
const markAfter = (before: number | undefined, slots: readonly number[], ms: number): number =>
  Math.max(before ?? 0, (slots[slots.length - 1] ?? 0) + ms);

/**
 * One reservation on a key's timeline, whichever ledger keeps it: `count` slots under `rule` (its
 * room kept only while the timeline has seen an urgent reservation lately, or for an urgent one),
 * and the timeline after them, its busy and urgent marks moved on.
 */
export function reserveOn(
  timeline: Timeline | undefined,
  count: number,
  rule: SlotWindow,
  notBefore: number,
  options: ReserveOptions = {},
): { slots: number[]; timeline: Timeline } {
  const urgent = options.urgent === true;
  const keepRoom = urgent || (timeline?.urgentUntil ?? 0) > notBefore;
  const effective =
    rule.room === undefined || keepRoom ? rule : { requests: rule.requests, windowMs: rule.windowMs };
  const { slots, recent } = nextSlots(timeline?.recent ?? [], count, effective, notBefore, urgent);
  const busyUntil = options.foreground
    ? markAfter(timeline?.busyUntil, slots, FOREGROUND_BUSY_MS)
    : timeline?.busyUntil;
  const urgentUntil = urgent
    ? markAfter(timeline?.urgentUntil, slots, URGENT_ROOM_MS)
    : timeline?.urgentUntil;
  return {
    slots,
    timeline: {
      recent,
      ...(busyUntil !== undefined ? { busyUntil } : {}),
      ...(urgentUntil !== undefined ? { urgentUntil } : {}),
    },
  };
}

/** The ledger of one process (the sandbox, tests, and the default where no table is wired). */
export class MemorySlotLedger implements SlotLedger {
  private readonly timelines = new Map<string, Timeline>();

  async reserve(
    key: string,
    count: number,
    rule: SlotWindow,
    notBefore: number,
    options: ReserveOptions = {},
  ): Promise<number[]> {
    const next = reserveOn(this.timelines.get(key), count, rule, notBefore, options);
    this.timelines.set(key, next.timeline);
    return next.slots;
  }

  busyUntil(key: string): number {
    return this.timelines.get(key)?.busyUntil ?? 0;
  }

  urgentRoomUntil(key: string): number {
    return this.timelines.get(key)?.urgentUntil ?? 0;
  }
}

/**
 * The background lane's share of a budget of `requestsPerSecond`: two fifths, at least 1 (5 → 2).
 * What the background reads leave is the foreground's: 3 of 5 at the least.
 */
export function backgroundShareOf(requestsPerSecond: number): number {
  return Math.max(1, Math.floor((requestsPerSecond * 2) / 5));
}

/**
 * The budget of a background caller (the status console, the drift reconcile): each request first
 * takes a slot of its key's lane (`<key>#background`, from `lane`: at most its share per window
 * across the controller), then one of the key's own from `shared`. Background reads of a large
 * organization (34 pages of VPN statuses for 10,000 networks) then enter the shared timeline at
 * the lane's pace, and the foreground (the failover's re-points and their verification) keeps the
 * rest of the share while they run, instead of queueing behind them. While the foreground is
 * sending (`shared` saw a foreground slot within {@link FOREGROUND_BUSY_MS}), each background
 * request takes two of the lane's slots: half its pace, so a mass re-point is not slowed by the
 * status console (measured: a 10,000-network re-tag lost about 10 s to it at the full lane).
 * While a re-tag's action batches run (an urgent slot within {@link URGENT_ROOM_MS}), four: a
 * quarter (measured: with half, the budget was 83 % used during a 10,000-network re-tag, and each
 * batch submission waited 0.3 s on average; with a quarter, 0.18 s, and the re-tag about 3 s
 * sooner; `status` of 10,000 networks then takes about 80 s).
 */
export function backgroundLane(shared: RequestBudget, lane: RequestBudget): RequestBudget {
  return {
    async take(key: string, options?: TakeOptions): Promise<number> {
      // While a re-tag's batches run, a quarter of the lane's pace; while the foreground sends, half.
      const slots = shared.urgentActive?.(key) ? 4 : shared.foregroundBusy?.(key) ? 2 : 1;
      let waited = 0;
      for (let i = 0; i < slots; i++) waited += await lane.take(`${key}#background`, options);
      return waited + (await shared.take(key, options));
    },
  };
}

/** Options of {@link SlottedRequestBudget}. */
export interface SlottedBudgetOptions {
  /** Requests in any 1 s window (R), an integer ≥ 1. */
  requestsPerSecond: number;
  clock?: Clock;
  /** Most slots one ledger write reserves. @default requestsPerSecond (one second's worth) */
  maxLease?: number;
  /** How late a slot may still be used; later it is dropped. @default 25 */
  lateMs?: number;
  /**
   * Margin for what the sender cannot see: network jitter on the way to the Dashboard, clock skew
   * between containers, a pause between the slot and the socket. @default 75 (a 1.1 s window:
   * about 91 % of the share at full load)
   */
  guardMs?: number;
  /** Longest a deferrable request lets the others go first. @default 2000 */
  maxDeferMs?: number;
  /** Whether this budget's callers are foreground ones (they mark the key busy). @default true */
  foreground?: boolean;
  /**
   * Slots of every window kept for urgent requests (an action batch's submission and status
   * reads, which five running batches wait on): the others leave them. @default 1 where
   * requestsPerSecond ≥ 3, else 0
   */
  urgentRoom?: number;
}

/** How often a deferred request looks whether the others are through. */
const DEFER_POLL_MS = 25;

interface KeyState {
  /** Slot times reserved and not yet used, ascending. */
  slots: number[];
  /** The reservation in flight, if any (one per key at a time). */
  reserving: Promise<void> | undefined;
  /** Callers of `take` waiting for a slot. */
  waiting: number;
  /** Of those, the ones not deferrable (a deferrable caller waits until none is left). */
  firm: number;
  /** Of those, the ones holding a slot and sleeping until its time. */
  holding: number;
  /** Duration of the last reservation (a lease starts that far ahead so its first slot is usable). */
  leadMs: number;
}

/** A budget over a {@link SlotLedger} (see the module comment for the window bound). */
export class SlottedRequestBudget implements RequestBudget {
  /** The rule of every key's timeline. */
  readonly rule: SlotWindow;
  private readonly clock: Clock;
  private readonly maxLease: number;
  private readonly lateMs: number;
  private readonly maxDeferMs: number;
  private readonly foreground: boolean;
  private readonly states = new Map<string, KeyState>();
  /** Slots dropped unused (late, or left over); for tests and metrics. */
  dropped = 0;

  constructor(
    private readonly ledger: SlotLedger,
    options: SlottedBudgetOptions,
  ) {
    const { requestsPerSecond: rate } = options;
    if (!Number.isInteger(rate) || rate < 1) {
      throw new RangeError(`SlottedRequestBudget requestsPerSecond=${rate}: expected an integer >= 1`);
    }
    this.clock = options.clock ?? systemClock;
    this.maxLease = options.maxLease ?? rate;
    this.lateMs = options.lateMs ?? 25;
    this.maxDeferMs = options.maxDeferMs ?? 2000;
    this.foreground = options.foreground ?? true;
    const guardMs = options.guardMs ?? 75;
    if (!Number.isInteger(this.maxLease) || this.maxLease < 1) {
      throw new RangeError(`SlottedRequestBudget maxLease=${this.maxLease}: expected an integer >= 1`);
    }
    if (!(this.lateMs >= 0) || !(guardMs >= 0)) {
      throw new RangeError(
        `SlottedRequestBudget lateMs=${this.lateMs} guardMs=${guardMs}: expected numbers >= 0`,
      );
    }
    const room = options.urgentRoom ?? (rate >= 3 ? 1 : 0);
    if (!Number.isInteger(room) || room < 0 || room >= rate) {
      throw new RangeError(
        `SlottedRequestBudget urgentRoom=${room}: expected an integer >= 0 below requestsPerSecond (${rate})`,
      );
    }
    this.rule = { requests: rate, windowMs: 1000 + this.lateMs + guardMs, ...(room > 0 ? { room } : {}) };
  }

  /** The callers of a key waiting for ordinary slots, or (`urgent`) for urgent ones. */
  private state(key: string, urgent = false): KeyState {
    const id = urgent ? `${key}\u0000urgent` : key;
    let s = this.states.get(id);
    if (!s) {
      s = { slots: [], reserving: undefined, waiting: 0, firm: 0, holding: 0, leadMs: 0 };
      this.states.set(id, s);
    }
    return s;
  }

  /**
   * Reserve the slots of the callers waiting without one, never more: a burst of callers pays one
   * ledger write. A slot reserved ahead for a caller yet to come was measured to sit unused until it
   * was too late (a container's requests come in bursts), and a dropped slot still counts in the
   * shared window: every container waited for a request never sent (a fifth of the slots of a mass
   * re-point).
   */
  private async lease(key: string, s: KeyState, urgent: boolean): Promise<void> {
    const count = Math.min(this.maxLease, Math.max(1, s.waiting - s.holding - s.slots.length));
    const asked = this.clock.now();
    const slots = await this.ledger.reserve(key, count, this.rule, asked + s.leadMs, {
      foreground: this.foreground,
      ...(urgent ? { urgent } : {}),
    });
    s.leadMs = Math.min(200, Math.max(0, this.clock.now() - asked));
    s.slots.push(...slots);
    // Urgent slots may come before ones leased earlier.
    if (urgent) s.slots.sort((a, b) => a - b);
  }

  foregroundBusy(key: string): boolean {
    return (this.ledger.busyUntil?.(key) ?? 0) > this.clock.now();
  }

  urgentActive(key: string): boolean {
    return (this.ledger.urgentRoomUntil?.(key) ?? 0) > this.clock.now();
  }

  private drop(): void {
    this.dropped += 1;
  }

  async take(key: string, options: TakeOptions = {}): Promise<number> {
    const urgent = options.urgent === true && this.rule.room !== undefined;
    const s = this.state(key, urgent);
    const began = this.clock.now();
    // A deferrable request (a verification poll) lets the others of this process already waiting
    // go first: the re-tag's own submissions and status reads are what keeps the batches running.
    if (options.deferrable) {
      const others = this.state(key, !urgent);
      while (s.firm + others.firm > 0 && this.clock.now() - began < this.maxDeferMs)
        await this.clock.sleep(DEFER_POLL_MS);
    }
    const firm = options.deferrable ? 0 : 1;
    s.waiting += 1;
    s.firm += firm;
    try {
      for (;;) {
        const slot = s.slots.shift();
        if (slot === undefined) {
          s.reserving ??= this.lease(key, s, urgent).finally(() => {
            s.reserving = undefined;
          });
          await s.reserving;
          continue;
        }
        const wait = slot - this.clock.now();
        if (wait > 0) {
          s.holding += 1;
          try {
            await this.clock.sleep(wait);
          } finally {
            s.holding -= 1;
          }
        }
        // Woken (or found) too late: using it could crowd the next sender's slot.
        if (this.clock.now() > slot + this.lateMs) {
          this.drop();
          continue;
        }
        return this.clock.now() - began;
      }
    } finally {
      s.waiting -= 1;
      s.firm -= firm;
    }
  }
}

/**
 * Today's in-process behaviour: one {@link TokenBucket} per key (a burst, then the rate). The
 * tests and the whole-system checker pass their own map of buckets.
 */
export class BucketRequestBudget implements RequestBudget {
  constructor(
    private readonly rate: { requestsPerSecond: number; burst: number },
    private readonly clock: Clock = systemClock,
    readonly buckets: Map<string, TokenBucket> = new Map(),
  ) {}

  take(key: string): Promise<number> {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.rate.requestsPerSecond, this.rate.burst, this.clock);
      this.buckets.set(key, bucket);
    }
    return bucket.take();
  }
}
