/**
 * Adapters of the DR ports: the state table (through the StateRepository), the backup bucket
 * (streamed SHA-256, deletes one by one), SNS, Powertools metrics, and recorders for tests and
 * the sandbox. `createDrDeps` wires them for the Lambda handler, the tests and the sandbox.
 */
import { redactDeep } from '../redact.js';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Config, ControllerMode } from '../config/schema.js';
import { observeOnly } from '../director/observe.js';
import type { DrDirector } from '../director/port.js';
import type { SiteName } from '../domain/model.js';
import { ConcurrentUpdateError, ConfigError, WorkflowLockedError } from '../errors.js';
import { metrics as powertoolsMetrics, type LogSink } from '../observability.js';
import type { StateRepository } from '../store/state-repo.js';
import type { BackupRecord } from './layout.js';
import type {
  DrDeps,
  DrMetrics,
  DrMetricUnit,
  DrNotice,
  DrNotifier,
  DrSettings,
  DrStore,
  ObjectCheck,
  ObjectStore,
} from './ports.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** Fields of a BackupRecord (the stored item also carries pk, sk, version…). */
const RECORD_FIELDS = [
  'site',
  'at',
  'backupId',
  'jobId',
  'location',
  'objects',
  'totalBytes',
  'verifiedAt',
  'status',
  'trigger',
  'executionId',
  'prunedAt',
  'cleanupPending',
] as const;

function toRecord(item: object): BackupRecord {
  const source = item as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of RECORD_FIELDS) if (source[f] !== undefined) out[f] = source[f];
  return out as unknown as BackupRecord;
}

/** The DR store over the shared StateRepository (site roles, lock, backup records, audit). */
export function stateRepoDrStore(repo: StateRepository): DrStore {
  return {
    async getSiteRoles() {
      const items = await repo.getSiteItems();
      const roles = await repo.getSiteRoles();
      const state = (site: SiteName) => ({
        role: roles[site],
        since: items[site] ? iso(items[site].updatedAt) : '',
        version: items[site]?.version ?? 0,
      });
      return { DC: state('DC'), DR: state('DR') };
    },
    async putSiteRoles(next, expected, _at, by) {
      const ok = await repo.setSiteRoles(next, {
        expectedVersions: {
          DC: expected.DC.version === 0 ? undefined : expected.DC.version,
          DR: expected.DR.version === 0 ? undefined : expected.DR.version,
        },
        reason: `DR workflow ${by}`,
        by,
      });
      if (!ok) throw new ConcurrentUpdateError('site roles changed while the DR workflow was setting them');
    },
    async acquireLock(holder, workflow, _nowMs, ttlSec) {
      const result = await repo.acquireLock(holder, ttlSec);
      if (!result.acquired) {
        const h = result.holder;
        throw new WorkflowLockedError(
          `${workflow} refused: another DR workflow holds the lock${
            h ? ` (${h.owner}, since ${iso(h.acquiredAt)}, expires ${iso(h.expiresAt * 1000)})` : ''
          }`,
        );
      }
    },
    async getDirectorStatus(site) {
      const item = await repo.loadDirectorStatus(site);
      return item ? { reachable: item.reachable, since: item.since } : undefined;
    },
    releaseLock: (holder) => repo.releaseLock(holder),
    async putBackup(record) {
      await repo.recordBackup(record);
    },
    async listBackups(site) {
      const sites: SiteName[] = site ? [site] : ['DC', 'DR'];
      const lists = await Promise.all(sites.map((s) => repo.listBackups(s)));
      return lists
        .flat()
        .map(toRecord)
        .sort((a, b) => a.at.localeCompare(b.at));
    },
    async markPruned(records, at) {
      for (const r of records) {
        await repo.recordBackup({ ...r, status: 'PRUNED', prunedAt: at, cleanupPending: false });
        await repo.markCleanupPending(r.site, r.at, false);
      }
    },
    async markCleanupPending(records) {
      for (const r of records) await repo.markCleanupPending(r.site, r.at, true);
    },
    async putApprovalRequest(request) {
      await repo.writeAudit({
        ...request,
        kind: 'DR_APPROVAL_REQUESTED',
        at: Date.parse(request.at),
        atIso: request.at,
      });
    },
    async audit(event) {
      await repo.writeAudit({ ...event, at: Date.parse(event.at), atIso: event.at });
    },
  };
}

/** The backup bucket: streamed verification, deletes one key at a time (s3rver's DeleteObjects bug). */
export function s3ObjectStore(s3: S3Client, bucket: string): ObjectStore {
  return {
    async verifyObject(key, expected): Promise<ObjectCheck> {
      let body: Readable;
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        body = out.Body as Readable;
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return { key, ok: false };
        throw error;
      }
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        bytes += buf.length;
        hash.update(buf);
      }
      const sha256 = hash.digest('hex');
      return { key, ok: bytes === expected.bytes && sha256 === expected.sha256, bytes, sha256 };
    },
    async deleteKeys(keys) {
      for (const key of keys) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
  };
}

/** Publishes DR notices to one SNS topic (subject ASCII, ≤ 100 characters). */
export class SnsDrNotifier implements DrNotifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}
  async notify(raw: DrNotice): Promise<void> {
    const notice = redactDeep(raw);
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: `[${notice.kind}] ${notice.subject}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
        Message: `${notice.message}\n\n${JSON.stringify(notice, null, 2)}`,
        MessageAttributes: { kind: { DataType: 'String', StringValue: notice.kind } },
      }),
    );
  }
}

/** Records DR notices (tests read `notices`); prints one line each when `print` is set. */
export class RecordingDrNotifier implements DrNotifier {
  readonly notices: DrNotice[] = [];
  constructor(private readonly print?: (line: string) => void) {}
  async notify(notice: DrNotice): Promise<void> {
    this.notices.push(notice);
    this.print?.(`[${notice.kind}] ${notice.subject}: ${notice.message.split('\n')[0]}`);
  }
}

/** DR metrics into the shared Powertools EMF buffer (flushed by withObservability). */
export const powertoolsDrMetrics: DrMetrics = {
  put(name, value, unit) {
    const units: Record<DrMetricUnit, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
      Count: MetricUnit.Count,
      Bytes: MetricUnit.Bytes,
      Seconds: MetricUnit.Seconds,
      None: MetricUnit.NoUnit,
    };
    powertoolsMetrics.addMetric(name, units[unit], value);
  },
};

/** Records every metric value (tests, sandbox, benchmark). */
export class RecordingDrMetrics implements DrMetrics {
  readonly values: { name: string; value: number; unit: DrMetricUnit }[] = [];
  put(name: string, value: number, unit: DrMetricUnit): void {
    this.values.push({ name, value, unit });
  }
  /** Every value recorded for `name`, oldest first. */
  of(name: string): number[] {
    return this.values.filter((v) => v.name === name).map((v) => v.value);
  }
}

/**
 * Marks settings made from an observe-mode configuration, so that {@link createDrDeps} refuses
 * the director writes even when its caller does not pass `mode` (fail safe; copied by a spread).
 */
const OBSERVE_SETTINGS = Symbol('DR settings of an observe-mode configuration');

/** DR settings from the configuration (zWAN only: Meraki has no director backup). */
export function drSettings(config: Config, bucket: string, overrides: Partial<DrSettings> = {}): DrSettings {
  if (config.director.kind !== 'zwan') {
    throw new ConfigError('configuration', [
      {
        path: 'director.kind',
        value: config.director.kind,
        expected: 'zwan (DR workflows need zWAN directors)',
      },
    ]);
  }
  const sites = config.director.sites;
  const url = (s: SiteName) => sites[s].managementUrl ?? new URL(sites[s].baseUrl).origin;
  const settings: DrSettings = {
    bucket,
    managementUrls: { DC: url('DC'), DR: url('DR') },
    tenants: config.director.tenants,
    maxJobPolls: 60,
    lockTtlSec: 7 * 3600,
    maxListedCpes: 200,
    drainAfterSec: config.dr.drainAfterSec,
    backupSchedule: config.backup.schedule,
    scheduleToleranceSec: 600,
    ...overrides,
  };
  return config.mode === 'observe' ? Object.assign(settings, { [OBSERVE_SETTINGS]: true }) : settings;
}

/**
 * Wire the DR tasks' dependencies. In observe mode (`mode`, or settings from {@link drSettings} of
 * an observe-mode configuration) every director write is refused (director/observe.ts): a workflow
 * fails at its first one (a backup or restore start, before any site role changes), quoting the
 * ObserveModeError, through its failure path (DR_FAILED, lock released).
 */
export function createDrDeps(options: {
  /** @default act */
  mode?: ControllerMode;
  repo: StateRepository;
  s3: S3Client;
  settings: DrSettings;
  directors: (site: SiteName) => DrDirector;
  notifier: DrNotifier;
  metrics: DrMetrics;
  log: LogSink;
  now?: () => number;
}): DrDeps {
  return {
    store: stateRepoDrStore(options.repo),
    objects: s3ObjectStore(options.s3, options.settings.bucket),
    directors:
      options.mode === 'observe' || OBSERVE_SETTINGS in options.settings
        ? (site) =>
            observeOnly(options.directors(site), {
              log: options.log,
              metrics: {
                count: (name, value = 1) => options.metrics.put(name, value, 'Count'),
                durationMs: () => undefined,
              },
            })
        : options.directors,
    notifier: options.notifier,
    metrics: options.metrics,
    log: options.log,
    now: options.now ?? Date.now,
    settings: options.settings,
  };
}
