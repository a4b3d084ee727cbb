/**
 * Blindness per site (README "What the controller does when it cannot see"). Pure.
 *
 * An unreachable director freezes decisions about its own site's candidates only:
 *
 * | case | what election does |
 * | --- | --- |
 * | the ACTIVE site's director unreachable | nothing can be re-pointed: every change waits; its candidates keep their last health; DIRECTOR_LOST after `dr.directorLostAfterSec` |
 * | a PASSIVE site's director unreachable (DC after a switchover) | its candidates are skipped anyway: election goes on |
 * | the standby DR director unreachable while DC is ACTIVE | DC failovers go on; DR candidates keep their last health and are neither left nor chosen |
 * | every director unreachable | hold everything, MONITOR_BLIND |
 *
 * The share rule (a mass DOWN in one run latches MONITOR_BLIND, see monitor.ts) is unchanged.
 */
import { electionSiteRoles } from './election.js';
import { SITE_NAMES, type SiteName, type SiteRole } from './model.js';

/** A director's recorded reachability (the health check's status item), as blindness reads it. */
export interface DirectorReach {
  site: SiteName;
  reachable: boolean;
  /** Since when it has been (un)reachable (epoch ms); `at` where the store calls it so. */
  since?: number;
  at?: number;
  /** The share rule's verdict the health check recorded (a mass DOWN). */
  monitorBlind?: boolean;
  monitorBlindReason?: string;
}

/** Which of the blindness cases holds. */
export type BlindnessCase =
  | 'clear'
  | 'mass-down'
  | 'all-directors-unreachable'
  | 'active-director-unreachable'
  | 'standby-director-unreachable'
  | 'passive-director-unreachable';

/** The verdict for election and the status output. */
export interface Blindness {
  case: BlindnessCase;
  /** Hold every change (MONITOR_BLIND): a mass DOWN, or no director answers at all. */
  monitorBlind: boolean;
  /** Sites election considers whose director is unreachable: their candidates are frozen. */
  frozenSites: SiteName[];
  /** The site whose director re-points (the ACTIVE one). */
  actingSite: SiteName;
  /** The acting director is unreachable: nothing can be re-pointed, every change waits. */
  actingFrozen: boolean;
  /** One sentence for operators: which case holds and what election does about it. */
  explanation: string;
}

/**
 * The site whose director acts (re-points, sets HA roles): DR once DR is ACTIVE and DC is not
 * (after a switchover), else DC.
 */
export function actingSiteOf(roles: Record<SiteName, SiteRole>, hasDr = true): SiteName {
  return roles.DC !== 'ACTIVE' && roles.DR === 'ACTIVE' && hasDr ? 'DR' : 'DC';
}

/**
 * Assess blindness from the recorded director statuses, the site roles and the sites that have
 * a director at all (Meraki: only DC, the Dashboard). A site without a status item has not been
 * found unreachable.
 */
export function assessBlindness(
  states: readonly DirectorReach[],
  roles: Record<SiteName, SiteRole>,
  sitesWithDirector: readonly SiteName[] = SITE_NAMES,
): Blindness {
  const actingSite = actingSiteOf(roles, sitesWithDirector.includes('DR'));
  const unreachable = sitesWithDirector.filter((site) => states.some((s) => s.site === site && !s.reachable));
  const since = (site: SiteName) => {
    const state = states.find((s) => s.site === site);
    const at = state?.since ?? state?.at;
    return at === undefined ? '' : ` since ${new Date(at).toISOString()}`;
  };
  const latched = states.find((s) => s.monitorBlind === true);
  const base = { actingSite, frozenSites: [] as SiteName[], actingFrozen: false };
  if (latched) {
    return {
      ...base,
      case: 'mass-down',
      monitorBlind: true,
      explanation: `MONITOR_BLIND: ${latched.monitorBlindReason ?? 'a mass DOWN in one health run'}; every change is held`,
    };
  }
  if (sitesWithDirector.length > 0 && unreachable.length === sitesWithDirector.length) {
    return {
      ...base,
      case: 'all-directors-unreachable',
      monitorBlind: true,
      frozenSites: [...unreachable],
      actingFrozen: true,
      explanation: `MONITOR_BLIND: no director answers (${unreachable.map((s) => `${s}${since(s)}`).join(', ')}); every change is held until one does`,
    };
  }
  const considered = electionSiteRoles(roles);
  const frozenSites = unreachable.filter((site) => considered[site] !== 'PASSIVE');
  if (unreachable.includes(actingSite)) {
    return {
      ...base,
      case: 'active-director-unreachable',
      monitorBlind: false,
      frozenSites,
      actingFrozen: true,
      explanation:
        `the ACTIVE site's director (${actingSite}) is unreachable${since(actingSite)}: its candidates keep their last health ` +
        `and nothing can be re-pointed, so every change waits for it (DIRECTOR_LOST, then a switchover, if it stays lost)`,
    };
  }
  const other = unreachable[0];
  if (other === undefined) {
    return { ...base, case: 'clear', monitorBlind: false, explanation: 'every director answers' };
  }
  if (frozenSites.length === 0) {
    return {
      ...base,
      case: 'passive-director-unreachable',
      monitorBlind: false,
      explanation: `the ${other} director is unreachable${since(other)}, but site ${other} is PASSIVE: its candidates are skipped anyway and election goes on`,
    };
  }
  return {
    ...base,
    case: 'standby-director-unreachable',
    monitorBlind: false,
    frozenSites,
    explanation:
      `the standby ${other} director is unreachable${since(other)}: failovers between ${actingSite} candidates go on; ` +
      `${other} candidates keep their last health and are neither left nor chosen until it answers`,
  };
}
