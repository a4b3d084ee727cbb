/**
 * The checker's scheduler: a virtual clock, a queue of timers, and actors. Every await of the
 * real code ends in a port whose implementation here is {@link SimScheduler.sleep} (the table, the
 * director transport, the runtime), so the scheduler alone decides the order in which concurrent
 * actors proceed: timers fire in time order, ties broken by a seeded draw. Between two timers the
 * real code runs until every actor waits on a timer again (one macrotask turn drains the
 * microtasks; nothing in a simulated run does real I/O).
 *
 * Actors (a Lambda invocation, a console call) own their timers: a timer is created by the actor
 * whose code is running, and firing it makes that actor the running one again. One step fires
 * one timer and drains the microtasks, so everything that runs in a step belongs to that timer's
 * actor (cheaper and as exact here as AsyncLocalStorage). {@link SimScheduler.crash} makes every
 * later sleep of an actor hang forever — the process is gone, its memory with it; what it wrote
 * to the store stays.
 */
import type { Runtime } from '../../shared/runtime.js';
import { Prng } from './prng.js';

/** One running actor: a function invocation or a console call. */
export interface Actor {
  readonly id: number;
  readonly name: string;
  readonly startedAt: number;
  crashed: boolean;
  /** Awaits (scheduler sleeps) so far. */
  sleeps: number;
  /** Set by the runner: which invocation this is (e.g. a stream batch) for the trace. */
  detail?: string;
}

interface Timer {
  owner: Actor | undefined;
  at: number;
  tie: number;
  seq: number;
  /** Returns true only for a quiet timer ({@link SimScheduler.atQuiet}) that started nothing. */
  fire: () => unknown;
  quiet?: true;
}

/** One event-loop turn: every microtask, tick and callback of real I/O that is due has run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Resolves once the microtask queue is empty, without an event-loop turn: a tick queued from a
 * microtask runs only after V8 has run every microtask (queued ones included), since Node runs
 * the tick queue and the microtask checkpoint in alternation until both are empty. Nothing in a
 * run with the in-memory table waits on anything but promises (the scheduler's timers are its
 * own), so this is the same point as the turn's, minus a libuv poll per step.
 */
// A promise reaction rather than queueMicrotask, which wraps each callback in an AsyncResource.
const drainMicrotasks = () =>
  new Promise<void>((resolve) => {
    void Promise.resolve().then(() => process.nextTick(resolve));
  });

/** Virtual time, seeded interleaving, actors and crashes. */
export class SimScheduler {
  private timers: Timer[] = [];
  private seq = 0;
  private actorSeq = 0;
  private ids = 0;
  private running: Actor | undefined;
  private readonly deaths = new Map<Actor, () => void>();
  /** Real I/O in flight (the DynamoDB Local slice): virtual time waits for it. */
  private readonly pending = new Set<Promise<unknown>>();
  /** Set once real I/O was seen: from then on every step ends with a whole event-loop turn. */
  private realIo = false;
  readonly rng: Prng;
  /** Virtual epoch ms. */
  now: number;
  steps = 0;
  /** Sleeps outside any actor (an attribution leak in the harness: the checker reports it). */
  orphanSleeps = 0;
  /** Crash hook: asked at every sleep of an actor (its `sleeps` counts them) whether to crash it there. */
  crashAt?: (actor: Actor) => boolean;

  constructor(seed: number, start = Date.UTC(2026, 11, 1, 8, 0, 0)) {
    this.rng = new Prng(seed);
    this.now = start;
  }

  /** The actor whose code is running now (undefined: the harness itself). */
  current(): Actor | undefined {
    return this.running;
  }

  /** Resolve after `ms` virtual ms; never for a crashed actor. */
  sleep(ms: number): Promise<void> {
    const actor = this.running;
    // Every sleep of the code under test belongs to an actor; the harness uses harnessSleep.
    if (!actor) this.orphanSleeps++;
    if (actor?.crashed) return new Promise<void>(() => {});
    if (actor) actor.sleeps++;
    if (actor && this.crashAt?.(actor)) {
      this.crash(actor);
      return new Promise<void>(() => {});
    }
    return new Promise<void>((resolve) => {
      this.push(actor, Math.max(0, ms), () => {
        // The actor may have crashed while waiting (a timeout killed it).
        if (!actor?.crashed) resolve();
      });
    });
  }

  /** A sleep of the harness itself (never crashed, owned by no actor). */
  harnessSleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => this.push(undefined, Math.max(0, ms), resolve));
  }

  /** Call `fn` at now + ms, outside any actor (harness events: faults, schedules). */
  at(ms: number, fn: () => void): void {
    this.push(undefined, Math.max(0, ms), fn);
  }

  /**
   * Like {@link at}, for a harness callback that may end without starting anything asynchronous:
   * when `fn` returns true (it created no promise, so no microtask is pending), its step ends
   * without draining the microtasks, one event-loop turn fewer. Same draws, same order, same
   * steps. For the stream's pollers: most polls find an empty shard and only schedule the next.
   */
  atQuiet(ms: number, fn: () => boolean): void {
    this.push(undefined, Math.max(0, ms), fn, true);
  }

  private push(owner: Actor | undefined, ms: number, fire: () => unknown, quiet?: true): void {
    const t: Timer = { owner, at: this.now + ms, tie: this.rng.u32(), seq: this.seq++, fire };
    if (quiet) t.quiet = true;
    // Binary heap insert.
    const h = this.timers;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i] as Timer, h[p] as Timer)) break;
      [h[i], h[p]] = [h[p] as Timer, h[i] as Timer];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.timers;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l] as Timer, h[m] as Timer)) m = l;
        if (r < h.length && before(h[r] as Timer, h[m] as Timer)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Timer, h[i] as Timer];
        i = m;
      }
    }
    return top;
  }

  /**
   * Real I/O (DynamoDB Local): virtual time stands still until `io` settles, so the real store's
   * answers arrive "instantly" in virtual time and only the seeded timers order the actors.
   */
  external<T>(io: Promise<T>): Promise<T> {
    this.realIo = true;
    const tracked = io.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
    return tracked;
  }

  /** Start an actor: `fn` runs in its context. The promise never settles if it crashes. */
  spawn<T>(name: string, fn: (actor: Actor) => Promise<T>): { actor: Actor; done: Promise<T> } {
    const actor: Actor = { id: ++this.actorSeq, name, startedAt: this.now, crashed: false, sleeps: 0 };
    // Started on a timer of its own: everything up to its first sleep runs in a step owned by it
    // (an await on an already settled promise does not hand the step back to the harness).
    const done = new Promise<T>((resolve, reject) => {
      this.push(actor, 0, () => {
        if (!actor.crashed) fn(actor).then(resolve, reject);
      });
    });
    return { actor, done };
  }

  /** Kill an actor now (a Lambda timeout, a container crash). */
  crash(actor: Actor): void {
    actor.crashed = true;
    const tell = this.deaths.get(actor);
    this.deaths.delete(actor);
    // Told on a timer of the harness, so the harness learns of it in a step of its own.
    if (tell) this.push(undefined, 0, tell);
  }

  /** Resolves when `actor` crashes (never, if it does not). */
  died(actor: Actor): Promise<void> {
    if (actor.crashed) return Promise.resolve();
    return new Promise<void>((resolve) => this.deaths.set(actor, resolve));
  }

  /** Forget an actor that finished (its death can no longer be told). */
  finished(actor: Actor): void {
    this.deaths.delete(actor);
  }

  /**
   * Run until virtual time `until` or no timer is left. `afterStep` runs after every step (the
   * invariant checks); it may throw to stop the run.
   */
  async runUntil(until: number, afterStep?: () => void): Promise<void> {
    await turn();
    await this.settle();
    for (;;) {
      const next = this.timers[0];
      if (!next || next.at > until) break;
      this.pop();
      this.now = Math.max(this.now, next.at);
      this.running = next.owner;
      const quiet = next.fire() === true && next.quiet === true;
      // settle(), inlined (one async hop fewer per step). pending is looked at after the drain:
      // a step may start the first real I/O inside a microtask.
      if (!quiet) {
        await (this.realIo ? turn() : drainMicrotasks());
        if (this.pending.size > 0) await this.awaitPending();
      }
      this.running = undefined;
      this.steps++;
      afterStep?.();
    }
    this.now = Math.max(this.now, until);
  }

  /** Drain the microtasks, and any real I/O in flight with what it sets off. */
  private async settle(): Promise<void> {
    await (this.realIo ? turn() : drainMicrotasks());
    await this.awaitPending();
  }

  /** Wait for the real I/O in flight, and for what each answer sets off. */
  private async awaitPending(): Promise<void> {
    while (this.pending.size > 0) {
      await Promise.allSettled([...this.pending]);
      await turn();
    }
  }

  /** The {@link Runtime} port on this scheduler: virtual time, seeded randomness, counter ids. */
  runtime(): Runtime {
    const rng = this.rng.fork();
    return {
      now: () => this.now,
      sleep: (ms) => this.sleep(ms),
      random: () => rng.float(),
      id: () => {
        const n = (++this.ids).toString(16).padStart(12, '0');
        return `00000000-0000-4000-8000-${n}`;
      },
    };
  }
}

function before(a: Timer, b: Timer): boolean {
  if (a.at !== b.at) return a.at < b.at;
  if (a.tie !== b.tie) return a.tie < b.tie;
  return a.seq < b.seq;
}
