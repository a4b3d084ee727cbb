/**
 * The whole-system invariants (README "Safety", S1–S5), checked on the simulated world and the
 * store as they change: every landed table write (the change feed, synchronously, inside the
 * writer's actor), every write a director accepted, every fan-out that reports success, and at
 * the end of a schedule (convergence, notices).
 *
 * | id  | rule |
 * | S1  | no director applies a write for an epoch older than one it already accepted; a group's
 * |     | stored epoch never decreases |
 * | S2  | serving changes only onto a candidate that was UP when the decider read it (or pinned),
 * |     | and never while the monitor was blind before the decider started |
 * | S3a | a fan-out that reports success (nothing failed, not superseded) leaves every branch of
 * |     | the group on its target while its epoch is still the stored one (fence, then read) |
 * | S3  | after the faults heal, within one hold plus one drift period: every branch on the
 * |     | serving concentrator, serving = what election gives for the world, one ACTIVE |
 * | S4  | a DOWN→UP transition needs a hold of observed clean samples without a gap; failbacks
 * |     | onto one candidate at least a hold apart |
 * | S5  | every change of serving: exactly one audit event and at least one notice |
 * | S6  | after a completed switchover (failback), every group with a DR (DC) candidate UP serves
 * |     | from DR (DC) within one health period, its branches there after the next drift pass
 * |     | (only where the promise's conditions held: see {@link Invariants.armS6}) |
 * | S1  | across directors: from the store's role change that makes a site PASSIVE until the one
 * |     | that makes it ACTIVE again, no re-point, HA_STATE or group re-point lands through that
 * |     | site's director |
 * | S1  | Meraki worlds (the Dashboard keeps no epoch: swaps are fenced on the stored epoch, before
 * |     | and after each write): no tag swap moves a network once the fan-out of the group's newest
 * |     | stored epoch has completed ({@link Invariants.onUnfencedWrite}); S3a there judges by the
 * |     | hub the branch reaches when the world says it; S3 asks every other hub tagged `_down` |
 * | F1  | no stream record reaches the DLQ (every record the checker makes is well-formed) |
 * | F2  | no actor fails with an unnamed error (TypeError, …): named errors are outcomes |
 */
import type { SiteName, SiteRole } from '../../shared/domain/model.js';
import type { TableChange } from '../../shared/store/memory-table.js';
import type { AppliedAction, TransportLog } from './transport.js';
import type { Actor } from './scheduler.js';

/**
 * What the checks read of the world: a zWAN SimWorld, or a Meraki world's view (./meraki-world.ts:
 * a branch is a network, a candidate the path to a hub, its HA role what the network's tags say).
 */
export interface CheckedWorld {
  /** The candidate a branch's tunnels are on now. */
  currentTarget(branchId: string): string | undefined;
  cpes: { get(id: string): { site?: SiteName | undefined; haRole?: string | undefined } | undefined };
  sites: Record<SiteName, { mode: string }>;
  /** S3 also asks every candidate but the serving one to hold the HA role PASSIVE (Meraki: `_down` tags). */
  othersPassive?: boolean;
  /**
   * The candidate a branch actually reaches (Meraki: its VPN status), when the world tells it
   * apart from the configured one: S3a then judges a completed fan-out by it.
   */
  reachedTarget?(branchId: string): string | undefined;
}

/**
 * Known product gaps: violations the checker lists without failing a run given
 * `--allow-known-gaps`, each a named gap of the product (not of the checker) with the issue that
 * removes it. None is open: the Meraki tag swaps (S1 in its weak form, S3a) are fenced on the
 * group's epoch since the Meraki issue, so those seeds fail like any other.
 */
const KNOWN_GAPS: readonly {
  kind: string;
  matches(v: { invariant: string; message: string }): boolean;
}[] = [];

/** Whether every violation of a schedule (of a world `kind`) is one of the {@link KNOWN_GAPS}. */
export function isKnownGap(
  kind: string,
  violations: readonly { invariant: string; message: string }[],
): boolean {
  return (
    violations.length > 0 && violations.every((v) => KNOWN_GAPS.some((g) => g.kind === kind && g.matches(v)))
  );
}

/** A broken invariant. */
export interface Violation {
  invariant: string;
  /** Virtual ms since the schedule started. */
  at: number;
  message: string;
}

/** What the checker knows of a group from the topology. */
export interface GroupShape {
  key: string;
  tenantId: string;
  haName: string;
  /** Candidate ids in failover order. */
  candidates: string[];
  branches: string[];
}

interface GroupView {
  servingId?: string;
  epoch: number;
  pin?: { concentratorId: string; expiresAt?: number };
  outbox?: unknown[];
}

interface HealthView {
  health: string;
  since: number | null;
  /** Virtual time the item last changed health. */
  changedAt: number;
}

/** A change of serving as the store recorded it. */
export interface ServingChange {
  groupKey: string;
  epoch: number;
  from?: string;
  to?: string;
  at: number;
  reason?: string;
}

/** Settings the checks need. */
export interface InvariantSettings {
  holdMs: number;
  sampleIntervalMs: number;
  /** Gap between two observed samples that ends a hold. */
  maxGapMs: number;
  /** S6: the health-check schedule's period (serving from the new site within it). */
  healthPeriodMs?: number;
  /** S6: the drift reconcile's period (the branches follow within one more, plus its run). */
  driftPeriodMs?: number;
}

/** One armed S6 promise: a completed switchover or failback to `site` at `at`. */
export interface S6Window {
  site: SiteName;
  at: number;
  /** Groups the promise applies to at `at` (a candidate of `site` UP in the store, no pin). */
  groups: string[];
}

/** The checker's view of the store and its running verdicts. */
export class Invariants {
  readonly violations: Violation[] = [];
  readonly groups = new Map<string, GroupView>();
  readonly health = new Map<string, HealthView>();
  readonly blindSince = new Map<string, number>();
  readonly changes: ServingChange[] = [];
  /** Audit events of changes of serving: `group#epoch` → count. */
  readonly audits = new Map<string, number>();
  readonly notices = new Map<string, number>();
  private readonly failbacks = new Map<string, number>();
  /** Changes of serving notified more than once (at least once is the promise; counted). */
  duplicateNotices = 0;
  /** Per group, the operator actions: [started, finished] (finished undefined while running). */
  private readonly operatorActs = new Map<string, [number, number | undefined][]>();

  /** An operator action on a group starts; call the result when it ends. */
  operatorAct(groupKey: string): () => void {
    this.operated.add(groupKey);
    const act: [number, number | undefined] = [this.clock(), undefined];
    const list = this.operatorActs.get(groupKey) ?? [];
    list.push(act);
    this.operatorActs.set(groupKey, list);
    return () => (act[1] = this.clock());
  }

  /** Groups an operator acted on (pins move serving on purpose: no S4 failback spacing). */
  readonly operated = new Set<string>();

  /** The site roles as stored (no item: DC ACTIVE, DR PASSIVE), and when each last changed. */
  readonly siteRoles: Record<SiteName, SiteRole> = { DC: 'ACTIVE', DR: 'PASSIVE' };
  private readonly siteRoleSince: Record<SiteName, number>;
  /** Each director's reachability as the health check stored it, and when it last changed. */
  private readonly reach = new Map<string, { reachable: boolean; at: number }>();
  /** Last time a director item said MONITOR_BLIND, a group's pin changed, the table was restored. */
  private lastBlindAt = Number.NEGATIVE_INFINITY;
  private readonly pinChangedAt = new Map<string, number>();
  private lastRestoreAt = Number.NEGATIVE_INFINITY;
  /** Last time the harness saw something S6 does not promise through (a crash, a DR start). */
  private lastDisturbanceAt = Number.NEGATIVE_INFINITY;
  /** Groups S6 was judged for with every condition held (the checker's own count). */
  s6Checked = 0;
  /** Why S6 windows (or a group of one) were not judged: the checker's own coverage. */
  readonly s6Excuses = new Map<string, number>();

  constructor(
    private readonly shapes: Map<string, GroupShape>,
    private readonly world: CheckedWorld,
    private readonly settings: InvariantSettings,
    private readonly clock: () => number,
    private readonly start: number,
    private readonly log: TransportLog,
  ) {
    this.siteRoleSince = { DC: start, DR: start };
  }

  /** The harness saw a crash, a timeout or a DR execution start: S6 windows over it are not judged. */
  disturb(): void {
    this.lastDisturbanceAt = this.clock();
  }

  fail(invariant: string, message: string): void {
    this.violations.push({ invariant, at: this.clock() - this.start, message });
  }

  private rank(groupKey: string, id: string | undefined): number {
    return id === undefined ? -1 : (this.shapes.get(groupKey)?.candidates.indexOf(id) ?? -1);
  }

  /** A landed table write, seen inside the writer's actor. */
  onChange(change: TableChange, actor: Actor | undefined): void {
    const item = change.newImage;
    const type = (item ?? change.oldImage)?.type;
    const now = this.clock();
    if (type === 'group' && item) this.onGroup(change, item, actor, now);
    else if (type === 'cpe-health' && item) this.onHealth(change, item, actor, now);
    else if (type === 'director' && item) {
      const site = String(item.sk);
      if (item.monitorBlind === true || this.blindSince.has(site)) this.lastBlindAt = now;
      if (item.monitorBlind === true) {
        if (!this.blindSince.has(site)) this.blindSince.set(site, now);
      } else this.blindSince.delete(site);
      const reachable = item.reachable !== false;
      if (this.reach.get(site)?.reachable !== reachable) this.reach.set(site, { reachable, at: now });
    } else if (type === 'site' && item) {
      const site = item.site === 'DR' ? 'DR' : 'DC';
      const role = item.role === 'PASSIVE' ? 'PASSIVE' : 'ACTIVE';
      if (this.siteRoles[site] !== role) {
        this.siteRoles[site] = role;
        this.siteRoleSince[site] = now;
      }
    } else if (type === 'audit' && item && change.eventName === 'INSERT') {
      const detail = (item.detail ?? {}) as { kind?: string; groupKey?: string; epoch?: number; to?: string };
      if (detail.kind === 'FAILOVER' || detail.kind === 'FAILBACK' || detail.kind === 'ELECTED') {
        const k = changeKey(detail.groupKey, detail.epoch, detail.to);
        this.audits.set(k, (this.audits.get(k) ?? 0) + 1);
      }
    }
  }

  private onGroup(change: TableChange, item: Record<string, unknown>, actor: Actor | undefined, now: number) {
    const key = String(item.sk);
    const before = this.groups.get(key);
    const next: GroupView = {
      epoch: Number(item.epoch ?? 0),
      ...(typeof item.servingId === 'string' ? { servingId: item.servingId } : {}),
      ...(item.pin ? { pin: item.pin as GroupView['pin'] & object } : {}),
      ...(Array.isArray(item.outbox) ? { outbox: item.outbox } : {}),
    };
    this.groups.set(key, next);
    if (JSON.stringify(before?.pin) !== JSON.stringify(next.pin)) this.pinChangedAt.set(key, now);
    const oldEpoch = before?.epoch ?? 0;
    if (next.epoch < oldEpoch) this.fail('S1', `${key}: stored epoch went back ${oldEpoch} → ${next.epoch}`);
    if (this.seeding || next.servingId === before?.servingId || next.servingId === undefined) return;
    const serving = next.servingId;
    const reason = typeof item.reason === 'string' ? item.reason : undefined;
    this.changes.push({
      groupKey: key,
      epoch: next.epoch,
      ...(before?.servingId ? { from: before.servingId } : {}),
      to: serving,
      at: now,
      ...(reason ? { reason } : {}),
    });
    const pinned =
      next.pin?.concentratorId === serving && (next.pin.expiresAt === undefined || next.pin.expiresAt > now);
    if (pinned) return;
    const started = actor?.startedAt ?? now;
    const h = this.health.get(`${key}/${serving}`);
    if (!h || (h.health !== 'UP' && h.changedAt < started)) {
      this.fail(
        'S2',
        `${key}: serving ${before?.servingId ?? '-'} → ${serving} (epoch ${next.epoch}) while ${serving} is ${h?.health ?? 'UNKNOWN'} since before the decider (${actor?.name ?? 'harness'}) started`,
      );
    }
    for (const [site, since] of this.blindSince) {
      if (since < started)
        this.fail(
          'S2',
          `${key}: serving changed to ${serving} while the monitor was blind (director ${site} item)`,
        );
    }
    // Failback spacing: onto the same candidate at most once per hold.
    // A pin or unpin moves serving on purpose: spacing is not asked of failbacks an operator's
    // action (running, or finished since the last failback) may have caused.
    if (this.rank(key, serving) < this.rank(key, before?.servingId)) {
      const k = `${key}/${serving}`;
      const last = this.failbacks.get(k);
      // A site-role change (a switchover or failback) since the last one moves serving on purpose too.
      const acted =
        (this.operatorActs.get(key) ?? []).some(([, to]) => to === undefined || to >= (last ?? 0) - 1_000) ||
        Math.max(this.siteRoleSince.DC, this.siteRoleSince.DR) >= (last ?? 0) - 1_000;
      if (last !== undefined && now - last < this.settings.holdMs && !acted)
        this.fail(
          'S4',
          `${key}: failback onto ${serving} ${Math.round((now - last) / 1000)} s after the last one`,
        );
      this.failbacks.set(k, now);
    }
  }

  private onHealth(
    change: TableChange,
    item: Record<string, unknown>,
    actor: Actor | undefined,
    now: number,
  ) {
    const groupKey = String(item.pk).replace(/^HEALTH#/, '');
    const target = String(item.sk);
    const health = String(
      item.health ?? (item.state as { health?: string } | undefined)?.health ?? 'UNKNOWN',
    );
    const k = `${groupKey}/${target}`;
    const before = this.health.get(k);
    const since = typeof item.since === 'number' ? item.since : null;
    if (before?.health === health) {
      this.health.set(k, { ...before, since });
      return;
    }
    this.health.set(k, { health, since, changedAt: now });
    if (!this.seeding && health === 'UP' && since !== null) this.checkHold(groupKey, target, since, actor);
  }

  /** S4: the UP at `since` needs observed good samples covering [since − hold, since], no gap. */
  private checkHold(groupKey: string, target: string, since: number, actor: Actor | undefined): void {
    const samples = this.log.samples.get(target) ?? [];
    const { holdMs, maxGapMs } = this.settings;
    // Transport times trail the round's time by the call's latency and retries.
    const slack = 5_000;
    const from = since - holdMs;
    const inWindow = samples.filter(([at]) => at >= from - slack && at <= since + slack);
    let last = from;
    for (const [at, good, who] of inWindow) {
      if (at > since + slack) break;
      if (good === null) continue;
      if (at - last > maxGapMs + slack) {
        this.fail(
          'S4',
          `${groupKey}: ${target} UP at +${Math.round((since - this.start) / 1000)} s after a hold with a ${Math.round((at - last) / 1000)} s gap in observed samples (from +${Math.round((last - this.start) / 1000)} s)`,
        );
        return;
      }
      if (good === false && who === actor?.id && at > from + slack && at < since - slack) {
        this.fail(
          'S4',
          `${groupKey}: ${target} UP although this run observed a bad sample ${Math.round((since - at) / 1000)} s before`,
        );
        return;
      }
      last = Math.max(last, at);
    }
    if (since - last > maxGapMs + slack)
      this.fail(
        'S4',
        `${groupKey}: ${target} UP at +${Math.round((since - this.start) / 1000)} s with no observed sample in the last ${Math.round((since - last) / 1000)} s`,
      );
  }

  /** Groups whose fan-out for the stored epoch completed: that epoch and its serving. */
  private readonly converged = new Map<string, { epoch: number; servingId: string }>();

  /** Re-reading a restored table: views only, no checks. */
  private seeding = false;

  /**
   * The state table was restored to `items` (PITR): the checker's view of the store starts over
   * from them; epochs may fall back (not an S1 violation: the store itself went back).
   */
  onRestore(items: readonly Record<string, unknown>[]): void {
    this.seeding = true;
    this.lastRestoreAt = this.clock();
    this.siteRoles.DC = 'ACTIVE';
    this.siteRoles.DR = 'PASSIVE';
    this.reach.clear();
    this.groups.clear();
    this.health.clear();
    this.blindSince.clear();
    this.converged.clear();
    this.failbacks.clear();
    this.audits.clear();
    this.notices.clear();
    for (const item of items) {
      if (!['group', 'cpe-health', 'director', 'site'].includes(String(item.type))) continue;
      const keys = { pk: String(item.pk), sk: String(item.sk) };
      this.onChange({ seq: 0, eventName: 'INSERT', keys, newImage: item }, undefined);
    }
    this.seeding = false;
    this.changes.length = 0;
  }

  /** S1 on the director side; S3a for writes that land after a completed fan-out. */
  onApplied(a: AppliedAction): void {
    const done = this.converged.get(a.groupKey);
    if (a.op === 'repoint' && a.cpeId && done && this.groups.get(a.groupKey)?.epoch === done.epoch) {
      const on = this.world.currentTarget(a.cpeId);
      if (on !== done.servingId)
        this.fail(
          'S3a',
          `${a.groupKey}: a re-point of ${a.cpeId} at epoch ${a.epoch} landed (now on ${on ?? 'nothing'}) after the epoch-${done.epoch} fan-out onto ${done.servingId} had completed`,
        );
    }
    // Across directors: the world's branches do not care which director applied an older decision.
    // Raising a fence (PUT …/epoch) is no decision applied: a late fan-out raises its director's
    // fence before it reads the store, finds the newer epoch and stops (fence, then read); the
    // world is unchanged, and a write at that epoch through that director would still be caught.
    if (a.op !== 'epoch' && a.epoch < a.newestAnywhere && a.epoch >= a.seenBefore)
      this.fail(
        'S1',
        `director ${a.site} applied ${a.op} for ${a.groupKey} at epoch ${a.epoch} after epoch ${a.newestAnywhere} had been applied through another director`,
      );
    if (a.epoch < a.seenBefore)
      this.fail(
        'S1',
        `director ${a.site} applied ${a.op} for ${a.groupKey} at epoch ${a.epoch} after epoch ${a.seenBefore}`,
      );
    // Across directors: a site the store has PASSIVE acts through nobody (raising its epoch
    // fence, PUT …/epoch, changes nothing in the world and is not a write here).
    if (a.op !== 'epoch' && this.siteRoles[a.site] === 'PASSIVE')
      this.fail(
        'S1',
        `across directors: director ${a.site} applied ${a.op} for ${a.groupKey}${a.cpeId ? ` (${a.cpeId})` : ''} at epoch ${a.epoch} while the store has site ${a.site} PASSIVE (since +${Math.round((this.siteRoleSince[a.site] - this.start) / 1000)} s)`,
      );
  }

  /**
   * S1 as Meraki can be held to it (the Dashboard keeps no epoch, so a write carries none the
   * checker could compare; the adapter fences each swap on the stored epoch instead): once the
   * fan-out of the group's newest stored epoch has completed, no tag swap moves the network off
   * that fan-out's hub while the epoch is still the stored one.
   */
  onUnfencedWrite(groupKey: string, branchId: string): void {
    const done = this.converged.get(groupKey);
    if (!done || this.groups.get(groupKey)?.epoch !== done.epoch) return;
    const on = this.world.currentTarget(branchId);
    if (on !== done.servingId)
      this.fail(
        'S1',
        `${groupKey} (Meraki): a tag swap moved ${branchId} onto ${on ?? 'no hub'} after the epoch-${done.epoch} fan-out onto ${done.servingId} had completed`,
      );
  }

  /** S3a: a fan-out that reports success left every branch on its target (its epoch still stored). */
  onFanOutDone(
    groupKey: string,
    r: {
      servingId: string;
      epoch: number;
      superseded: boolean;
      failed: unknown[];
      replayed?: boolean;
      inProgressElsewhere?: boolean;
      counts: { failed: number };
      pending?: unknown[];
    },
  ): void {
    if (
      r.superseded ||
      r.failed.length > 0 ||
      r.counts.failed > 0 ||
      (r.pending?.length ?? 0) > 0 ||
      r.replayed ||
      r.inProgressElsewhere
    )
      return;
    if (this.groups.get(groupKey)?.epoch !== r.epoch) return;
    this.converged.set(groupKey, { epoch: r.epoch, servingId: r.servingId });
    const shape = this.shapes.get(groupKey);
    const reach = this.world.reachedTarget?.bind(this.world);
    for (const b of shape?.branches ?? []) {
      const on = reach ? reach(b) : this.world.currentTarget(b);
      if (on !== r.servingId) {
        this.fail(
          'S3a',
          `${groupKey}: the epoch-${r.epoch} fan-out reported success, but ${b} ${reach ? 'reaches' : 'is on'} ${on ?? 'nothing'}, not ${r.servingId}`,
        );
        return;
      }
    }
  }

  /** A notice as published. */
  onNotice(n: { kind: string; groupKey: string; epoch: number; to?: string }): void {
    if (n.kind === 'FAILOVER' || n.kind === 'FAILBACK' || n.kind === 'ELECTED') {
      const k = changeKey(n.groupKey, n.epoch, n.to);
      this.notices.set(k, (this.notices.get(k) ?? 0) + 1);
    }
  }

  private siteOf(id: string): SiteName | undefined {
    return this.world.cpes.get(id)?.site;
  }

  /**
   * S6: a switchover (failback) to `site` completed now (its execution reached ReleaseLock).
   * Returns the window; the harness judges it with {@link judgeS6} after one health period
   * (serving) and after one more drift period (branches: the switchover's own fan-out runs
   * before SetDrManagementUrl, while the branches are still managed by the old director, so it
   * is the next drift pass that moves them).
   *
   * The promise is judged only where what it depends on held from the completion to the deadline:
   * - the store's roles stay `site` ACTIVE, the other PASSIVE (no other DR execution, no table
   *   restore: either changes what election is asked);
   * - `site`'s director, now the acting one, answers: stored reachable since before the window
   *   and through it, and no call to it meets a transport fault or the director down, hanging or
   *   answering 5xx (an unreachable acting director holds every change, by design);
   * - no MONITOR_BLIND in the window (it holds every change);
   * - no invocation crashed or timed out in the window and no DR execution started (a crashed
   *   fan-out waits out its idempotency record and the stream's retry, longer than a period);
   * - per group: no pin and no operator action in the window (a pin wins over election), and a
   *   candidate of `site` UP in the store since before the window, still UP, and UP in the
   *   world's truth: every sample the health check took of it in the window good (at least one).
   */
  armS6(site: SiteName): S6Window {
    const groups = [...this.shapes.values()]
      .filter((g) => g.candidates.some((c) => this.siteOf(c) === site))
      .map((g) => g.key);
    const w: S6Window = { site, at: this.clock(), groups };
    return w;
  }

  /** Why the window's promise does not apply to the whole system (undefined: it does). */
  private s6Excused(w: S6Window): string | undefined {
    const other: SiteName = w.site === 'DC' ? 'DR' : 'DC';
    if (this.siteRoles[w.site] !== 'ACTIVE' || this.siteRoles[other] !== 'PASSIVE') return 'roles';
    if (this.siteRoleSince[w.site] > w.at || this.siteRoleSince[other] > w.at) return 'roles changed';
    if (this.lastRestoreAt >= w.at) return 'table restored';
    if (this.lastDisturbanceAt >= w.at) return 'crash or DR start';
    if (this.blindSince.size > 0 || this.lastBlindAt >= w.at) return 'MONITOR_BLIND';
    const r = this.reach.get(w.site);
    if (r && (!r.reachable || r.at > w.at)) return 'director unreachable (store)';
    if (this.log.lastFaultAt[w.site] >= w.at) return 'transport fault';
    if (this.world.sites[w.site].mode !== 'ok') return 'director mode';
    return undefined;
  }

  /** Whether the promise applies to a group over [w.at, now]. */
  private s6Applies(w: S6Window, key: string): boolean {
    const now = this.clock();
    const g = this.groups.get(key);
    if (g?.pin || (this.pinChangedAt.get(key) ?? Number.NEGATIVE_INFINITY) >= w.at) return false;
    if (
      (this.operatorActs.get(key) ?? []).some(([from, to]) => from <= now && (to === undefined || to >= w.at))
    )
      return false;
    const shape = this.shapes.get(key);
    return (shape?.candidates ?? []).some((c) => {
      if (this.siteOf(c) !== w.site) return false;
      const h = this.health.get(`${key}/${c}`);
      if (h?.health !== 'UP' || h.changedAt >= w.at) return false;
      const seen = (this.log.samples.get(c) ?? []).filter(([at]) => at >= w.at && at <= now);
      return seen.length > 0 && seen.every(([, good]) => good === true);
    });
  }

  /** S6 at a deadline of `w`: serving from `w.site` (and, with `branches`, every branch there). */
  judgeS6(w: S6Window, branches: boolean): void {
    const excuse = this.s6Excused(w);
    if (excuse !== undefined) {
      this.s6Excuses.set(excuse, (this.s6Excuses.get(excuse) ?? 0) + 1);
      return;
    }
    for (const key of w.groups) {
      if (!this.s6Applies(w, key)) {
        this.s6Excuses.set('group', (this.s6Excuses.get('group') ?? 0) + 1);
        continue;
      }
      this.s6Checked++;
      const serving = this.groups.get(key)?.servingId;
      const since = `${Math.round((this.clock() - w.at) / 1000)} s after a switchover to ${w.site} completed (+${Math.round((w.at - this.start) / 1000)} s)`;
      if (!serving || this.siteOf(serving) !== w.site) {
        this.fail('S6', `${key}: serving ${serving ?? 'none'} ${since}, with a ${w.site} candidate UP`);
        continue;
      }
      if (!branches) continue;
      const off = (this.shapes.get(key)?.branches ?? []).filter(
        (b) => this.world.currentTarget(b) !== serving,
      );
      if (off.length > 0)
        this.fail(
          'S6',
          `${key}: ${off.length} branch(es) not on ${serving} ${since} (${off
            .slice(0, 3)
            .map((b) => `${b} on ${this.world.currentTarget(b) ?? 'nothing'}`)
            .join(', ')})`,
        );
    }
  }

  /** Whether election skips `id` for its site's stored role (DC PASSIVE: DC skipped; DR counts as ACTIVE while DC is). */
  private skipped(id: string): boolean {
    const site = this.siteOf(id);
    if (site === 'DC') return this.siteRoles.DC === 'PASSIVE';
    if (site === 'DR') return this.siteRoles.DC !== 'ACTIVE' && this.siteRoles.DR === 'PASSIVE';
    return false;
  }

  /** S3 and S5, once the faults have healed and the world had time to settle. */
  atEnd(): void {
    // The sites: exactly one ACTIVE once every DR execution has ended (or the operator finished).
    if ((this.siteRoles.DC === 'ACTIVE') === (this.siteRoles.DR === 'ACTIVE'))
      this.fail(
        'S3',
        `the store's site roles are DC ${this.siteRoles.DC}, DR ${this.siteRoles.DR} at the end (since +${Math.round((Math.max(this.siteRoleSince.DC, this.siteRoleSince.DR) - this.start) / 1000)} s): not exactly one site ACTIVE`,
      );
    for (const shape of this.shapes.values()) {
      const g = this.groups.get(shape.key);
      // Election for a healed world under the store's final site roles: the first candidate of
      // a site not PASSIVE (after a switchover, the first DR one), unless an operator's pin still
      // holds (a pin that raced the heal's unpin and landed last stays: election honours it). A
      // group with no candidate left (no DR candidate, DC PASSIVE) keeps its serving (ALL_DOWN)
      // and is not re-pointed while its site is PASSIVE: nothing more is promised for it.
      const now = this.clock();
      const pinned =
        g?.pin && (g.pin.expiresAt === undefined || g.pin.expiresAt > now) ? g.pin.concentratorId : undefined;
      const expected = pinned ?? shape.candidates.find((c) => !this.skipped(c));
      if (expected === undefined) continue;
      if (g?.servingId !== expected) {
        this.fail(
          'S3',
          `${shape.key}: serving ${g?.servingId ?? 'none'} after the faults healed; election gives ${expected}`,
        );
        continue;
      }
      const off = shape.branches.filter((b) => this.world.currentTarget(b) !== expected);
      if (off.length > 0)
        this.fail(
          'S3',
          `${shape.key}: ${off.length} branch(es) not on ${expected} after the faults healed (${off.slice(0, 3).join(', ')})`,
        );
      const active = shape.candidates.filter((c) => this.world.cpes.get(c)?.haRole === 'ACTIVE');
      if (active.length !== 1 || active[0] !== expected)
        this.fail('S3', `${shape.key}: HA role ACTIVE on [${active.join(', ')}], expected only ${expected}`);
      const notPassive = shape.candidates.filter(
        (c) => c !== expected && this.world.cpes.get(c)?.haRole !== 'PASSIVE',
      );
      if (this.world.othersPassive && notPassive.length > 0)
        this.fail(
          'S3',
          `${shape.key}: [${notPassive.join(', ')}] not PASSIVE (tags), expected only ${expected} up`,
        );
      if (g?.outbox && g.outbox.length > 0)
        this.fail('S5', `${shape.key}: a notice is still in the outbox at the end`);
    }
    for (const c of this.changes) {
      const k = changeKey(c.groupKey, c.epoch, c.to);
      if ((this.notices.get(k) ?? 0) > 1) this.duplicateNotices++;
      const audits = this.audits.get(k) ?? 0;
      if (audits !== 1)
        this.fail(
          'S5',
          `${c.groupKey}: the change of serving to ${c.to} at epoch ${c.epoch} has ${audits} audit events (expected 1)`,
        );
      if ((this.notices.get(k) ?? 0) < 1)
        this.fail(
          'S5',
          `${c.groupKey}: the change of serving to ${c.to} at epoch ${c.epoch} was never notified`,
        );
    }
  }
}

/**
 * A change of serving's key for S5: group, epoch and target. The target too: after a table
 * restore an epoch is reused for another change, and an audit event or notice of the change made
 * before the restore may still land after it (its writer was running).
 */
function changeKey(groupKey: string | undefined, epoch: number | undefined, to: string | undefined): string {
  return `${groupKey}#${epoch}#${to}`;
}
