/**
 * The zWAN director adapter: one instance per site's director, speaking the contract in
 * `openapi.yaml` through the shared HTTP client (timeouts, jittered retries, concurrency).
 */
import { randomUUID } from 'node:crypto';
import type { HaState, RepointAction, Sample, SiteName, SiteRole } from '../../domain/model.js';
import {
  DirectorAuthError,
  DirectorPassiveError,
  DirectorRequestError,
  DirectorResponseError,
  DirectorUnavailableError,
  StaleEpochError,
  ValidationError,
} from '../../errors.js';
import { defaultLogSink } from '../../observability.js';
import {
  type Clock,
  createHttpClient,
  type HttpClient,
  type HttpRequest,
  mapLimit,
  type RetryInfo,
  type Transport,
} from '../http.js';
import type {
  DirectorCpe,
  DirectorHealth,
  DirectorJob,
  DrDirector,
  JobStartOptions,
  RepointResult,
  S3Location,
} from '../port.js';
import {
  ZWAN_API_KEY_HEADER,
  ZWAN_CLIENT_TOKEN_MAX,
  ZWAN_CLIENT_TOKEN_PATTERN,
  ZWAN_HEALTH_MAX_IDS,
  type WireCpe,
  type WireCpeHealth,
  type WireFenceRequest,
  type WireFenceResult,
  type WireGroupBranchResult,
  type WireGroupUpdateResult,
  type WireHaStateResult,
  type WireJob,
  type WireJobRequest,
  type WireManagementUrl,
  type WireRepointResult,
  type WireSiteRole,
  type WireSshOnboardedCpe,
  type WireWriteConflict,
} from './wire.js';
import {
  parseZwanAnswer,
  parseZwanHealth,
  parseZwanPage,
  wanNumbersSchema,
  zwanCpeSchema,
  ZWAN_ANSWERS,
  type MalformedEntry,
} from './schemas.js';
import { conformingCpe, conformingWanNumbers } from './conforming.js';

/** Options of {@link createZwanDirector}. */
export interface ZwanDirectorOptions {
  site: SiteName;
  /** The site director's API base, e.g. `https://director-dc.example.net/api/v1`. */
  baseUrl: string;
  /** The API key; an `ApiKeyProvider` (with `invalidate`) gets one re-read after a 401/403. */
  apiKey: (() => Promise<string>) & { invalidate?: () => void };
  /** Per-attempt timeout. @default 5000 */
  timeoutMs?: number;
  /** Retries of transient failures. @default 3 */
  retries?: number;
  /** Requests in flight to this director. @default 16 */
  concurrency?: number;
  /** @default 200 */
  backoffBaseMs?: number;
  /** @default 3000 */
  backoffMaxMs?: number;
  /** Optional client-side throttle. */
  rateLimit?: { requestsPerSecond: number; burst: number };
  /** Page size of CPE lists (the contract allows up to 1,000). @default 1000 */
  pageSize?: number;
  /** Ids per bulk health call (≤ 500). @default 500 */
  healthChunkSize?: number;
  /** Retries of the director health probe (kept low: a dead director must be reported fast). @default 1 */
  healthRetries?: number;
  /** Director name in errors and logs. @default `zwan-<site>` */
  name?: string;
  clock?: Clock;
  random?: () => number;
  onRetry?: (info: RetryInfo) => void;
  /** Fresh ids (job client tokens when the caller gives none). @default a random UUID */
  id?: () => string;
  /** The HTTP transport (the checker's in-process one). @default node:http */
  transport?: Transport;
  /** Largest answer read. @default 16 MiB (a page of 1,000 CPEs is a few MB) */
  maxResponseBytes?: number;
  /** Most pages of one listing. @default 10000 */
  maxPages?: number;
  /**
   * Told of each entry of an answer that did not conform to the contract (a CPE left out and
   * reported invalid, a health entry read as "no data"). @default a warning in the log
   */
  onMalformed?: (entry: MalformedEntry) => void;
}

/**
 * Outcome of the group "Update Branch to Active Node" call. A branch not (fully) moved has an
 * `error` and a `code`: `NOT_MANAGED` (the branch is managed by the other site's director,
 * `managedBy`; the other branches were still moved) or `NO_TUNNEL_FOR_IDENTIFIER`.
 */
export interface GroupUpdateResult {
  haName: string;
  targetCpeId: string;
  epoch?: number;
  branches: WireGroupBranchResult[];
}

/** A CPE onboarded by secure shell (needs a reboot to pick up a new management URL). */
export type SshOnboardedCpe = WireSshOnboardedCpe;

/** The zWAN adapter: the DrDirector port plus zWAN-only operations. */
export interface ZwanDirector extends DrDirector {
  readonly kind: 'zwan';
  /** The director's name used in errors (`zwan-DC`). */
  readonly name: string;
  /** One CPE with its current tunnels. */
  getCpe(tenantId: string, cpeId: string): Promise<DirectorCpe>;
  /** The "Update Branch to Active Node" button for one HA group (target defaults to the director's choice). */
  updateGroupBranches(
    tenantId: string,
    haName: string,
    options: { epoch: number; targetCpeId?: string },
  ): Promise<GroupUpdateResult>;
  /** This director's site role. */
  getSiteRole(): Promise<SiteRole>;
  /** The management URL the provisioning server hands out. */
  getManagementUrl(): Promise<string>;
  /** Every CPE (all tenants) onboarded by secure shell. */
  listSshOnboarded(): Promise<SshOnboardedCpe[]>;
}

const enc = encodeURIComponent;

function toDirectorCpe(c: WireCpe): DirectorCpe {
  const cpe: DirectorCpe = {
    id: c.id,
    name: c.name,
    tenantId: c.tenantId,
    metadata: c.metadata,
    lans: c.lans.map((l) =>
      l.virtualIp ? { name: l.name, cidr: l.cidr, virtualIp: l.virtualIp } : { name: l.name, cidr: l.cidr },
    ),
    tunnels: c.tunnels.map((t) => ({
      name: t.name,
      ...(typeof t.haTunnelIdentifier === 'string' ? { haTunnelIdentifier: t.haTunnelIdentifier } : {}),
      tunnelId: t.tunnelId,
      state: t.state,
    })),
    onboardedBy: c.onboardedBy,
  };
  if (c.haRole) cpe.haRole = c.haRole;
  if (c.onboardedAt) cpe.onboardedAt = c.onboardedAt;
  return cpe;
}

/**
 * Turn one CPE's bulk-health entry into a Sample: the WAN carrying the tunnel endpoint
 * (WAN00, else the first WAN with a public IP, else the first WAN) gives loss and latency; a
 * CPE that is not alive is unreachable.
 */
export function toSample(
  h: HealthEntry | undefined,
  target: string,
  at: number,
  onMalformed?: (entry: MalformedEntry) => void,
): Sample {
  if (!h) return { target, at, reachable: false, lossPct: null, latencyMs: null };
  const byName = h.wans.findIndex((w) => w.name === 'WAN00');
  const index =
    byName >= 0
      ? byName
      : Math.max(
          0,
          h.wans.findIndex((w) => w.publicIp),
        );
  const wan = h.wans[index];
  const numbers = wan ? numbersOf(wan) : undefined;
  // A director that says the CPE is not alive is believed, whatever its WAN figures say.
  if (!h.alive) return { target, at, reachable: false, lossPct: numbers?.lossPct ?? null, latencyMs: null };
  if (!wan) return { target, at, reachable: true, lossPct: null, latencyMs: null };
  if (!numbers) {
    // The WAN the sample comes from has no readable loss: no data (never a good sample).
    onMalformed?.({
      operation: 'sampleHealth',
      entry: h.cpeId,
      field: `wans.${index}.lossPct`,
      value: wan.lossPct,
      expected: 'a loss in percent (0–100) and a latency >= 0 (or none)',
    });
    return { target, at, reachable: true, lossPct: null, latencyMs: null };
  }
  return { target, at, reachable: true, lossPct: numbers.lossPct, latencyMs: numbers.latencyMs ?? null };
}

/** A bulk-health entry as parsed: the WANs' numbers are read by {@link toSample}. */
type HealthEntry = Pick<WireCpeHealth, 'cpeId' | 'alive'> & {
  wans: { name: string; publicIp?: string | null; lossPct?: unknown; latencyMs?: unknown }[];
};

function numbersOf(
  wan: HealthEntry['wans'][number],
): { lossPct: number; latencyMs?: number | null | undefined } | undefined {
  const fast = conformingWanNumbers(wan);
  if (fast) return fast;
  const parsed = wanNumbersSchema.safeParse(wan);
  return parsed.success ? parsed.data : undefined;
}

/** The marker of a CPE entry that did not conform (inventory reports it invalid). */
function malformedCpe(entry: MalformedEntry, tenantId: string): DirectorCpe {
  const id = entry.entry.startsWith('#') ? `(listing entry ${entry.entry})` : entry.entry;
  return {
    id,
    name: id,
    tenantId,
    metadata: {},
    lans: [],
    tunnels: [],
    malformed: { field: entry.field, value: entry.value, expected: entry.expected },
  };
}

function toJob(j: WireJob): DirectorJob {
  const job: DirectorJob = { jobId: j.jobId, kind: j.kind, state: j.state, progressPct: j.progressPct };
  if (j.manifest) job.manifest = j.manifest.map((m) => ({ key: m.key, bytes: m.bytes, sha256: m.sha256 }));
  if (j.error !== undefined) job.error = j.error;
  return job;
}

/** Create the adapter for one site's zWAN director. */
export function createZwanDirector(options: ZwanDirectorOptions): ZwanDirector {
  const site = options.site;
  const name = options.name ?? `zwan-${site}`;
  const pageSize = options.pageSize ?? 1000;
  const chunkSize = Math.min(options.healthChunkSize ?? ZWAN_HEALTH_MAX_IDS, ZWAN_HEALTH_MAX_IDS);
  const concurrency = options.concurrency ?? 16;
  const http: HttpClient = createHttpClient({
    name,
    baseUrl: options.baseUrl,
    headers: async () => ({ [ZWAN_API_KEY_HEADER]: await options.apiKey() }),
    // The contract has no redirects; node:http keeps a fan-out's CPU per call low.
    transport: options.transport ?? 'node',
    timeoutMs: options.timeoutMs ?? 5_000,
    retries: options.retries ?? 3,
    backoffBaseMs: options.backoffBaseMs ?? 200,
    backoffMaxMs: options.backoffMaxMs ?? 3_000,
    concurrency,
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    ...(options.maxResponseBytes ? { maxResponseBytes: options.maxResponseBytes } : {}),
    ...(options.maxPages ? { maxPages: options.maxPages } : {}),
  });
  const onMalformed =
    options.onMalformed ??
    ((entry: MalformedEntry) =>
      defaultLogSink.warn('director answer entry does not conform to the zWAN contract', {
        director: name,
        ...entry,
      }));

  /** A request; after an auth error a rotatable key is re-read once. */
  async function call<T>(req: HttpRequest): Promise<{ status: number; body: T }> {
    try {
      return await http.request<T>(req);
    } catch (error) {
      if (!(error instanceof DirectorAuthError) || !options.apiKey.invalidate) throw error;
      options.apiKey.invalidate();
      return http.request<T>(req);
    }
  }

  /**
   * Start an MSP backup or restore job at `location`. The POST carries a client token, so it is
   * retried like any call: a retry after a lost answer gets the job the first attempt started
   * (200), never a second job. A 409 (the token started another request) is a DirectorRequestError.
   */
  async function startJob(
    path: '/backups' | '/restores',
    location: S3Location,
    start: JobStartOptions = {},
  ): Promise<DirectorJob> {
    const clientToken = start.clientToken ?? (options.id ?? randomUUID)();
    if (clientToken.length > ZWAN_CLIENT_TOKEN_MAX || !ZWAN_CLIENT_TOKEN_PATTERN.test(clientToken)) {
      throw new ValidationError(`${name}: job start`, [
        {
          path: 'clientToken',
          value: clientToken,
          expected: `1 to ${ZWAN_CLIENT_TOKEN_MAX} characters of A-Z a-z 0-9 . _ : -`,
        },
      ]);
    }
    const body: WireJobRequest = {
      scope: 'msp',
      bucket: location.bucket,
      mspPrefix: location.mspPrefix,
      elkPrefix: location.elkPrefix,
      clientToken,
    };
    // The token makes a repeat harmless, even after an unreadable 2xx.
    const res = await call<unknown>({ method: 'POST', path, body, idempotent: true });
    return toJob(parseZwanAnswer('job', res.status, res.body, `${name}: job start`));
  }

  /**
   * A 409 of a fenced write, as a named error: STALE_EPOCH → StaleEpochError (with the
   * director's epoch); DIRECTOR_PASSIVE → DirectorPassiveError (a StaleEpochError: a fan-out
   * treats it as superseded); anything else (NOT_MANAGED: the branch is managed by the other
   * site's director) → DirectorRequestError naming the code and the director's reason, which a
   * fan-out records as that branch's failure.
   */
  function conflict(what: string, status: number, body: unknown): never {
    const e = (body as Partial<WireWriteConflict> | undefined)?.error;
    if (e?.code === 'STALE_EPOCH') {
      throw new StaleEpochError(
        e.boundServingId !== undefined
          ? `${name}: ${what} refused: epoch ${e.requestedEpoch} of group ${e.haName} was already decided for ${e.boundServingId}`
          : `${name}: ${what} refused: epoch ${e.requestedEpoch} is older than ${e.currentEpoch}, already applied to group ${e.haName}`,
        typeof e.currentEpoch === 'number' ? { currentEpoch: e.currentEpoch } : undefined,
      );
    }
    if (e?.code === 'DIRECTOR_PASSIVE') {
      throw new DirectorPassiveError(`${name}: ${what} refused: DIRECTOR_PASSIVE: ${e.message}`, {
        site,
        cause: body,
      });
    }
    const code = e?.code ? `${e.code}: ` : '';
    throw new DirectorRequestError(
      `${name}: ${what} refused → HTTP ${status}: ${code}${e?.message ?? 'conflict'}`,
      status,
      { cause: body },
    );
  }

  async function updateGroupBranches(
    tenantId: string,
    haName: string,
    { epoch, targetCpeId }: { epoch: number; targetCpeId?: string },
  ): Promise<GroupUpdateResult> {
    const res = await call<WireGroupUpdateResult | WireWriteConflict>({
      method: 'POST',
      path: `/tenants/${enc(tenantId)}/ha-groups/${enc(haName)}/update-branches`,
      body: { epoch, ...(targetCpeId ? { targetCpeId } : {}) },
      okStatuses: [200, 409],
      tenantId,
    });
    if (res.status === 409) conflict(`update of group ${haName}'s branches`, res.status, res.body);
    return parseZwanAnswer('groupUpdate', res.status, res.body, `${name}: updateGroupBranches`);
  }

  async function getCpe(tenantId: string, cpeId: string): Promise<DirectorCpe> {
    const res = await call<unknown>({
      method: 'GET',
      path: `/tenants/${enc(tenantId)}/cpes/${enc(cpeId)}`,
      tenantId,
    });
    return toDirectorCpe(parseZwanAnswer('cpe', res.status, res.body, `${name}: getCpe`));
  }

  async function healthChunk(tenantId: string, ids: readonly string[]): Promise<Sample[]> {
    const res = await call<unknown>({
      method: 'POST',
      path: `/tenants/${enc(tenantId)}/cpe-health`,
      body: { cpeIds: ids },
      tenantId,
    });
    const report = parseZwanHealth(res.body, onMalformed, `${name}: sampleHealth`);
    const when = Date.parse(report.at);
    return ids.map((id) =>
      report.noData.has(id) && !report.results.has(id)
        ? { target: id, at: when, reachable: true, lossPct: null, latencyMs: null }
        : toSample(report.results.get(id), id, when, onMalformed),
    );
  }

  return {
    kind: 'zwan',
    site,
    name,

    async listCpes(tenantId, options = {}) {
      const query = { limit: pageSize, ...(options.haName !== undefined ? { haName: options.haName } : {}) };
      // A CPE entry that does not conform is kept as a marker, so inventory reports it invalid.
      return http.collect<DirectorCpe, unknown>(
        { method: 'GET', path: `/tenants/${enc(tenantId)}/cpes`, query, tenantId },
        (body) => {
          const bad: DirectorCpe[] = [];
          const page = parseZwanPage(
            'listCpes',
            body,
            zwanCpeSchema,
            (entry) => {
              onMalformed(entry);
              bad.push(malformedCpe(entry, tenantId));
            },
            `${name}: listCpes`,
            conformingCpe,
          );
          return [...page.items.map((c) => toDirectorCpe(c as WireCpe)), ...bad];
        },
      );
    },

    async sampleHealth(tenantId, cpeIds) {
      const unique = [...new Set(cpeIds)];
      const chunks: string[][] = [];
      for (let i = 0; i < unique.length; i += chunkSize) chunks.push(unique.slice(i, i + chunkSize));
      const results = await mapLimit(chunks, concurrency, (chunk) => healthChunk(tenantId, chunk));
      const byId = new Map(results.flat().map((s) => [s.target, s]));
      return cpeIds.map((id) => byId.get(id) as Sample);
    },

    async health(): Promise<DirectorHealth> {
      try {
        const res = await call<unknown>({
          method: 'GET',
          path: '/health',
          retries: options.healthRetries ?? 1,
        });
        const body = parseZwanAnswer('directorHealth', res.status, res.body, `${name}: health`);
        return {
          site,
          reachable: true,
          healthy: body.status === 'OK' && body.site === site,
          role: body.role,
          version: body.version,
        };
      } catch (error) {
        if (error instanceof DirectorUnavailableError) return { site, reachable: false, healthy: false };
        // It answered, but not as the contract says: reachable, and not to be trusted as healthy.
        if (error instanceof DirectorResponseError) {
          onMalformed({
            operation: 'health',
            entry: site,
            field: error.issues[0]?.path ?? '',
            value: error.issues[0]?.value,
            expected: error.issues[0]?.expected ?? 'the DirectorHealth shape',
          });
          return { site, reachable: true, healthy: false };
        }
        throw error;
      }
    },

    async fence(tenantId: string, haName: string, epoch: number, servingId?: string): Promise<void> {
      const put = (body: WireFenceRequest) =>
        call<WireFenceResult | WireWriteConflict>({
          method: 'PUT',
          path: `/tenants/${enc(tenantId)}/ha-groups/${enc(haName)}/epoch`,
          body,
          okStatuses: [200, 409],
          tenantId,
        });
      // `servingId` is contract 1.1 (one decision per epoch); a 1.0 director answers 400.
      const res = await put({ epoch, ...(servingId !== undefined ? { servingId } : {}) });
      if (res.status === 409) conflict(`fence of group ${haName} at epoch ${epoch}`, res.status, res.body);
    },

    async setHaState(tenantId: string, cpeId: string, state: HaState, epoch: number) {
      const res = await call<WireHaStateResult | WireWriteConflict>({
        method: 'PUT',
        path: `/tenants/${enc(tenantId)}/cpes/${enc(cpeId)}/ha-state`,
        body: { state, epoch },
        okStatuses: [200, 409],
        tenantId,
      });
      if (res.status === 409) conflict(`set HA state of ${cpeId} to ${state}`, res.status, res.body);
    },

    async repoint(action: RepointAction): Promise<RepointResult> {
      const { tenantId, branchId, targetId, epoch } = action;
      const result = { branchId, targetId, epoch };
      // One call: the director's re-point is itself idempotent (it compares the branch's current
      // tunnel IDs and answers `changed: false` when they are already the target's), atomic and
      // fenced by the epoch. Reading the branch first only doubled the calls of a fan-out.
      const res = await call<WireRepointResult | WireWriteConflict>({
        method: 'POST',
        path: `/tenants/${enc(tenantId)}/cpes/${enc(branchId)}/repoint`,
        body: { targetCpeId: targetId, epoch, tunnels: action.tunnels.map((t) => ({ ...t })) },
        okStatuses: [200, 409],
        tenantId,
      });
      if (res.status === 409) conflict(`re-point of branch ${branchId} to ${targetId}`, res.status, res.body);
      return {
        ...result,
        changed: parseZwanAnswer('repoint', res.status, res.body, `${name}: repoint`).changed,
      };
    },

    async repointGroup({ tenantId, haName, targetId, epoch }) {
      // The group button: the director moves every branch of the group onto the target in one
      // call, fenced by the epoch and bound to the target (as a fence naming it); a repeat moves
      // nothing more and answers `changed: false`.
      const res = await updateGroupBranches(tenantId, haName, { epoch, targetCpeId: targetId });
      return res.branches.map((b) => ({
        branchId: b.branchId,
        changed: b.changed,
        ...(b.error !== undefined ? { error: b.code ? `${b.code}: ${b.error}` : b.error } : {}),
      }));
    },

    async setSiteRole(role: SiteRole) {
      await call<WireSiteRole>({ method: 'PUT', path: '/site/role', body: { role } });
    },

    async getSiteRole() {
      const res = await call<unknown>({ method: 'GET', path: '/site/role' });
      return parseZwanAnswer('siteRole', res.status, res.body, `${name}: getSiteRole`).role;
    },

    startBackup: (_scope: 'msp', target: S3Location, start?: JobStartOptions) =>
      startJob('/backups', target, start),

    startRestore: (_scope: 'msp', source: S3Location, start?: JobStartOptions) =>
      startJob('/restores', source, start),

    async getJob(jobId: string) {
      const res = await call<unknown>({ method: 'GET', path: `/jobs/${enc(jobId)}` });
      return toJob(parseZwanAnswer('job', res.status, res.body, `${name}: getJob`));
    },

    async setManagementUrl(url: string) {
      await call<WireManagementUrl>({ method: 'PUT', path: '/provisioning/management-url', body: { url } });
    },

    async getManagementUrl() {
      const res = await call<unknown>({ method: 'GET', path: '/provisioning/management-url' });
      return parseZwanAnswer('managementUrl', res.status, res.body, `${name}: getManagementUrl`).url;
    },

    async listSshOnboarded() {
      return http.collect<WireSshOnboardedCpe, unknown>(
        { method: 'GET', path: '/provisioning/ssh-onboarded-cpes', query: { limit: pageSize } },
        (body) =>
          parseZwanPage(
            'listSshOnboarded',
            body,
            ZWAN_ANSWERS.sshOnboarded,
            onMalformed,
            `${name}: listSshOnboarded`,
          ).items as WireSshOnboardedCpe[],
      );
    },

    getCpe,

    updateGroupBranches,
  };
}
