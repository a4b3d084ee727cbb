/**
 * Meraki's request limits as the simulator applies them: a token bucket per organization (10/s
 * with a burst) and one per source IP (100/s over all organizations), each answering 429 with an
 * integer `Retry-After`; injected request failures (5xx or a 429 storm, for the next N requests
 * or for a while); and the times of every organization's requests, so a benchmark can find the
 * busiest 1 s window. Time comes from the injected clocks only.
 */
import { HttpError } from './http.js';
import type { RequestFaultSpec, SimRate } from './types.js';

/** A token bucket on a monotonic clock; `false` rate = unlimited. */
export class SimBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rate: SimRate | false,
    private readonly monotonic: () => number,
  ) {
    this.tokens = rate ? rate.burst : 0;
    this.last = monotonic();
  }

  /** Start over (full) with another rate. */
  reset(rate: SimRate | false): void {
    this.rate = rate;
    this.tokens = rate ? rate.burst : 0;
    this.last = this.monotonic();
  }

  /** Take one token; undefined when taken, else Meraki's Retry-After (whole seconds, ≥ 1). */
  take(): number | undefined {
    const rate = this.rate;
    if (!rate) return undefined;
    const t = this.monotonic();
    this.tokens = Math.min(rate.burst, this.tokens + ((t - this.last) * rate.requestsPerSecond) / 1000);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / rate.requestsPerSecond));
  }
}

/** Throw Meraki's 429 when `bucket` has no token. */
export function limitOrThrow(bucket: SimBucket, message: string): void {
  const retryAfter = bucket.take();
  if (retryAfter !== undefined) {
    throw new HttpError(429, [message], { 'retry-after': String(retryAfter) });
  }
}

/** Injected request failures: counted ones first, then timed ones. */
export class RequestFaults {
  private counted: (RequestFaultSpec & { count: number })[] = [];
  private timed: (RequestFaultSpec & { until: number })[] = [];

  constructor(private readonly now: () => number) {}

  add(spec: RequestFaultSpec): void {
    if (!Number.isInteger(spec.status) || spec.status < 400 || spec.status > 599) {
      throw new RangeError(`status=${JSON.stringify(spec.status)}: an injected failure is a 4xx or 5xx`);
    }
    if (spec.count === undefined && spec.forMs === undefined) {
      throw new RangeError('failRequests: give count and/or forMs');
    }
    if (spec.count !== undefined) {
      if (!Number.isInteger(spec.count) || spec.count < 0)
        throw new RangeError(`count=${JSON.stringify(spec.count)}: not a whole number of requests`);
      this.counted.push({ ...spec, count: spec.count });
    }
    if (spec.forMs !== undefined) {
      if (!Number.isFinite(spec.forMs) || spec.forMs < 0)
        throw new RangeError(`forMs=${JSON.stringify(spec.forMs)}: not a duration`);
      this.timed.push({ ...spec, until: this.now() + spec.forMs });
    }
  }

  clear(): void {
    this.counted = [];
    this.timed = [];
  }

  /** Throw the injected failure for this request, if one applies. */
  check(path: string): void {
    const matches = (f: RequestFaultSpec) => path.startsWith(f.pathPrefix ?? '');
    const counted = this.counted.find((f) => f.count > 0 && matches(f));
    const t = this.now();
    this.timed = this.timed.filter((f) => f.until > t);
    const fault = counted ?? this.timed.find(matches);
    if (!fault) return;
    if (counted) counted.count -= 1;
    this.counted = this.counted.filter((f) => f.count > 0);
    if (fault.status === 429) {
      throw new HttpError(429, ['API rate limit exceeded for organization (injected)'], {
        'retry-after': String(fault.retryAfterSec ?? 1),
      });
    }
    throw new HttpError(fault.status, ['Injected failure']);
  }
}

/** Monotonic request times per organization. */
export class RequestTimes {
  private readonly byOrg = new Map<string, number[]>();

  record(organizationId: string, t: number): void {
    const times = this.byOrg.get(organizationId);
    if (times) times.push(t);
    else this.byOrg.set(organizationId, [t]);
  }

  of(organizationId: string): readonly number[] {
    return this.byOrg.get(organizationId) ?? [];
  }

  /** The most requests within any window of `windowMs` (times are recorded in order). */
  maxInWindow(organizationId: string, windowMs = 1000): number {
    const times = this.of(organizationId);
    let best = 0;
    let lo = 0;
    for (let hi = 0; hi < times.length; hi++) {
      while ((times[hi] as number) - (times[lo] as number) >= windowMs) lo++;
      best = Math.max(best, hi - lo + 1);
    }
    return best;
  }
}
