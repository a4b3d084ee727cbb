/**
 * Rate limit and concurrency primitives shared by the director adapters: a token bucket, a
 * counting semaphore and `mapLimit` (bounded-concurrency map, results in input order).
 * The clock and the sleep are injectable so tests need no real waiting.
 */

/** Injectable time: `now()` in epoch ms and `sleep(ms)`. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock (Date.now + setTimeout). */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/**
 * A token bucket: `requestsPerSecond` tokens flow in, at most `burst` are kept. `take()` waits
 * until a token is free. Waiters are served in call order: each call reserves its token at
 * once (the balance may go negative) and sleeps for the time the reservation needs, so many
 * callers never wake up together to fight for one token.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly clock: Clock;

  constructor(
    readonly requestsPerSecond: number,
    readonly burst: number,
    clock: Clock = systemClock,
  ) {
    if (!(requestsPerSecond > 0) || !Number.isFinite(requestsPerSecond)) {
      throw new RangeError(
        `TokenBucket requestsPerSecond=${requestsPerSecond}: expected a finite number > 0`,
      );
    }
    if (!(burst >= 1) || !Number.isFinite(burst)) {
      throw new RangeError(`TokenBucket burst=${burst}: expected a finite number >= 1`);
    }
    this.clock = clock;
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.requestsPerSecond) / 1000);
  }

  /** Tokens available now (may be negative while callers are waiting on reservations). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Take one token, waiting as long as needed. Resolves with the ms waited (0 when none). */
  async take(): Promise<number> {
    this.refill();
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    const waitMs = Math.ceil((-this.tokens * 1000) / this.requestsPerSecond);
    await this.clock.sleep(waitMs);
    return waitMs;
  }
}

/** A counting semaphore: at most `limit` holders at a time, FIFO. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`Semaphore limit=${limit}: expected an integer >= 1`);
    }
  }

  /** Run `fn` once a slot is free; the slot is released when it settles. */
  async run<R>(fn: () => Promise<R>): Promise<R> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter (active stays the same), else free it.
      if (next) next();
      else this.active -= 1;
    }
  }
}

/**
 * Map `items` through `fn` with at most `limit` calls in flight; results keep the input order.
 * The first rejection rejects the whole call and no further items are started (calls already
 * running finish). Catch inside `fn` to collect per-item outcomes instead.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`mapLimit limit=${limit}: expected an integer >= 1`);
  }
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Array.from({ length: Math.min(limit, items.length) }, () => worker());
  await Promise.all(workers);
  return results;
}
