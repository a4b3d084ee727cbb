/**
 * Election of a group's serving concentrator (DESIGN.md "Health and election, precisely"). Pure.
 *
 * In order of precedence:
 * 1. An unexpired pin whose concentrator is a candidate of the group wins, whatever its health
 *    and its site's role. Refusing a pin onto a DOWN concentrator (without `force`) is the pin
 *    function's business; election honours whatever pin is in force. While a pin is in force
 *    no alarm is raised: the operator has acted, so no safety hold may block the pin.
 * 2. Monitor blind: hold every change (serving stays as it is), alarm MONITOR_BLIND.
 *    Blindness per site (blindness.ts): while the acting director is unreachable every change
 *    waits; while another considered site's director is unreachable, its candidates keep their
 *    last health and are neither left (serving on one stays) nor chosen. Both hold with no alarm.
 * 3. Eligible candidates are those whose site role is not PASSIVE. None of them UP: keep serving
 *    as it is, alarm ALL_DOWN. DOWN and UNKNOWN candidates are never elected.
 * 4. `preempt: false` keeps the current serving concentrator while it is UP and eligible.
 * 5. Otherwise the first UP eligible candidate in CANDIDATE_ORDER serves.
 * The epoch is raised by one exactly when the serving concentrator changes.
 */
import {
  CANDIDATE_ORDER,
  type AlarmKind,
  type Concentrator,
  type HaGroup,
  type Health,
  type Pin,
  type SiteName,
  type SiteRole,
} from './model.js';

/** A lookup keyed by id: a plain record or a Map. */
export type ById<V> = Readonly<Record<string, V>> | ReadonlyMap<string, V>;

/** Everything election looks at, for one group. */
export interface ElectionInput {
  group: HaGroup;
  /** Each candidate's health by CPE id; a missing id counts as UNKNOWN. */
  health: ById<Health>;
  /** Each site's role; a missing site counts as ACTIVE. */
  siteRoles: Partial<Record<SiteName, SiteRole>>;
  /** The group's stored serving concentrator and epoch. */
  current: { servingId?: string; epoch: number };
  pin?: Pin;
  /** Epoch ms, to decide whether the pin has expired. */
  now: number;
  /** Go back to a higher candidate once it is UP again (default in config: true). */
  preempt: boolean;
  /** The monitor's own view is suspect (see monitor.ts): hold every change. */
  monitorBlind: boolean;
  /** Sites whose director is unreachable (blindness.ts): decisions about them are frozen. */
  frozen?: FrozenSites;
}

/** What election needs of the blindness verdict (blindness.ts): the frozen sites, and whether the actor is one. */
export interface FrozenSites {
  sites: readonly SiteName[];
  /** The director that would re-point is unreachable: every change waits. */
  acting: boolean;
  /** Why, for the decision's reason. */
  reason: string;
}

/** Election's decision. */
export interface ElectionResult {
  servingId?: string;
  /** True when `servingId` differs from `current.servingId`. */
  changed: boolean;
  /** `current.epoch + 1` when changed, else `current.epoch`. */
  epoch: number;
  reason: string;
  alarms: AlarmKind[];
  /** Set when changed: `failback` = onto a higher candidate; `initial` = there was none. */
  kind?: 'failover' | 'failback' | 'pin' | 'initial';
  /** True when held because a director is unreachable (no alarm: DIRECTOR_LOST is per site). */
  frozen?: boolean;
}

/** Read a value from a record or a Map. */
export function lookup<V>(byId: ById<V>, id: string): V | undefined {
  if (byId instanceof Map) return (byId as ReadonlyMap<string, V>).get(id);
  return Object.prototype.hasOwnProperty.call(byId, id) ? (byId as Record<string, V>)[id] : undefined;
}

/** True when the pin is in force at `now` (no expiry, or not yet reached). */
export function isPinActive(pin: Pin | undefined, now: number): pin is Pin {
  return pin !== undefined && (pin.expiresAt === undefined || now < pin.expiresAt);
}

/**
 * Site roles as election sees them. A PASSIVE site's concentrators are skipped, except the DR
 * site's while DC is ACTIVE: in normal operation the DR *director* is a standby (PASSIVE), but
 * the DR concentrators are onboarded on the DC director (reference) and are the last resort of
 * the failover order (DC/ACTIVE, DC/PASSIVE, DR/ACTIVE, DR/PASSIVE). After a DC→DR switchover
 * (DC PASSIVE) the DC concentrators are skipped until failback.
 */
export function electionSiteRoles(roles: Record<SiteName, SiteRole>): Record<SiteName, SiteRole> {
  return { DC: roles.DC, DR: roles.DC === 'ACTIVE' ? 'ACTIVE' : roles.DR };
}

/** Decide the serving concentrator of one group. */
export function elect(input: ElectionInput): ElectionResult {
  const { group, current } = input;
  const healthOf = (c: Concentrator): Health => lookup(input.health, c.id) ?? 'UNKNOWN';
  const roleOf = (c: Concentrator): SiteRole => input.siteRoles[c.site] ?? 'ACTIVE';
  const byId = (id: string | undefined) => group.candidates.find((c) => c.id === id);
  const previous = byId(current.servingId);
  const currentLabel = current.servingId === undefined ? 'none' : label(previous, current.servingId);

  const keep = (reason: string, alarms: AlarmKind[]): ElectionResult => ({
    ...(current.servingId !== undefined ? { servingId: current.servingId } : {}),
    changed: false,
    epoch: current.epoch,
    reason,
    alarms,
  });
  const choose = (next: Concentrator, why: string, pinned = false): ElectionResult => {
    if (next.id === current.servingId) return keep(`${label(next)} stays: ${why}`, []);
    const kind: ElectionResult['kind'] = pinned
      ? 'pin'
      : current.servingId === undefined
        ? 'initial'
        : previous && rank(next) < rank(previous)
          ? 'failback'
          : 'failover';
    const from =
      current.servingId === undefined
        ? ''
        : ` from ${currentLabel} (${previous ? healthOf(previous) : 'not a candidate'})`;
    return {
      servingId: next.id,
      changed: true,
      epoch: current.epoch + 1,
      reason: `${kind}${from} to ${label(next)}: ${why}`,
      alarms: [],
      kind,
    };
  };

  // 1. An operator's pin.
  let pinNote = '';
  if (isPinActive(input.pin, input.now)) {
    const pinned = byId(input.pin.concentratorId);
    if (pinned) {
      const until =
        input.pin.expiresAt === undefined ? '' : ` until ${new Date(input.pin.expiresAt).toISOString()}`;
      const by = input.pin.by ? ` by ${input.pin.by}` : '';
      return choose(pinned, `pinned${by}${until} (${input.pin.reason}); ${healthOf(pinned)}`, true);
    }
    pinNote = ` (pin onto ${input.pin.concentratorId} ignored: not a candidate of the group)`;
  }

  // 2. The monitor's own view is suspect.
  if (input.monitorBlind) {
    return keep(`monitor blind: holding every change, serving stays ${currentLabel}${pinNote}`, [
      'MONITOR_BLIND',
    ]);
  }

  // 2b. Blindness per site: an unreachable director freezes decisions about its site.
  const frozen = input.frozen;
  const isFrozen = (c: Concentrator) => frozen?.sites.includes(c.site) === true;
  if (frozen?.acting) {
    return { ...keep(`${frozen.reason}: serving stays ${currentLabel}${pinNote}`, []), frozen: true };
  }
  if (previous && isFrozen(previous) && roleOf(previous) !== 'PASSIVE') {
    return {
      ...keep(`${frozen?.reason ?? ''}: serving stays ${currentLabel}, no decision about it${pinNote}`, []),
      frozen: true,
    };
  }

  // 3. Only UP candidates of non-PASSIVE, non-frozen sites may serve.
  const eligible = group.candidates.filter((c) => roleOf(c) !== 'PASSIVE' && !isFrozen(c));
  const up = eligible.filter((c) => healthOf(c) === 'UP').sort((a, b) => rank(a) - rank(b));
  const best = up[0];
  if (!best) {
    const seen = group.candidates
      .map(
        (c) =>
          `${label(c)} ${
            roleOf(c) === 'PASSIVE'
              ? `skipped (site ${c.site} PASSIVE)`
              : isFrozen(c)
                ? `frozen (${c.site} director unreachable, last ${healthOf(c)})`
                : healthOf(c)
          }`,
      )
      .join(', ');
    return keep(
      `no eligible candidate is UP (${seen || 'no candidates'}): serving stays ${currentLabel}${pinNote}`,
      ['ALL_DOWN'],
    );
  }

  // 4. No preemption: keep the current one while it is UP and eligible.
  if (!input.preempt && previous && up.includes(previous)) {
    return keep(`${label(previous)} is UP and preempt is off: keeping it${pinNote}`, []);
  }

  // 5. The first UP eligible candidate.
  return choose(best, `first UP candidate (${best.slot})${pinNote}`);
}

function rank(c: Concentrator): number {
  return CANDIDATE_ORDER.indexOf(c.slot);
}

function label(c: Concentrator | undefined, fallbackId = ''): string {
  if (!c) return fallbackId;
  return c.name && c.name !== c.id ? `${c.name} (${c.id})` : c.id;
}
