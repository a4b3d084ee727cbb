/**
 * The Concentrator page's view model: per tenant and HA group what an operator wants at a glance
 * (serving and epoch, each candidate's health, HA role, WAN endpoints and tunnels, where every
 * branch's tunnels are, pin, alarms, the monitor's verdict and the group's recent audit trail).
 * Gathered here from the state repositories, the director's listing and one bulk health sample;
 * rendered by ./render.ts (a pure function of this model). Plain data, times as ISO strings.
 */
import { branchCurrentTarget } from '../domain/inventory.js';
import type { BlindnessCase } from '../domain/blindness.js';
import type { HaGroup, Sample, SiteName, SiteRole, TunnelState } from '../domain/model.js';
import { pinView, type GroupDecisionView, type PinView } from '../failover/console.js';
import { blindnessFrom, loadTenantView, type TenantView } from '../failover/service.js';
import type { FailoverDeps } from '../failover/ports.js';
import type { AuditItem, BranchOutcome, HealthItem } from '../store/items.js';

/** One candidate concentrator of a group. */
export interface CandidateView {
  id: string;
  name: string;
  slot: string;
  site: SiteName;
  health: string;
  /** ISO time of the last health transition. */
  since?: string;
  /** Why the last transition happened (the health check's words). */
  healthWhy?: string;
  /** The last sample (absent: the director gave none). */
  sample?: { reachable: boolean; lossPct: number | null; latencyMs: number | null; at: string };
  /** The runtime HA role on the director (absent: not reported). */
  haRole?: string;
  wans: { wan: string; publicIp: string; publicPort?: number }[];
  tunnels: { name: string; haTunnelIdentifier: string; tunnelId: string; state: TunnelState }[];
  serving: boolean;
}

/** One branch of a group and where its tunnels are. */
export interface BranchView {
  id: string;
  name: string;
  /** The concentrator its established tunnels point at (absent: none, or split). */
  on?: string;
  /** Not on the serving concentrator. */
  drift: boolean;
  tunnels: { name: string; state: TunnelState; concentrator?: string }[];
  /** The last re-point outcome, in words. */
  lastOutcome?: string;
}

/** One line of a group's timeline (from the audit trail). */
export interface TimelineEntry {
  at: string;
  kind: string;
  from?: string;
  to?: string;
  reason?: string;
  by?: string;
}

/** One HA group. */
export interface GroupView extends GroupDecisionView {
  pin?: PinView;
  alarms: string[];
  candidates: CandidateView[];
  branches: BranchView[];
  timeline: TimelineEntry[];
}

/** The monitor's verdict (shared/domain/blindness.ts). */
export interface MonitorView {
  blind: boolean;
  case: BlindnessCase;
  explanation: string;
  frozenSites: SiteName[];
  siteRoles: Record<SiteName, SiteRole>;
  directors: { site: SiteName; reachable: boolean; monitorBlind: boolean; reason?: string; since?: string }[];
}

/** The whole page. */
export interface PageView {
  generatedAt: string;
  monitor: MonitorView;
  groups: GroupView[];
  /** Tenants whose listing could not be read (the director did not answer), and why. */
  unavailable: { tenantId: string; error: string }[];
}

/** What the page reads beyond the failover deps: health items with their last transition, audit events. */
export interface PageRepository {
  listHealthItems(groupKey: string): Promise<HealthItem[]>;
  listAuditEvents(day: string, limit?: number): Promise<AuditItem[]>;
}

/** Everything the page needs. */
export interface PageDeps {
  failover: FailoverDeps;
  repo: PageRepository;
}

/** Options of {@link loadPageView}. */
export interface PageViewOptions {
  /** Only this tenant. @default every configured tenant */
  tenantId?: string;
  /** Timeline entries per group. @default 8 */
  timelineLength?: number;
}

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : undefined);
const DAY_MS = 86_400_000;

function describeOutcome(o: BranchOutcome): string {
  const what = o.result === 'ok' ? (o.changed ? 're-pointed' : 'already right') : o.result;
  return `${what} → ${o.targetId} (epoch ${o.epoch}, ${new Date(o.at).toISOString()})${o.error ? `: ${o.error}` : ''}`;
}

/** The newest sample per target from each site's director; a director that fails gives none. */
async function lastSamples(deps: FailoverDeps, group: HaGroup): Promise<Map<string, Sample>> {
  const out = new Map<string, Sample>();
  for (const site of ['DC', 'DR'] as const) {
    const director = deps.directors[site];
    const ids = group.candidates.filter((c) => c.site === site).map((c) => c.id);
    if (!director || ids.length === 0) continue;
    try {
      for (const s of await director.sampleHealth(group.tenantId, ids)) {
        const seen = out.get(s.target);
        if (!seen || seen.at <= s.at) out.set(s.target, s);
      }
    } catch (error) {
      deps.log.warn('page: health sample failed', { site, error: (error as Error).message });
    }
  }
  return out;
}

function timelineOf(events: readonly AuditItem[], groupKey: string, length: number): TimelineEntry[] {
  return events
    .filter((e) => e.groupKey === groupKey || e.groupKey === '*')
    .sort((a, b) => b.at - a.at)
    .slice(0, length)
    .map((e) => {
      const d = e.detail;
      const text = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : undefined);
      const from = text('from');
      const to = text('to');
      const by = text('by');
      return {
        at: new Date(e.at).toISOString(),
        kind: e.kind,
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
        ...(e.reason ? { reason: e.reason } : {}),
        ...(by ? { by } : {}),
      };
    });
}

async function groupView(
  deps: PageDeps,
  view: TenantView,
  group: HaGroup,
  audit: readonly AuditItem[],
  now: number,
  timelineLength: number,
): Promise<GroupView> {
  const store = deps.failover.store;
  const [stored, health, outcomes, samples] = await Promise.all([
    store.getGroup(group.key),
    deps.repo.listHealthItems(group.key),
    store.listBranchOutcomes(group.key),
    lastSamples(deps.failover, group),
  ]);
  const healthOf = new Map(health.map((h) => [h.targetId, h]));
  const outcomeOf = new Map(outcomes.map((o) => [o.branchId, o]));
  const serving = stored?.servingId;
  const ownerOf = (haTunnelIdentifier: string, tunnelId: string) =>
    group.candidates.find((c) =>
      c.tunnels.some((t) => t.haTunnelIdentifier === haTunnelIdentifier && t.tunnelId === tunnelId),
    )?.id;
  const pin = stored?.pin;
  return {
    groupKey: group.key,
    tenantId: group.tenantId,
    haName: group.haName,
    ...(serving ? { servingId: serving } : {}),
    epoch: stored?.epoch ?? 0,
    ...(stored?.reason ? { reason: stored.reason } : {}),
    ...(stored?.changedAt ? { changedAt: iso(stored.changedAt) } : {}),
    ...(pin ? { pin: pinView(pin, now) } : {}),
    alarms: [...(stored?.alarms ?? [])],
    candidates: group.candidates.map((c) => {
      const h = healthOf.get(c.id);
      const s = samples.get(c.id);
      const role = view.haRoles.get(c.id);
      return {
        id: c.id,
        name: c.name,
        slot: c.slot,
        site: c.site,
        health: h?.health ?? 'UNKNOWN',
        ...(h?.since ? { since: iso(h.since) } : {}),
        ...(h?.lastTransition ? { healthWhy: h.lastTransition.reason } : {}),
        ...(s
          ? {
              sample: {
                reachable: s.reachable,
                lossPct: s.lossPct,
                latencyMs: s.latencyMs,
                at: new Date(s.at).toISOString(),
              },
            }
          : {}),
        ...(role ? { haRole: role } : {}),
        wans: c.wans.map((w) => ({ ...w })),
        tunnels: c.tunnels.map((t) => ({ ...t })),
        serving: c.id === serving,
      };
    }),
    branches: group.branches.map((b) => {
      const on = branchCurrentTarget(b, group);
      const o = outcomeOf.get(b.id);
      return {
        id: b.id,
        name: b.name,
        ...(on ? { on } : {}),
        drift: serving !== undefined && on !== serving,
        tunnels: b.tunnels.map((t) => {
          const owner = ownerOf(t.haTunnelIdentifier, t.tunnelId);
          return { name: t.name, state: t.state, ...(owner ? { concentrator: owner } : {}) };
        }),
        ...(o ? { lastOutcome: describeOutcome(o) } : {}),
      };
    }),
    timeline: timelineOf(audit, group.key, timelineLength),
  };
}

/**
 * Read the page's data: for each tenant its listing from the acting director, then per group the
 * stored decision, health, branch outcomes, a bulk health sample and the audit events of today and
 * yesterday (UTC). A tenant whose director does not answer is listed in `unavailable`.
 */
export async function loadPageView(deps: PageDeps, options: PageViewOptions = {}): Promise<PageView> {
  const f = deps.failover;
  const now = (f.now ?? Date.now)();
  const tenants = options.tenantId ? [options.tenantId] : [...f.tenants];
  const [directors, roles, today, yesterday] = await Promise.all([
    f.store.listDirectorStates(),
    f.store.getSiteRoles(),
    deps.repo.listAuditEvents(new Date(now).toISOString().slice(0, 10), 200),
    deps.repo.listAuditEvents(new Date(now - DAY_MS).toISOString().slice(0, 10), 200),
  ]);
  const audit = [...today, ...yesterday];
  const groups: GroupView[] = [];
  const unavailable: PageView['unavailable'] = [];
  for (const tenantId of tenants) {
    let view: TenantView;
    try {
      view = await loadTenantView(f, tenantId, roles);
    } catch (error) {
      unavailable.push({ tenantId, error: `${(error as Error).name}: ${(error as Error).message}` });
      continue;
    }
    for (const group of view.inventory.tenants.flatMap((t) => t.groups)) {
      groups.push(await groupView(deps, view, group, audit, now, options.timelineLength ?? 8));
    }
  }
  const blindness = blindnessFrom(f, directors, roles);
  return {
    generatedAt: new Date(now).toISOString(),
    monitor: {
      blind: blindness.monitorBlind,
      case: blindness.case,
      explanation: blindness.explanation,
      frozenSites: [...blindness.frozenSites],
      siteRoles: roles,
      directors: directors.map((d) => ({
        site: d.site,
        reachable: d.reachable,
        monitorBlind: d.monitorBlind === true,
        ...(d.reason ? { reason: d.reason } : {}),
        ...(!d.reachable && d.at !== undefined ? { since: new Date(d.at).toISOString() } : {}),
      })),
    },
    groups,
    unavailable,
  };
}
