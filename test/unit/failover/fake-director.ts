/**
 * An in-memory zWAN-like director for the failover unit tests: CPEs with tunnels that really
 * move on re-point (ESTABLISHED with the target, CREATED elsewhere), HA roles, epoch fencing,
 * and scripted faults. Integration tests use the HTTP simulator instead.
 */
import type { Director, DirectorCpe, DirectorHealth, RepointResult } from '../../../shared/director/port.js';
import type { HaState, RepointAction, Sample, SiteName } from '../../../shared/domain/model.js';
import { DirectorUnavailableError, StaleEpochError } from '../../../shared/errors.js';

/** A concentrator spec for {@link topology}. */
export interface HubSpec {
  id: string;
  site: SiteName;
  haState: HaState;
  tunnelId?: string;
  onboardedAt?: string;
}

/** Build a tenant's CPE list: one group, hubs with tunnel `HA-T1`, branches on `on` (or none). */
export function topology(opts: {
  tenantId?: string;
  haName?: string;
  hubs: HubSpec[];
  branches: number;
  on?: string;
}): DirectorCpe[] {
  const tenantId = opts.tenantId ?? 't1';
  const haName = opts.haName ?? 'Chennai';
  const tid = (h: HubSpec) => h.tunnelId ?? `T-${h.id}`;
  const onHub = opts.hubs.find((h) => h.id === opts.on);
  const hubs: DirectorCpe[] = opts.hubs.map((h, i) => ({
    id: h.id,
    name: h.id,
    tenantId,
    metadata: {
      CPE_TYPE: h.site,
      CPE_MODE: 'HA',
      HA_STATE: h.haState,
      HA_NAME: haName,
      WAN00_PUB_IP: `203.0.113.${i + 1}`,
      WAN00_PUB_PORT: String(30000 + i),
    },
    lans: [],
    tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: 'HA-T1', tunnelId: tid(h), state: 'CREATED' }],
    haRole: h.id === opts.on ? 'ACTIVE' : 'PASSIVE',
    ...(h.onboardedAt ? { onboardedAt: h.onboardedAt } : {}),
  }));
  const branches: DirectorCpe[] = Array.from({ length: opts.branches }, (_, i) => ({
    id: `${haName}-br${i + 1}`,
    name: `${haName}-br${i + 1}`,
    tenantId,
    metadata: { CPE_BR_TYPE: 'HA', HA_NAME: haName },
    lans: [],
    tunnels: [
      {
        name: 'IPSEC00',
        haTunnelIdentifier: 'HA-T1',
        tunnelId: onHub ? tid(onHub) : 'T-none',
        state: onHub ? 'ESTABLISHED' : 'CREATED',
      },
    ],
  }));
  return [...hubs, ...branches];
}

/** The fake director. `cpes` is the live state; tests may edit it (reboot, replace, delete). */
export class FakeDirector implements Director {
  readonly kind = 'zwan' as const;
  readonly calls = {
    listCpes: 0,
    fence: [] as [string, number][],
    setHaState: [] as [string, HaState, number][],
    repoint: 0,
  };
  /** Highest epoch seen per tenant#cpe group (fencing like the simulator). */
  readonly epochs = new Map<string, number>();
  /** Branch ids whose next re-point fails (transient, after the client's retries). */
  readonly failRepoints = new Set<string>();
  /** `cpeId:STATE` of HA_STATE calls that fail (transient, after the client's retries), every time. */
  readonly failHaStates = new Set<string>();
  /** When set, every re-point after this many fails (a crash mid fan-out). */
  crashAfter?: number;
  /** When set, every re-point call waits for it before the director looks at it (a slow fan-out). */
  repointGate?: Promise<void>;
  /** Called when a re-point call arrives (before the gate). */
  onRepoint?: (action: RepointAction) => void;

  constructor(
    public cpes: DirectorCpe[],
    readonly site: SiteName = 'DC',
  ) {}

  async listCpes(tenantId: string): Promise<DirectorCpe[]> {
    this.calls.listCpes++;
    return structuredClone(this.cpes.filter((c) => c.tenantId === tenantId));
  }
  async sampleHealth(): Promise<Sample[]> {
    return [];
  }
  async health(): Promise<DirectorHealth> {
    return { site: this.site, reachable: true, healthy: true };
  }
  private fenceKey(key: string, epoch: number): void {
    const current = this.epochs.get(key) ?? 0;
    if (epoch < current) {
      throw new StaleEpochError(`epoch ${epoch} is stale for ${key}`, { currentEpoch: current });
    }
    this.epochs.set(key, epoch);
  }
  async fence(tenantId: string, haName: string, epoch: number): Promise<void> {
    this.calls.fence.push([haName, epoch]);
    this.fenceKey(`${tenantId}#${haName}`, epoch);
  }
  async setHaState(tenantId: string, cpeId: string, state: HaState, epoch: number): Promise<void> {
    const cpe = this.cpes.find((c) => c.id === cpeId && c.tenantId === tenantId);
    if (!cpe) throw new DirectorUnavailableError(`no CPE ${cpeId}`);
    this.fenceKey(`${tenantId}#${cpe.metadata.HA_NAME}`, epoch);
    this.calls.setHaState.push([cpeId, state, epoch]);
    if (this.failHaStates.has(`${cpeId}:${state}`)) throw new DirectorUnavailableError('503 after retries');
    cpe.haRole = state;
  }
  async repoint(action: RepointAction): Promise<RepointResult> {
    this.onRepoint?.(action);
    if (this.repointGate) await this.repointGate;
    this.calls.repoint++;
    if (this.crashAfter !== undefined && this.calls.repoint > this.crashAfter) {
      throw new DirectorUnavailableError('director went away');
    }
    if (this.failRepoints.delete(action.branchId)) throw new DirectorUnavailableError('503 after retries');
    this.fenceKey(action.groupKey, action.epoch);
    const branch = this.cpes.find((c) => c.id === action.branchId);
    if (!branch) throw new DirectorUnavailableError(`no branch ${action.branchId}`);
    let changed = false;
    for (const t of branch.tunnels) {
      const want = action.tunnels.find((x) => x.haTunnelIdentifier === t.haTunnelIdentifier);
      if (!want) continue;
      if (t.tunnelId !== want.tunnelId || t.state !== 'ESTABLISHED') changed = true;
      t.tunnelId = want.tunnelId;
      t.state = 'ESTABLISHED';
    }
    return { branchId: action.branchId, targetId: action.targetId, epoch: action.epoch, changed };
  }

  /** Where each branch's IPSEC00 is established (hub id by tunnel ID), for assertions. */
  branchTargets(): Map<string, string | undefined> {
    const hubByTunnel = new Map(
      this.cpes.filter((c) => c.metadata.CPE_MODE === 'HA').map((c) => [c.tunnels[0]?.tunnelId, c.id]),
    );
    return new Map(
      this.cpes
        .filter((c) => c.metadata.CPE_BR_TYPE === 'HA')
        .map((c) => {
          const t = c.tunnels[0];
          return [c.id, t?.state === 'ESTABLISHED' ? hubByTunnel.get(t.tunnelId) : undefined];
        }),
    );
  }
}
