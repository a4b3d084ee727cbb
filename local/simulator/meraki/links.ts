/**
 * The simulated links of each MX: loss and latency per path (network → hub, on every uplink) and
 * per uplink (to every destination), hubs down, uplinks unplugged, and which uplink the VPN runs
 * over. Every value is a timeline of change points on the simulator's clock, so the lagged
 * per-minute series can be read for any past minute.
 *
 * The active uplink: the MX runs its VPN over its first uplink that is up (wan1 preferred). An
 * uplink is failed when unplugged or at 100 % loss; the MX leaves a failed active uplink after
 * `uplinkFailoverMs` for the first one up, and moves back at once when a preferred one is up again.
 * The state advances lazily (before and after every change, and on every read): between two
 * changes the only event is that deadline, so the result is exact without timers.
 */
import { SIM_UPLINKS, type SimUplink } from './types.js';

/** A loss/latency value; null = no data. */
export interface LossValue {
  lossPct: number | null;
  latencyMs: number | null;
}

/** The latency a clean link reports. */
export const DEFAULT_LATENCY_MS = 20;

/** The destination every MX tracks besides its hubs. */
export const DEFAULT_DESTINATION = '8.8.8.8';

const CLEAN: LossValue = { lossPct: 0, latencyMs: DEFAULT_LATENCY_MS };
const LOST: LossValue = { lossPct: 100, latencyMs: null };

/** Change points of one value; reading at `t` gives the last one set at or before `t`. */
export class Timeline<T> {
  private readonly points: { at: number; value: T }[] = [];

  constructor(private readonly initial: T) {}

  set(at: number, value: T): void {
    // Points arrive in clock order; one set twice at the same time keeps the newer value.
    const last = this.points[this.points.length - 1];
    if (last && last.at === at) last.value = value;
    else this.points.push({ at, value });
  }

  at(t: number): T {
    let value = this.initial;
    for (const p of this.points) {
      if (p.at > t) break;
      value = p.value;
    }
    return value;
  }
}

/** The latency that goes with a loss when the caller gives none. */
export function defaultLatency(lossPct: number | null): number | null {
  return lossPct === null || lossPct >= 100 ? null : DEFAULT_LATENCY_MS;
}

/** The worse of two values: no data wins, then the higher loss; a lost link has no latency. */
export function worse(a: LossValue, b: LossValue): LossValue {
  if (a.lossPct === null || b.lossPct === null) return { lossPct: null, latencyMs: null };
  const lossPct = Math.max(a.lossPct, b.lossPct);
  if (lossPct >= 100) return LOST;
  const latencyMs = a.latencyMs === null || b.latencyMs === null ? null : Math.max(a.latencyMs, b.latencyMs);
  return { lossPct, latencyMs };
}

/** One MX's uplinks: their loss, unplugged state and the VPN's active uplink. */
export class MxLinks {
  private readonly loss = new Map<SimUplink, Timeline<LossValue | null>>();
  private readonly down = new Map<SimUplink, Timeline<boolean>>();
  private readonly failedSince = new Map<SimUplink, number>();
  private current: SimUplink;
  /** When the VPN moved to the current uplink (−∞: from the start). */
  private since = Number.NEGATIVE_INFINITY;

  constructor(
    readonly uplinks: readonly SimUplink[],
    private readonly failoverMs: number,
  ) {
    const first = uplinks[0];
    if (first === undefined) throw new RangeError('uplinks=[]: an MX has at least one uplink');
    for (const u of uplinks) {
      if (!SIM_UPLINKS.includes(u))
        throw new RangeError(`uplink=${JSON.stringify(u)}: not one of ${SIM_UPLINKS.join(', ')}`);
      this.loss.set(u, new Timeline<LossValue | null>(null));
      this.down.set(u, new Timeline(false));
    }
    this.current = first;
  }

  has(uplink: SimUplink): boolean {
    return this.loss.has(uplink);
  }

  /** The uplink's own loss at `t` (unplugged: lost). */
  uplinkValue(uplink: SimUplink, t: number): LossValue {
    if (this.down.get(uplink)?.at(t)) return LOST;
    return this.loss.get(uplink)?.at(t) ?? CLEAN;
  }

  /** Unplugged at `t` (Meraki's `not connected`). */
  unplugged(uplink: SimUplink, t: number): boolean {
    return this.down.get(uplink)?.at(t) ?? false;
  }

  failed(uplink: SimUplink, t: number): boolean {
    return (this.uplinkValue(uplink, t).lossPct ?? 0) >= 100;
  }

  setLoss(uplink: SimUplink, t: number, value: LossValue | null): void {
    this.change(t, () => this.loss.get(uplink)?.set(t, value));
  }

  setDown(uplink: SimUplink, t: number, down: boolean): void {
    this.change(t, () => this.down.get(uplink)?.set(t, down));
  }

  /** The active uplink at `t` and since when it carries the VPN. */
  active(t: number): { uplink: SimUplink; since: number } {
    this.advance(t);
    return { uplink: this.current, since: this.since };
  }

  private change(t: number, apply: () => void): void {
    this.advance(t);
    apply();
    for (const u of this.uplinks) {
      if (!this.failed(u, t)) this.failedSince.delete(u);
      else if (!this.failedSince.has(u)) this.failedSince.set(u, t);
    }
    this.advance(t);
  }

  private advance(t: number): void {
    const firstUp = this.uplinks.find((u) => !this.failed(u, t));
    if (firstUp === undefined) return; // nowhere to go
    const rank = (u: SimUplink) => this.uplinks.indexOf(u);
    if (rank(firstUp) < rank(this.current)) {
      this.moveTo(firstUp, t);
      return;
    }
    const failedAt = this.failedSince.get(this.current);
    if (failedAt !== undefined && t >= failedAt + this.failoverMs)
      this.moveTo(firstUp, failedAt + this.failoverMs);
  }

  private moveTo(uplink: SimUplink, at: number): void {
    if (uplink === this.current) return;
    this.current = uplink;
    this.since = at;
  }
}
