/**
 * The simulated world behind both zWAN directors: tenants, CPEs, their liveness and WAN figures,
 * tunnels, runtime HA roles, and each site's director state, with its own per-group epoch fence. No HTTP here:
 * the server maps these operations to the contract. Lookups are O(1) (maps by id and by group).
 *
 * Tunnel states are derived, not stored: a branch's tunnel is ESTABLISHED when the branch and
 * the concentrator owning that tunnel ID (same group, same HA identifier) are both alive; a
 * concentrator's tunnel is ESTABLISHED when it is alive and at least one alive branch of its
 * group uses that tunnel ID.
 */
import type { HaState, SiteName, SiteRole, TunnelState } from '../../../shared/domain/model.js';
import { NotFoundError, ValidationError } from '../../../shared/errors.js';
import type {
  WireCpe,
  WireCpeHealth,
  WireGroupUpdateResult,
  WireHaStateResult,
  WireRepointResult,
  WireTunnel,
  WireTunnelAssignment,
} from '../../../shared/director/zwan/wire.js';
import { parseTopologyCpe, type Topology, type TopologyCpe, type TopologyCpeInput } from '../topology.js';

/** An error the server turns into an HTTP answer `{ error: { code, message, ...extra } }`. */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'SimHttpError';
  }
}

/** A CPE in the simulated world. */
export interface SimCpe {
  id: string;
  name: string;
  tenantId: string;
  site?: SiteName;
  metadata: Record<string, string>;
  wans: { name: string; publicIp?: string }[];
  lans: { name: string; cidr: string; virtualIp?: string }[];
  tunnels: { name: string; haTunnelIdentifier?: string; tunnelId: string }[];
  haRole?: HaState;
  onboardedBy: 'provisioning' | 'ssh';
  onboardedAt?: string;
  /** Powered and connected (a site outage also takes it down, see `alive`). */
  up: boolean;
  lossPct: number;
  latencyMs: number;
  /** Per-WAN overrides of loss and latency. */
  wanFigures: Map<string, { lossPct: number; latencyMs: number }>;
  /** Epoch ms when it was last alive (set when it goes down). */
  lastSeenAt?: number;
}

/** How a site's director answers. */
export type DirectorMode = 'ok' | 'error5xx' | 'hang' | 'slow' | 'down';

/** A site's director and power. */
export interface SimSite {
  role: SiteRole;
  managementUrl: string;
  version: string;
  mode: DirectorMode;
  /** Extra delay of every answer in `slow` mode. */
  delayMs: number;
  /** Site power: false takes the site's CPEs down too (siteDown). */
  powered: boolean;
}

const isConcentratorType = (t: string | undefined): t is SiteName => t === 'DC' || t === 'DR';

/** Build the group key the way the domain does (`tenant#HA_NAME`). */
function groupOf(c: { tenantId: string; metadata: Record<string, string> }): string | undefined {
  const haName = c.metadata.HA_NAME?.trim();
  return haName ? `${c.tenantId}#${haName}` : undefined;
}

/** The simulated world. Create with {@link createWorld}. */
export class SimWorld {
  readonly tenants = new Map<string, { id: string; name: string; cpeIds: string[] }>();
  readonly cpes = new Map<string, SimCpe>();
  readonly sites: Record<SiteName, SimSite>;
  /**
   * Highest epoch each site's director has applied or been fenced with, per group key. Each
   * director keeps its own (the contract): the DC director knowing epoch 7 says nothing to DR's.
   */
  readonly epochs: Record<SiteName, Map<string, number>> = { DC: new Map(), DR: new Map() };
  /** Group key → ids of its concentrators and of its branches. */
  private readonly groups = new Map<string, { concentrators: Set<string>; branches: Set<string> }>();
  /** Re-point calls still to fail with 503 (failNextRepoints). */
  failRepoints = 0;
  /** Job starts still to create their job and then never answer (hangNextJobStarts). */
  hangJobStarts = 0;
  /**
   * Client tokens of job starts, per site (`<site>/<token>`): the request each started (kind and
   * location, as a canonical string) and its job. A director keeps them as long as its jobs.
   */
  readonly jobTokens = new Map<string, { request: string; jobId: string }>();

  constructor(
    topology: Topology,
    readonly now: () => number = Date.now,
  ) {
    const site = (s: SiteName, defaultRole: SiteRole): SimSite => ({
      role: topology.sites[s]?.role ?? defaultRole,
      managementUrl:
        topology.sites[s]?.managementUrl ?? `https://director-${s.toLowerCase()}.example.net:7081`,
      version: topology.sites[s]?.version ?? 'zwan-sim 1.0',
      mode: 'ok',
      delayMs: 0,
      powered: true,
    });
    this.sites = { DC: site('DC', 'ACTIVE'), DR: site('DR', 'PASSIVE') };
    for (const t of topology.tenants) this.tenants.set(t.id, { id: t.id, name: t.name, cpeIds: [] });
    for (const c of topology.cpes) this.addCpe(c);
  }

  // ------------------------------------------------------------------ membership

  /** Add (onboard) a CPE. */
  addCpe(input: TopologyCpe | TopologyCpeInput): SimCpe {
    const c = parseTopologyCpe(input);
    const tenant = this.tenants.get(c.tenantId);
    if (!tenant)
      throw new NotFoundError(`tenant ${JSON.stringify(c.tenantId)} of CPE ${c.id} does not exist`);
    if (this.cpes.has(c.id)) {
      throw new ValidationError('cpe', [
        { path: 'id', value: c.id, expected: 'an id not used by another CPE' },
      ]);
    }
    const type = c.metadata.CPE_TYPE?.trim();
    const concentrator = isConcentratorType(type);
    const wans =
      c.wans ??
      (() => {
        const fromMeta = Object.entries(c.metadata)
          .map(([k, v]) => [/^(WAN\d{2})_PUB_IP$/.exec(k)?.[1], v] as const)
          .filter((e): e is readonly [string, string] => e[0] !== undefined)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([wan, publicIp]) => ({ name: wan, publicIp }));
        return fromMeta.length > 0 ? fromMeta : [{ name: 'WAN00' }];
      })();
    const haState = c.metadata.HA_STATE?.trim();
    const cpe: SimCpe = {
      id: c.id,
      name: c.name,
      tenantId: c.tenantId,
      metadata: { ...c.metadata },
      wans,
      lans: c.lans.map((l) => ({ ...l })),
      tunnels: c.tunnels.map((t) => ({ ...t })),
      onboardedBy: c.onboardedBy,
      up: c.up,
      lossPct: c.lossPct,
      latencyMs: c.latencyMs,
      wanFigures: new Map(),
    };
    const site = c.site ?? (concentrator ? type : undefined);
    if (site) cpe.site = site;
    const role =
      c.haRole ?? (concentrator && (haState === 'ACTIVE' || haState === 'PASSIVE') ? haState : undefined);
    if (role) cpe.haRole = role;
    if (c.onboardedAt) cpe.onboardedAt = c.onboardedAt;
    this.cpes.set(cpe.id, cpe);
    tenant.cpeIds.push(cpe.id);
    const key = groupOf(cpe);
    if (key) {
      let g = this.groups.get(key);
      if (!g) this.groups.set(key, (g = { concentrators: new Set(), branches: new Set() }));
      (concentrator ? g.concentrators : g.branches).add(cpe.id);
    }
    return cpe;
  }

  /** Delete a CPE from the director's list. */
  deleteCpe(id: string): void {
    const cpe = this.mustGet(id);
    this.cpes.delete(id);
    const tenant = this.tenants.get(cpe.tenantId);
    if (tenant) tenant.cpeIds.splice(tenant.cpeIds.indexOf(id), 1);
    const key = groupOf(cpe);
    const g = key ? this.groups.get(key) : undefined;
    g?.concentrators.delete(id);
    g?.branches.delete(id);
  }

  /** A CPE by id, or NotFoundError. */
  mustGet(id: string): SimCpe {
    const cpe = this.cpes.get(id);
    if (!cpe) throw new NotFoundError(`CPE ${JSON.stringify(id)} does not exist in the simulator`);
    return cpe;
  }

  isConcentrator(c: SimCpe): boolean {
    return isConcentratorType(c.metadata.CPE_TYPE?.trim());
  }

  /** Alive = up and its site powered. */
  alive(c: SimCpe): boolean {
    return c.up && !(c.site && !this.sites[c.site].powered);
  }

  /** Mark a CPE up or down (remembering when it was last seen). */
  setUp(id: string, up: boolean): void {
    const cpe = this.mustGet(id);
    if (cpe.up && !up && this.alive(cpe)) cpe.lastSeenAt = this.now();
    cpe.up = up;
  }

  /** Power a site on or off (its CPEs go with it). */
  setSitePower(site: SiteName, powered: boolean): void {
    if (!powered && this.sites[site].powered) {
      for (const c of this.cpes.values()) if (c.site === site && this.alive(c)) c.lastSeenAt = this.now();
    }
    this.sites[site].powered = powered;
  }

  private group(c: SimCpe) {
    const key = groupOf(c);
    return key ? this.groups.get(key) : undefined;
  }

  /** The concentrator of `branch`'s group that owns tunnel ID `tunnelId` for `ident`. */
  private ownerOf(branch: SimCpe, ident: string | undefined, tunnelId: string): SimCpe | undefined {
    for (const id of this.group(branch)?.concentrators ?? []) {
      const c = this.cpes.get(id);
      if (c?.tunnels.some((t) => t.haTunnelIdentifier === ident && t.tunnelId === tunnelId)) return c;
    }
    return undefined;
  }

  /** The current state of one of `cpe`'s tunnels (see the module comment). */
  tunnelState(cpe: SimCpe, t: SimCpe['tunnels'][number]): TunnelState {
    if (!this.alive(cpe)) return 'CREATED';
    if (!this.isConcentrator(cpe)) {
      const owner = this.ownerOf(cpe, t.haTunnelIdentifier, t.tunnelId);
      return owner && this.alive(owner) ? 'ESTABLISHED' : 'CREATED';
    }
    for (const id of this.group(cpe)?.branches ?? []) {
      const b = this.cpes.get(id);
      if (
        b &&
        this.alive(b) &&
        b.tunnels.some((bt) => bt.haTunnelIdentifier === t.haTunnelIdentifier && bt.tunnelId === t.tunnelId)
      ) {
        return 'ESTABLISHED';
      }
    }
    return 'CREATED';
  }

  /** Which concentrator a branch's tunnels point at now (first tunnel), if any. */
  currentTarget(branchId: string): string | undefined {
    const b = this.mustGet(branchId);
    const t = b.tunnels[0];
    return t ? this.ownerOf(b, t.haTunnelIdentifier, t.tunnelId)?.id : undefined;
  }

  // ------------------------------------------------------------------ contract views

  private wireTunnels(c: SimCpe): WireTunnel[] {
    return c.tunnels.map((t) => ({ ...t, state: this.tunnelState(c, t) }));
  }

  /** A CPE as the contract shows it. */
  toWire(c: SimCpe): WireCpe {
    const concentrator = this.isConcentrator(c);
    // The LAN virtual IP is shown on the concentrator that holds it (runtime ACTIVE).
    const holdsVip = concentrator && c.haRole === 'ACTIVE';
    const wire: WireCpe = {
      id: c.id,
      name: c.name,
      tenantId: c.tenantId,
      metadata: { ...c.metadata },
      lans: c.lans.map((l) =>
        l.virtualIp && holdsVip
          ? { name: l.name, cidr: l.cidr, virtualIp: l.virtualIp }
          : { name: l.name, cidr: l.cidr },
      ),
      tunnels: this.wireTunnels(c),
      onboardedBy: c.onboardedBy,
    };
    if (concentrator && c.haRole) wire.haRole = c.haRole;
    if (c.onboardedAt) wire.onboardedAt = c.onboardedAt;
    return wire;
  }

  /** The tenant or 404. */
  tenant(tenantId: string) {
    const t = this.tenants.get(tenantId);
    if (!t) throw new SimHttpError(404, 'NOT_FOUND', `tenant ${tenantId} does not exist`);
    return t;
  }

  /** A tenant's CPE or 404. */
  tenantCpe(tenantId: string, cpeId: string): SimCpe {
    this.tenant(tenantId);
    const c = this.cpes.get(cpeId);
    if (!c || c.tenantId !== tenantId) {
      throw new SimHttpError(404, 'NOT_FOUND', `CPE ${cpeId} does not exist in tenant ${tenantId}`);
    }
    return c;
  }

  /** A page of a tenant's CPEs (offset cursor), or of one HA group's (HA_NAME, trimmed). */
  listCpes(
    tenantId: string,
    offset: number,
    limit: number,
    haName?: string,
  ): { items: WireCpe[]; next?: number } {
    const all = this.tenant(tenantId).cpeIds;
    const want = haName?.trim();
    const ids =
      want === undefined ? all : all.filter((id) => this.cpes.get(id)?.metadata.HA_NAME?.trim() === want);
    const items = ids.slice(offset, offset + limit).map((id) => this.toWire(this.mustGet(id)));
    return offset + limit < ids.length ? { items, next: offset + limit } : { items };
  }

  /** Liveness and WAN figures; unknown ids are returned apart. */
  health(tenantId: string, ids: readonly string[]): { results: WireCpeHealth[]; unknownIds: string[] } {
    this.tenant(tenantId);
    const results: WireCpeHealth[] = [];
    const unknownIds: string[] = [];
    const nowIso = new Date(this.now()).toISOString();
    for (const id of ids) {
      const c = this.cpes.get(id);
      if (!c || c.tenantId !== tenantId) {
        unknownIds.push(id);
        continue;
      }
      const alive = this.alive(c);
      const wans = c.wans.map((w) => {
        const f = c.wanFigures.get(w.name) ?? c;
        const base = { name: w.name, ...(w.publicIp ? { publicIp: w.publicIp } : {}) };
        if (!alive || f.lossPct >= 100) return { ...base, lossPct: 100 };
        return { ...base, lossPct: f.lossPct, latencyMs: f.latencyMs };
      });
      const r: WireCpeHealth = { cpeId: id, alive, wans };
      if (alive) r.lastSeenAt = nowIso;
      else if (c.lastSeenAt !== undefined) r.lastSeenAt = new Date(c.lastSeenAt).toISOString();
      results.push(r);
    }
    return { results, unknownIds };
  }

  /** Check the epoch against `site`'s highest for the group; raise it when newer. 409 when older. */
  private fence(site: SiteName, groupKey: string, haName: string, epoch: number): void {
    const epochs = this.epochs[site];
    const current = epochs.get(groupKey) ?? 0;
    if (epoch < current) {
      throw new SimHttpError(
        409,
        'STALE_EPOCH',
        `epoch ${epoch} is older than ${current}, already applied to HA group ${haName}`,
        { haName, currentEpoch: current, requestedEpoch: epoch },
      );
    }
    epochs.set(groupKey, epoch);
  }

  /** Raise a group's epoch on `site`'s director (fenceHaGroup); 404 for a group it does not know. */
  fenceGroup(
    site: SiteName,
    tenantId: string,
    haName: string,
    epoch: number,
  ): { haName: string; epoch: number } {
    this.tenant(tenantId);
    const key = `${tenantId}#${haName}`;
    const g = this.groups.get(key);
    if (!g || g.concentrators.size + g.branches.size === 0) {
      throw new SimHttpError(404, 'NOT_FOUND', `HA group ${haName} does not exist in tenant ${tenantId}`);
    }
    this.fence(site, key, haName, epoch);
    return { haName, epoch };
  }

  private groupKeyOf(c: SimCpe): { key: string; haName: string } {
    const key = groupOf(c);
    if (!key) throw new SimHttpError(400, 'NO_HA_GROUP', `CPE ${c.id} has no HA_NAME metadata`);
    return { key, haName: c.metadata.HA_NAME?.trim() ?? '' };
  }

  /** Set a concentrator's runtime HA state; ACTIVE demotes its group's others at the same site. */
  setHaState(
    site: SiteName,
    tenantId: string,
    cpeId: string,
    state: HaState,
    epoch: number,
  ): WireHaStateResult {
    const c = this.tenantCpe(tenantId, cpeId);
    if (!this.isConcentrator(c)) {
      throw new SimHttpError(
        400,
        'NOT_A_CONCENTRATOR',
        `CPE ${cpeId} is not a concentrator (CPE_TYPE DC or DR)`,
      );
    }
    const { key, haName } = this.groupKeyOf(c);
    this.fence(site, key, haName, epoch);
    let changed = c.haRole !== state;
    c.haRole = state;
    if (state === 'ACTIVE') {
      for (const id of this.groups.get(key)?.concentrators ?? []) {
        const peer = this.cpes.get(id);
        if (peer && peer !== c && peer.site === c.site && peer.haRole === 'ACTIVE') {
          peer.haRole = 'PASSIVE';
          changed = true;
        }
      }
    }
    return { cpeId, haName, state, epoch, changed };
  }

  /** Validate and apply a re-point of one branch. Bad input changes nothing. */
  repoint(
    site: SiteName,
    tenantId: string,
    branchId: string,
    targetId: string,
    epoch: number,
    tunnels: WireTunnelAssignment[],
  ) {
    const branch = this.tenantCpe(tenantId, branchId);
    if (this.isConcentrator(branch)) {
      throw new SimHttpError(400, 'NOT_A_BRANCH', `CPE ${branchId} is a concentrator, not a branch`);
    }
    const target = this.tenantCpe(tenantId, targetId);
    const { key, haName } = this.groupKeyOf(branch);
    if (!this.isConcentrator(target) || groupOf(target) !== key) {
      throw new SimHttpError(
        400,
        'WRONG_TARGET',
        `target ${targetId} is not a concentrator of HA group ${haName} (branch ${branchId})`,
      );
    }
    for (const a of tunnels) {
      if (!branch.tunnels.some((t) => t.haTunnelIdentifier === a.haTunnelIdentifier)) {
        throw new SimHttpError(
          400,
          'UNKNOWN_IDENTIFIER',
          `branch ${branchId} has no tunnel with HA tunnel identifier ${a.haTunnelIdentifier}`,
        );
      }
      const own = target.tunnels.find((t) => t.haTunnelIdentifier === a.haTunnelIdentifier);
      if (!own || own.tunnelId !== a.tunnelId) {
        throw new SimHttpError(
          400,
          'TUNNEL_MISMATCH',
          `tunnel ID ${a.tunnelId} for identifier ${a.haTunnelIdentifier} is not target ${targetId}'s (${own?.tunnelId ?? 'none'})`,
        );
      }
    }
    this.fence(site, key, haName, epoch);
    let changed = false;
    for (const a of tunnels) {
      for (const t of branch.tunnels) {
        if (t.haTunnelIdentifier === a.haTunnelIdentifier && t.tunnelId !== a.tunnelId) {
          t.tunnelId = a.tunnelId;
          changed = true;
        }
      }
    }
    const result: WireRepointResult = {
      branchId,
      targetCpeId: targetId,
      epoch,
      changed,
      tunnels: this.wireTunnels(branch),
    };
    return result;
  }

  /** The "Update Branch to Active Node" button for one group. */
  updateGroup(
    site: SiteName,
    tenantId: string,
    haName: string,
    targetId?: string,
    epoch?: number,
  ): WireGroupUpdateResult {
    this.tenant(tenantId);
    const key = `${tenantId}#${haName}`;
    const g = this.groups.get(key);
    if (!g || g.concentrators.size + g.branches.size === 0) {
      throw new SimHttpError(404, 'NOT_FOUND', `HA group ${haName} does not exist in tenant ${tenantId}`);
    }
    let target: SimCpe | undefined;
    if (targetId) {
      target = this.tenantCpe(tenantId, targetId);
      if (!g.concentrators.has(target.id)) {
        throw new SimHttpError(
          400,
          'WRONG_TARGET',
          `target ${targetId} is not a concentrator of HA group ${haName}`,
        );
      }
    } else {
      // The director's own choice: the runtime-ACTIVE concentrator of an ACTIVE site, alive first, DC before DR.
      const candidates = [...g.concentrators]
        .map((id) => this.mustGet(id))
        .filter((c) => c.haRole === 'ACTIVE' && c.site && this.sites[c.site].role === 'ACTIVE')
        .sort(
          (a, b) =>
            Number(this.alive(b)) - Number(this.alive(a)) || (a.site ?? '').localeCompare(b.site ?? ''),
        );
      target = candidates[0];
      if (!target) {
        throw new SimHttpError(
          400,
          'NO_ACTIVE_NODE',
          `HA group ${haName} has no ACTIVE concentrator at an ACTIVE site`,
        );
      }
    }
    if (epoch !== undefined) this.fence(site, key, haName, epoch);
    const branches = [...g.branches].map((id) => {
      const b = this.mustGet(id);
      let changed = false;
      const missing: string[] = [];
      for (const t of b.tunnels) {
        const own = target.tunnels.find((x) => x.haTunnelIdentifier === t.haTunnelIdentifier);
        if (!own) missing.push(t.haTunnelIdentifier ?? t.name);
        else if (own.tunnelId !== t.tunnelId) {
          t.tunnelId = own.tunnelId;
          changed = true;
        }
      }
      return missing.length > 0
        ? { branchId: id, changed, error: `target has no tunnel for identifier(s) ${missing.join(', ')}` }
        : { branchId: id, changed };
    });
    return { haName, targetCpeId: target.id, ...(epoch !== undefined ? { epoch } : {}), branches };
  }

  /** Point a branch's tunnels at a concentrator directly (a reboot with stale config, a manual change). */
  driftBranch(branchId: string, concentratorId: string): void {
    const b = this.mustGet(branchId);
    const c = this.mustGet(concentratorId);
    for (const t of b.tunnels) {
      const own = c.tunnels.find((x) => x.haTunnelIdentifier === t.haTunnelIdentifier);
      if (own) t.tunnelId = own.tunnelId;
    }
  }
}

/** Create the world of a topology. */
export function createWorld(topology: Topology, now?: () => number): SimWorld {
  return new SimWorld(topology, now);
}
