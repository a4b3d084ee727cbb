/**
 * The DR tasks: every step the four DR state machines run (one Lambda, dispatching on `task`).
 * Each task validates its payload, does one thing, and throws a named error that the state
 * machine's Retry (DirectorUnavailableError, DirectorUnhealthyError, OldSiteNotFencedError) or
 * Catch (everything else) matches by name. State passed between steps stays small: manifests live in the table.
 */
import { createHash } from 'node:crypto';
// zod/mini with the English messages, as in ./inputs.ts.
import * as z from 'zod/mini';
import '../config/zod-locale.js';
import { lenientTextSchema } from '../config/fields.js';
import { parseCron, startedOnSchedule } from '../domain/cron.js';
import type { DirectorJob, DrDirector, S3Location } from '../director/port.js';
import type { SiteName, SiteRole } from '../domain/model.js';
import {
  ApprovalRejectedError,
  BackupFailedError,
  DirectorUnavailableError,
  DirectorUnhealthyError,
  JobTimeoutError,
  NotFoundError,
  OldSiteNotFencedError,
  PreconditionFailedError,
  RestoreFailedError,
  ValidationError,
  VerificationFailedError,
} from '../errors.js';
import { parseWith, parseWorkflowInput, WORKFLOWS } from './inputs.js';
import {
  backupLocation,
  newestVerified,
  planFailbackCleanup,
  planPendingCleanup,
  planSuperseded,
  type BackupRecord,
  type DeletionPlan,
} from './layout.js';
import type { DrDeps, DrNoticeKind, SiteRoles } from './ports.js';

/** Metric names of the DR workflows (the CDK alarms use exactly these). */
export const DR_METRICS = {
  /** Age in hours of the newest verified backup (alarm at backup.maxAgeHours, default 26). */
  backupAgeHours: 'BackupAgeHours',
  /** A backup object was missing or did not match its manifest. */
  verificationFailed: 'BackupVerificationFailed',
  /** Bytes of a verified backup. */
  backupBytes: 'BackupBytes',
  /** A DR workflow ended in failure (after compensation). */
  workflowFailed: 'DrWorkflowFailed',
  /** ELK objects deleted by a cleanup or a drill. */
  objectsDeleted: 'BackupObjectsDeleted',
} as const;

const site = z.enum(['DC', 'DR']);
const nonEmpty = z.string().check(z.minLength(1));
const locationSchema = z.object({ bucket: nonEmpty, mspPrefix: nonEmpty, elkPrefix: nonEmpty });
const base = z.object({
  task: z.string(),
  workflow: z.enum(WORKFLOWS),
  executionId: nonEmpty,
  /** The state that sent the task (`$$.State.Name`, a literal in the definition). */
  stateName: z.optional(nonEmpty),
});

/** Where and under which time a backup goes: chosen once (PlanBackup) so retries send the same request. */
const backupPlanSchema = z.object({ site, at: z.string(), location: locationSchema });
export type BackupPlan = z.output<typeof backupPlanSchema>;

/** A director job as the state machine carries it between polls. */
const jobRefSchema = z.object({
  site,
  kind: z.enum(['backup', 'restore']),
  jobId: nonEmpty,
  location: locationSchema,
  startedAt: z.string(),
  polls: z.int().check(z.gte(0)),
  state: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED']),
  progressPct: z.number(),
});
export type JobRef = z.output<typeof jobRefSchema>;

/** A verified backup as the state machine carries it (the objects stay in the table). */
const backupSummarySchema = z.object({
  site,
  at: z.string(),
  backupId: z.string(),
  location: locationSchema,
  objects: z.int(),
  totalBytes: z.number(),
});
export type BackupSummary = z.output<typeof backupSummarySchema>;

const rolesResultSchema = z.object({
  previous: z.record(site, z.object({ role: z.enum(['ACTIVE', 'PASSIVE']), since: z.string() })),
  current: z.record(site, z.enum(['ACTIVE', 'PASSIVE'])),
  changed: z.boolean(),
  changedAt: z.string(),
});

/** How FenceOldSite fenced the site giving up ACTIVE (its result, at `$.fence`). */
const fenceResultSchema = z.object({
  site,
  fenced: z.enum(['passive', 'drained']),
  at: z.string(),
  unreachableSince: z.optional(z.string()),
  drainAfterSec: z.optional(z.number()),
});
export type FenceResult = z.output<typeof fenceResultSchema>;

const errorInfoSchema = z.looseObject({ Error: z.string(), Cause: z.optional(z.string()) });

const iso = (ms: number) => new Date(ms).toISOString();
const other = (s: SiteName): SiteName => (s === 'DC' ? 'DR' : 'DC');

function summary(record: BackupRecord): BackupSummary {
  return {
    site: record.site,
    at: record.at,
    backupId: record.backupId,
    location: record.location,
    objects: record.objects.length,
    totalBytes: record.totalBytes,
  };
}

function rolesView(roles: SiteRoles) {
  const active: SiteName = roles.DR.role === 'ACTIVE' && roles.DC.role !== 'ACTIVE' ? 'DR' : 'DC';
  return {
    DC: roles.DC.role,
    DR: roles.DR.role,
    active,
    passive: other(active),
    activeSince: roles[active].since,
  };
}

/**
 * The director client token of the job a workflow step starts: the same for every attempt of
 * that step in one execution (Step Functions retries, a redrive), another for a new execution
 * or another step. A hash, so it fits the contract's 128 characters of `A-Za-z0-9._:-` whatever
 * the execution's name.
 */
export function jobClientToken(executionId: string, stateName: string): string {
  return `sfn-${createHash('sha256').update(`${executionId}\n${stateName}`).digest('hex')}`;
}

function jobRef(site: SiteName, job: DirectorJob, location: S3Location, startedAt: string): JobRef {
  return {
    site,
    kind: job.kind,
    jobId: job.jobId,
    location,
    startedAt,
    polls: 0,
    state: job.state,
    progressPct: job.progressPct,
  };
}

/** Build every DR task over `deps`. Keys are the `task` names the state machines send. */
export function createDrTasks(deps: DrDeps) {
  const { store, objects, directors, notifier, metrics, log, settings } = deps;
  const nowIso = () => iso(deps.now());

  async function notify(
    kind: DrNoticeKind,
    workflow: string,
    executionId: string,
    subject: string,
    message: string,
    detail?: Record<string, unknown>,
    /** Values the notice carries to the operators but the log line must not (the task token). */
    secrets: readonly string[] = [],
  ): Promise<void> {
    const notice = {
      kind,
      workflow,
      executionId,
      subject,
      message,
      at: nowIso(),
      ...(detail ? { detail } : {}),
    };
    const logged = secrets.reduce((text, secret) => text.split(secret).join('<task token>'), message);
    log.info(`[${kind}] ${subject}`, { notice: { ...notice, message: logged } });
    try {
      await notifier.notify(notice);
    } catch (error) {
      // Losing an e-mail must not fail a switchover half-way.
      log.error('DR notification failed', { kind, error: String(error) });
    }
  }

  /** Tell each site's director, in order, its role in the table (best effort; what each was told). */
  async function tellTableRoles(
    roles: Record<SiteName, { role: SiteRole }>,
    order: readonly SiteName[],
  ): Promise<Partial<Record<SiteName, string>>> {
    const told: Partial<Record<SiteName, string>> = {};
    for (const s of new Set(order)) {
      try {
        await directors(s).setSiteRole(roles[s].role);
        told[s] = roles[s].role;
      } catch (error) {
        told[s] = `not told (${(error as Error).message})`;
        log.warn(`could not re-assert ${s} director role`, { error: String(error) });
      }
    }
    return told;
  }

  async function publishAge(): Promise<{ ageHours: number | null; newest?: BackupSummary }> {
    const newest = newestVerified(await store.listBackups());
    if (!newest) {
      // No verified backup at all: report a very old one so the age alarm fires.
      metrics.put(DR_METRICS.backupAgeHours, 10_000, 'None');
      return { ageHours: null };
    }
    const ageHours = Math.round(((deps.now() - Date.parse(newest.at)) / 3_600_000) * 100) / 100;
    metrics.put(DR_METRICS.backupAgeHours, ageHours, 'None');
    return { ageHours, newest: summary(newest) };
  }

  async function deletePlan(plan: DeletionPlan, why: string, executionId: string): Promise<string[]> {
    if (plan.keys.length === 0) return [];
    await objects.deleteKeys(plan.keys);
    await store.markPruned(plan.records, nowIso());
    metrics.put(DR_METRICS.objectsDeleted, plan.keys.length, 'Count');
    await store.audit({
      at: nowIso(),
      kind: 'DR_OBJECTS_DELETED',
      executionId,
      detail: { why, keys: plan.keys },
    });
    log.info(`deleted ${plan.keys.length} ELK objects: ${why}`, { keys: plan.keys });
    return plan.keys;
  }

  const tasks = {
    /** First state: validate the execution input; a bad one fails at once naming the field. */
    async validateInput(payload: unknown) {
      const p = parseWith(z.extend(base, { input: z.unknown() }), payload, 'validateInput payload');
      return parseWorkflowInput(p.workflow, p.input);
    },

    /** Take the one DR lock (WorkflowLockedError when another DR workflow holds it). */
    async acquireLock(payload: unknown) {
      const p = parseWith(base, payload, 'acquireLock payload');
      await store.acquireLock(p.executionId, p.workflow, deps.now(), settings.lockTtlSec);
      return { holder: p.executionId, at: nowIso() };
    },

    /** Release the lock; on every exit path (succeed, fail, reject). */
    async releaseLock(payload: unknown) {
      const p = parseWith(base, payload, 'releaseLock payload');
      const released = await store.releaseLock(p.executionId);
      if (!released) log.warn('DR lock was not held by this execution', { executionId: p.executionId });
      return { released };
    },

    /** Both sites' roles and which one is ACTIVE. */
    async resolveSites(payload: unknown) {
      parseWith(base, payload, 'resolveSites payload');
      return rolesView(await store.getSiteRoles());
    },

    /** Fail unless `site` is ACTIVE now (failback needs DR ACTIVE). */
    async requireActive(payload: unknown) {
      const p = parseWith(z.extend(base, { site }), payload, 'requireActive payload');
      const view = rolesView(await store.getSiteRoles());
      if (view.active !== p.site) {
        throw new PreconditionFailedError(
          `${p.workflow} needs ${p.site} ACTIVE, but ${view.active} is ACTIVE (since ${view.activeSince || 'the start'})`,
        );
      }
      return view;
    },

    /**
     * Choose the location and time of a backup of `site` (its own step: a retried StartBackup
     * must send the director the very same request, or its client token would be refused).
     */
    async planBackup(payload: unknown): Promise<BackupPlan> {
      const p = parseWith(z.extend(base, { site }), payload, 'planBackup payload');
      const now = deps.now();
      return { site: p.site, at: iso(now), location: backupLocation(settings.bucket, p.site, now) };
    },

    /**
     * Start the planned backup at its site's director. Idempotent per step: every attempt sends
     * the client token of this execution's state, so a retry after a lost answer gets the job
     * the first attempt started.
     */
    async startBackup(payload: unknown) {
      const p = parseWith(
        z.extend(base, { plan: backupPlanSchema, stateName: nonEmpty }),
        payload,
        'startBackup payload',
      );
      const { site: where, location } = p.plan;
      let job: DirectorJob;
      try {
        job = await directors(where).startBackup('msp', location, {
          clientToken: jobClientToken(p.executionId, p.stateName),
        });
      } catch (error) {
        if (error instanceof DirectorUnavailableError) throw error;
        throw new BackupFailedError(`${where} director refused the backup: ${(error as Error).message}`, {
          cause: error,
        });
      }
      log.info(`backup ${job.jobId} started at ${where}`, { location });
      return jobRef(where, job, location, p.plan.at);
    },

    /** Start a restore of a verified backup into `site`'s director; idempotent per step, as startBackup. */
    async startRestore(payload: unknown) {
      const p = parseWith(
        z.extend(base, { site, backup: backupSummarySchema, stateName: nonEmpty }),
        payload,
        'startRestore payload',
      );
      let job: DirectorJob;
      try {
        job = await directors(p.site).startRestore('msp', p.backup.location, {
          clientToken: jobClientToken(p.executionId, p.stateName),
        });
      } catch (error) {
        if (error instanceof DirectorUnavailableError) throw error;
        throw new RestoreFailedError(`${p.site} director refused the restore: ${(error as Error).message}`, {
          cause: error,
        });
      }
      log.info(`restore ${job.jobId} of ${p.backup.backupId} started at ${p.site}`);
      return jobRef(p.site, job, p.backup.location, nowIso());
    },

    /** One poll of a job. FAILED → BackupFailedError/RestoreFailedError; too many polls → JobTimeoutError. */
    async pollJob(payload: unknown) {
      const p = parseWith(
        z.extend(base, { job: jobRefSchema, maxPolls: z.optional(z.int().check(z.positive())) }),
        payload,
        'pollJob payload',
      );
      const ref = p.job;
      const maxPolls = p.maxPolls ?? settings.maxJobPolls;
      const job = await directors(ref.site).getJob(ref.jobId);
      const polls = ref.polls + 1;
      if (job.state === 'FAILED') {
        const Err = ref.kind === 'backup' ? BackupFailedError : RestoreFailedError;
        throw new Err(
          `${ref.kind} job ${ref.jobId} at ${ref.site} failed: ${job.error ?? 'no reason given'}`,
        );
      }
      if (job.state === 'RUNNING' && polls >= maxPolls) {
        throw new JobTimeoutError(
          `${ref.kind} job ${ref.jobId} at ${ref.site} still RUNNING (${job.progressPct}%) after ${polls} polls`,
        );
      }
      return { ...ref, polls, state: job.state, progressPct: job.progressPct };
    },

    /**
     * Verify every object of a finished backup's manifest (size and SHA-256, streamed) and, only
     * if all match, record the backup. One task so the recorded manifest is the verified one and
     * big manifests never travel through the state machine.
     */
    async verifyBackup(payload: unknown) {
      const p = parseWith(
        z.extend(base, { job: jobRefSchema, trigger: z._default(z.string(), 'on-demand') }),
        payload,
        'verifyBackup payload',
      );
      const ref = p.job;
      const job = await directors(ref.site).getJob(ref.jobId);
      const manifest = job.manifest ?? [];
      const bad: { key: string; expected: { bytes: number; sha256: string }; actual: unknown }[] = [];
      if (manifest.length === 0)
        bad.push({ key: '(manifest)', expected: { bytes: 0, sha256: '' }, actual: 'empty' });
      for (const entry of manifest) {
        const check = await objects.verifyObject(entry.key, entry);
        if (!check.ok)
          bad.push({ key: entry.key, expected: { bytes: entry.bytes, sha256: entry.sha256 }, actual: check });
      }
      const outside = manifest.filter(
        (e) => !e.key.startsWith(ref.location.mspPrefix) && !e.key.startsWith(ref.location.elkPrefix),
      );
      for (const e of outside)
        bad.push({
          key: e.key,
          expected: { bytes: e.bytes, sha256: e.sha256 },
          actual: 'outside the backup prefixes',
        });
      if (bad.length > 0) {
        metrics.put(DR_METRICS.verificationFailed, 1, 'Count');
        await notify(
          'BACKUP_VERIFICATION_FAILED',
          p.workflow,
          p.executionId,
          `Backup ${ref.jobId} at ${ref.site} failed verification`,
          `${bad.length} of ${manifest.length} objects are missing or differ from the manifest; the backup was not recorded.`,
          { bad: bad.slice(0, 20) },
        );
        throw new VerificationFailedError(
          `backup ${ref.jobId} at ${ref.site}: ${bad.length} object(s) do not match the manifest: ${bad
            .slice(0, 5)
            .map((b) => b.key)
            .join(', ')}`,
        );
      }
      const record: BackupRecord = {
        site: ref.site,
        at: ref.startedAt,
        backupId: `${ref.site}-${ref.startedAt}`,
        jobId: ref.jobId,
        location: ref.location,
        objects: manifest.map(({ key, bytes, sha256 }) => ({ key, bytes, sha256 })),
        totalBytes: manifest.reduce((n, e) => n + e.bytes, 0),
        verifiedAt: nowIso(),
        status: 'VERIFIED',
        trigger: p.trigger,
        executionId: p.executionId,
      };
      await store.putBackup(record);
      metrics.put(DR_METRICS.backupBytes, record.totalBytes, 'Bytes');
      return summary(record);
    },

    /** Publish the newest verified backup's age (BackupAgeHours). */
    async publishBackupAge(payload: unknown) {
      parseWith(base, payload, 'publishBackupAge payload');
      return publishAge();
    },

    /** The newest verified backup (of either site); NotFoundError when there is none. */
    async findLatestBackup(payload: unknown) {
      parseWith(base, payload, 'findLatestBackup payload');
      const newest = newestVerified(await store.listBackups());
      if (!newest) throw new NotFoundError('no verified backup to restore from');
      return summary(newest);
    },

    /** The director must answer and report itself healthy (retried by the state machine). */
    async checkDirectorHealthy(payload: unknown) {
      const p = parseWith(z.extend(base, { site }), payload, 'checkDirectorHealthy payload');
      const health = await directors(p.site).health();
      if (!health.reachable) throw new DirectorUnavailableError(`${p.site} director is unreachable`);
      if (!health.healthy) throw new DirectorUnhealthyError(`${p.site} director reports itself unhealthy`);
      return health;
    },

    /**
     * Fence `site`, the site giving up ACTIVE, before the roles change: from then on no fan-out
     * through its director lands a re-point. Told PASSIVE, a zWAN director refuses every write
     * (`fenced: 'passive'`). A director that cannot be told (unreachable: the adapter's
     * DirectorUnavailableError, or its health() says so) is fenced by draining instead: once the
     * health check has recorded it unreachable for `settings.drainAfterSec`, every fan-out that
     * was running on it has ended (Lambda stops the functions that re-point at their timeout,
     * checked at synth to be shorter) (`fenced: 'drained'`). Anything else throws
     * OldSiteNotFencedError saying since when it is unreachable and how long is left; the state
     * machine retries it through the drain, then fails with the roles unchanged.
     */
    async fenceOldSite(payload: unknown): Promise<FenceResult> {
      const p = parseWith(z.extend(base, { site }), payload, 'fenceOldSite payload');
      const director = directors(p.site);
      const nowMs = deps.now();
      const drainAfterSec = settings.drainAfterSec;
      let result: FenceResult;
      let refusal: string | undefined;
      try {
        await director.setSiteRole('PASSIVE');
        result = { site: p.site, fenced: 'passive', at: iso(nowMs) };
      } catch (error) {
        refusal = (error as Error).message;
        // A director that answered (an auth error, a 4xx) is reachable: fan-outs may use it.
        const unreachable =
          error instanceof DirectorUnavailableError ||
          !(await director.health().then(
            (h) => h.reachable,
            () => true,
          ));
        const told = `${p.site} director could not be told PASSIVE (${refusal})`;
        if (!unreachable) {
          throw new OldSiteNotFencedError(
            `${told}, yet it answers: fan-outs may still land re-points through it, so the roles stay as they are`,
            { cause: error },
          );
        }
        const status = await store.getDirectorStatus(p.site);
        const drain = `it counts as fenced once recorded unreachable for dr.drainAfterSec=${drainAfterSec} s (the longest timeout of the functions that re-point, plus a margin)`;
        if (!status) {
          throw new OldSiteNotFencedError(
            `${told} and the health check has recorded no status for it, so fan-outs that may still run on it cannot be known to have ended; ${drain}`,
            { cause: error },
          );
        }
        if (status.reachable) {
          throw new OldSiteNotFencedError(
            `${told}, but the health check recorded it reachable (since ${iso(status.since)}): fan-outs may still be running on it; ${drain}`,
            { cause: error },
          );
        }
        const elapsedSec = Math.floor((nowMs - status.since) / 1000);
        if (elapsedSec < drainAfterSec) {
          const endsAt = status.since + drainAfterSec * 1000;
          throw new OldSiteNotFencedError(
            `${told}; unreachable since ${iso(status.since)} (${elapsedSec} s): fan-outs that were running on it have ended by ${iso(endsAt)}, ${drainAfterSec - elapsedSec} s from now (dr.drainAfterSec=${drainAfterSec}); the roles change after that`,
            { cause: error },
          );
        }
        result = {
          site: p.site,
          fenced: 'drained',
          at: iso(nowMs),
          unreachableSince: iso(status.since),
          drainAfterSec,
        };
      }
      await store.audit({
        at: result.at,
        kind: 'SITE_FENCED',
        executionId: p.executionId,
        detail: { workflow: p.workflow, ...result, ...(refusal === undefined ? {} : { refusal }) },
      });
      log.info(`${p.site} fenced (${result.fenced}) before the roles change`, { fence: result });
      return result;
    },

    /**
     * Make `active` ACTIVE and the other site PASSIVE, once FenceOldSite has fenced the other
     * site (`fence`, its result: required, so the roles never change over an unfenced site).
     * The order: the old site fenced → the new active director ACTIVE (if it refuses, nothing
     * changed) → the table (conditional on the versions read; its stream records make election
     * move every group). The old director is then told PASSIVE again, best effort (a drained
     * site is unreachable). Idempotent: already in place → `changed: false`.
     */
    async setSiteRoles(payload: unknown) {
      /** The drained site is told PASSIVE if it answers; else it must still be unreachable since the drain. */
      const stillDrained = async (oldSite: SiteName, fence: FenceResult): Promise<void> => {
        try {
          await directors(oldSite).setSiteRole('PASSIVE');
          return;
        } catch (error) {
          const status = await store.getDirectorStatus(oldSite);
          const since =
            fence.unreachableSince === undefined ? Number.NaN : Date.parse(fence.unreachableSince);
          if (
            !(error instanceof DirectorUnavailableError) ||
            !status ||
            status.reachable ||
            status.since > since
          ) {
            throw new OldSiteNotFencedError(
              `${oldSite} was fenced by draining (unreachable since ${fence.unreachableSince ?? '?'}), but it could not be told PASSIVE now (${(error as Error).message}) and is no longer recorded unreachable since then: fan-outs may land through it, so the roles stay as they are`,
              { cause: error },
            );
          }
        }
      };
      const p = parseWith(
        z.extend(base, { active: site, fence: fenceResultSchema }),
        payload,
        'setSiteRoles payload',
      );
      const passive = other(p.active);
      if (p.fence.site !== passive) {
        throw new ValidationError('setSiteRoles payload', [
          { path: 'fence.site', value: p.fence.site, expected: `${passive} (the site giving up ACTIVE)` },
        ]);
      }
      const roles = await store.getSiteRoles();
      const at = nowIso();
      const previous = {
        DC: { role: roles.DC.role, since: roles.DC.since },
        DR: { role: roles.DR.role, since: roles.DR.since },
      };
      const next: Record<SiteName, SiteRole> = { DC: 'PASSIVE', DR: 'PASSIVE' };
      next[p.active] = 'ACTIVE';
      const inPlace = (r: Record<SiteName, { role: SiteRole }>) =>
        r.DC.role === next.DC && r.DR.role === next.DR;
      if (inPlace(roles)) {
        // Already in place, maybe by an earlier attempt whose answer was lost after an undo of
        // the director side: the new director is told ACTIVE again (idempotent) either way.
        await directors(p.active).setSiteRole('ACTIVE');
        return { previous, current: next, changed: false, changedAt: at };
      }
      // A site fenced by draining may have come back since: then it must be told PASSIVE now,
      // before the table moves the groups, or a fan-out that read the old roles lands through it.
      if (p.fence.fenced === 'drained') await stillDrained(passive, p.fence);
      await directors(p.active).setSiteRole('ACTIVE');
      try {
        await store.putSiteRoles(next, roles, at, p.executionId);
      } catch (error) {
        // A lost answer may hide a write that landed: then the switch is done, keep it.
        const after = await store.getSiteRoles().catch(() => undefined);
        if (!after || !inPlace(after)) {
          // Undo the director side so director and table agree again.
          await directors(p.active)
            .setSiteRole(roles[p.active].role)
            .catch((e: unknown) => log.error('could not restore the director role', { error: String(e) }));
          throw error;
        }
        log.warn('the role write failed but landed: the switch is done', { error: String(error) });
      }
      let passiveDirector = 'PASSIVE';
      try {
        await directors(passive).setSiteRole('PASSIVE');
      } catch (error) {
        passiveDirector = `not told (${(error as Error).message}); fenced ${p.fence.fenced}; set it PASSIVE when it is back`;
        log.warn(`${passive} director could not be told PASSIVE again`, { error: String(error) });
      }
      await store.audit({
        at,
        kind: 'SITE_ROLES',
        executionId: p.executionId,
        detail: { workflow: p.workflow, previous, current: next, fence: p.fence, passiveDirector },
      });
      return { previous, current: next, changed: true, changedAt: at, passiveDirector };
    },

    /**
     * Compensation after a caught error. Roles already changed (a later step failed): kept, the
     * operator finishes. Otherwise the table was never written and its roles stand, so each
     * director the workflow may have told otherwise is told its table role again: `target` (the
     * site that was to become ACTIVE) first, then `oldSite` (the site giving up ACTIVE, which
     * FenceOldSite may have set PASSIVE before the failure: it becomes ACTIVE again), so two
     * directors are never ACTIVE at once. Best effort per director (a lost site cannot be told);
     * reports what each was told.
     */
    async compensate(payload: unknown) {
      const p = parseWith(
        z.extend(base, {
          target: z.optional(site),
          oldSite: z.optional(site),
          state: z.optional(z.record(z.string(), z.unknown())),
        }),
        payload,
        'compensate payload',
      );
      const changed = rolesResultSchema.safeParse(p.state?.roles);
      let roles = await store.getSiteRoles();
      // SetSiteRoles writes one site item at a time (demotion first). A failure between its
      // writes (a lost answer) leaves both sites PASSIVE: put the old site back ACTIVE, so the
      // roles really are as they were. A failure after its last write (its answer lost) left
      // the switch done: keep it, like a failure of a later step.
      const switched =
        p.target !== undefined &&
        p.oldSite !== undefined &&
        p.target !== p.oldSite &&
        roles[p.target].role === 'ACTIVE' &&
        roles[p.oldSite].role === 'PASSIVE';
      if (p.target && p.oldSite && p.target !== p.oldSite && !switched) {
        if (roles.DC.role === 'PASSIVE' && roles.DR.role === 'PASSIVE') {
          const back: Record<SiteName, SiteRole> = { DC: 'PASSIVE', DR: 'PASSIVE' };
          back[p.oldSite] = 'ACTIVE';
          await store.putSiteRoles(back, roles, nowIso(), p.executionId);
          log.warn('a half-written role change left both sites PASSIVE: the old site is ACTIVE again', {
            site: p.oldSite,
          });
          roles = await store.getSiteRoles();
        }
      }
      const view = rolesView(roles);
      if ((changed.success && changed.data.changed) || switched) {
        // The switch itself happened; a later step (management URL, listing) failed. Flipping the
        // roles back would move every group again: keep them and let the operator finish. The
        // directors are told the table's roles (the new ACTIVE one may have been undone by a
        // failed attempt whose write landed after all), the ACTIVE one last.
        const sites: SiteName[] = ['DC', 'DR'];
        const told = await tellTableRoles(roles, [
          ...sites.filter((x) => roles[x].role !== 'ACTIVE'),
          ...sites.filter((x) => roles[x].role === 'ACTIVE'),
        ]);
        return {
          rolesChanged: true,
          roles: view,
          directors: told,
          note: 'roles were changed before the failure and are kept',
        };
      }
      const told = await tellTableRoles(
        roles,
        [p.target, p.oldSite].filter((x): x is SiteName => x !== undefined),
      );
      return { rolesChanged: false, roles: view, directors: told, note: 'roles unchanged' };
    },

    /** Point the provisioning server's management URL at `site`. */
    async setManagementUrl(payload: unknown) {
      const p = parseWith(z.extend(base, { site }), payload, 'setManagementUrl payload');
      const url = settings.managementUrls[p.site];
      await directors(p.site).setManagementUrl(url);
      return { site: p.site, url };
    },

    /** CPEs onboarded by secure shell: they keep the old management URL until rebooted. */
    async listSshCpes(payload: unknown) {
      const p = parseWith(z.extend(base, { site }), payload, 'listSshCpes payload');
      const director = directors(p.site) as DrDirector & {
        listSshOnboarded?: () => Promise<{ id: string; name: string; tenantId: string }[]>;
      };
      let cpes: { tenantId: string; id: string; name: string }[] = [];
      if (director.listSshOnboarded) {
        // zWAN: one paged call over every tenant.
        cpes = (await director.listSshOnboarded()).map(({ tenantId, id, name }) => ({ tenantId, id, name }));
      } else {
        for (const tenantId of settings.tenants) {
          for (const cpe of await director.listCpes(tenantId)) {
            if (cpe.onboardedBy === 'ssh') cpes.push({ tenantId, id: cpe.id, name: cpe.name });
          }
        }
      }
      return {
        count: cpes.length,
        cpes: cpes.slice(0, settings.maxListedCpes),
        truncated: cpes.length > settings.maxListedCpes,
      };
    },

    /**
     * Record the approval request (task token) and notify the operators with the approve and
     * reject commands. The state machine then waits until one of them is sent.
     */
    async requestApproval(payload: unknown) {
      const p = parseWith(
        z.extend(base, { taskToken: nonEmpty, summary: z.optional(z.unknown()) }),
        payload,
        'requestApproval payload',
      );
      await store.putApprovalRequest({
        executionId: p.executionId,
        workflow: p.workflow,
        taskToken: p.taskToken,
        at: nowIso(),
      });
      const token = JSON.stringify(p.taskToken);
      await notify(
        'APPROVAL_REQUIRED',
        p.workflow,
        p.executionId,
        `${p.workflow} waits for approval before changing the site roles`,
        [
          'Approve:',
          `  aws stepfunctions send-task-success --task-token ${token} --task-output '{"approved":true,"by":"<you>"}'`,
          'Reject:',
          `  aws stepfunctions send-task-failure --task-token ${token} --error ApprovalRejectedError --cause "<why>"`,
        ].join('\n'),
        { summary: p.summary },
        // The token lets anyone who may call SendTaskSuccess approve: e-mail only, never logged.
        [p.taskToken],
      );
      return { requested: true };
    },

    /** After the approval step: `{ approved: false }` is a rejection too. */
    async checkApproval(payload: unknown) {
      const p = parseWith(
        z.extend(base, {
          approval: z.object({
            approved: z.boolean(),
            // An approver's note never fails the approval: made one line and bounded instead.
            by: z.optional(lenientTextSchema),
            reason: z.optional(lenientTextSchema),
          }),
        }),
        payload,
        'checkApproval payload',
      );
      if (!p.approval.approved) {
        throw new ApprovalRejectedError(
          `${p.workflow} rejected${p.approval.by ? ` by ${p.approval.by}` : ''}: ${p.approval.reason ?? 'no reason given'}`,
        );
      }
      return p.approval;
    },

    /**
     * Failback: flag the ELK files of the DR period (`drrepository/`) and the DC files taken before
     * the failover (`dcrepository/`); the next scheduled Backup run deletes them, not this one.
     */
    async markCleanupPending(payload: unknown) {
      const p = parseWith(
        z.extend(base, { roles: rolesResultSchema }),
        payload,
        'markCleanupPending payload',
      );
      const drActiveSince = p.roles.previous.DR?.since ?? '';
      if (!drActiveSince) {
        throw new ValidationError('markCleanupPending payload', [
          { path: 'roles.previous.DR.since', value: drActiveSince, expected: 'the time DR became ACTIVE' },
        ]);
      }
      const period = { drActiveSince, failbackAt: p.roles.changedAt };
      const plan = planFailbackCleanup(await store.listBackups(), period);
      await store.markCleanupPending(plan.records);
      await store.audit({
        at: nowIso(),
        kind: 'DR_CLEANUP_PENDING',
        executionId: p.executionId,
        detail: { ...period, keys: plan.keys },
      });
      return { ...period, pendingKeys: plan.keys.length };
    },

    /**
     * Scheduled Backup run, after its own backup is verified: delete what a failback flagged.
     * `"trigger": "schedule"` in an execution input proves nothing (anyone who may start the
     * state machine can write it), so the run's start (when it took the lock) must also be one of
     * the Backup schedule's times; otherwise nothing is deleted and the refusal is audited.
     */
    async runPendingCleanup(payload: unknown) {
      const p = parseWith(
        z.extend(base, { startedAt: z.iso.datetime({ offset: true }) }),
        payload,
        'runPendingCleanup payload',
      );
      const startedAt = Date.parse(p.startedAt);
      if (
        !startedOnSchedule(
          parseCron(settings.backupSchedule),
          startedAt,
          settings.scheduleToleranceSec * 1000,
        )
      ) {
        const refused = `trigger "schedule" claimed by a run that did not start at a time of the Backup schedule ${settings.backupSchedule} (took the lock at ${p.startedAt}): nothing deleted; the scheduled run deletes what a failback flagged`;
        await store.audit({
          at: nowIso(),
          kind: 'DR_CLEANUP_REFUSED',
          executionId: p.executionId,
          detail: { startedAt: p.startedAt, schedule: settings.backupSchedule },
        });
        return { deleted: [], refused };
      }
      const plan = planPendingCleanup(await store.listBackups());
      const deleted = await deletePlan(plan, 'failback cleanup (Case1) at the scheduled run', p.executionId);
      return { deleted };
    },

    /** Weekly drill: delete the ELK files of `keep.site`'s backups that `keep` supersedes. */
    async pruneSuperseded(payload: unknown) {
      const p = parseWith(z.extend(base, { keep: backupSummarySchema }), payload, 'pruneSuperseded payload');
      const deleted = await deletePlan(
        planSuperseded(await store.listBackups(p.keep.site), p.keep),
        `superseded by ${p.keep.backupId}`,
        p.executionId,
      );
      return { deleted };
    },

    /** Notify the outcome of a workflow; for a failure also count it (and refresh the backup age). */
    async notify(payload: unknown) {
      const p = parseWith(
        z.extend(base, {
          outcome: z.enum(['SUCCEEDED', 'FAILED', 'SKIPPED']),
          state: z.optional(z.record(z.string(), z.unknown())),
        }),
        payload,
        'notify payload',
      );
      const state = p.state ?? {};
      const input = (state.input ?? {}) as { reason?: string; mode?: string };
      let message: string;
      if (p.outcome === 'FAILED') {
        metrics.put(DR_METRICS.workflowFailed, 1, 'Count');
        if (p.workflow === 'Backup') await publishAge();
        const error = errorInfoSchema.safeParse(state.error);
        message = error.success ? `${error.data.Error}: ${error.data.Cause ?? ''}` : 'failed';
      } else if (p.outcome === 'SKIPPED') {
        message = String((state.skip as { reason?: string } | undefined)?.reason ?? 'nothing to do');
      } else {
        message = `${p.workflow} completed${input.mode ? ` (${input.mode})` : ''}${input.reason ? `: ${input.reason}` : ''}`;
      }
      const kind: DrNoticeKind =
        p.outcome === 'FAILED' ? 'DR_FAILED' : p.outcome === 'SKIPPED' ? 'DR_SKIPPED' : 'DR_SUCCEEDED';
      const detail: Record<string, unknown> = {};
      for (const k of [
        'sites',
        'backup',
        'source',
        'roles',
        'managementUrl',
        'sshCpes',
        'cleanup',
        'pruned',
        'compensation',
        'error',
      ]) {
        if (state[k] !== undefined) detail[k] = state[k];
      }
      await notify(
        kind,
        p.workflow,
        p.executionId,
        `${p.workflow} ${p.outcome.toLowerCase()}`,
        message,
        detail,
      );
      return { kind, message };
    },

    /** Drill skipped: say why (DR is ACTIVE). */
    async explainSkip(payload: unknown) {
      const p = parseWith(base, payload, 'explainSkip payload');
      const view = rolesView(await store.getSiteRoles());
      return {
        skipped: true,
        reason: `${p.workflow}: DR is ACTIVE (since ${view.activeSince || 'the start'}); the drill only runs while DC is ACTIVE`,
      };
    },
  };
  return tasks;
}

/** The DR tasks by name. */
export type DrTasks = ReturnType<typeof createDrTasks>;
/** A task name the state machines may send. */
export type DrTaskName = keyof DrTasks;

/** Names the handler accepts (for validating `task`). */
export const DR_TASK_NAMES = [
  'validateInput',
  'acquireLock',
  'releaseLock',
  'resolveSites',
  'requireActive',
  'planBackup',
  'startBackup',
  'startRestore',
  'pollJob',
  'verifyBackup',
  'publishBackupAge',
  'findLatestBackup',
  'checkDirectorHealthy',
  'fenceOldSite',
  'setSiteRoles',
  'compensate',
  'setManagementUrl',
  'listSshCpes',
  'requestApproval',
  'checkApproval',
  'markCleanupPending',
  'runPendingCleanup',
  'pruneSuperseded',
  'notify',
  'explainSkip',
] as const satisfies readonly DrTaskName[];

/** Run the task named in `payload.task`; an unknown name is a ValidationError. */
export async function runDrTask(tasks: DrTasks, payload: unknown): Promise<unknown> {
  const name = (payload as { task?: unknown } | null)?.task;
  if (typeof name !== 'string' || !(DR_TASK_NAMES as readonly string[]).includes(name)) {
    throw new ValidationError('DR task payload', [
      { path: 'task', value: name, expected: `one of ${DR_TASK_NAMES.join(', ')}` },
    ]);
  }
  return tasks[name as DrTaskName](payload);
}
