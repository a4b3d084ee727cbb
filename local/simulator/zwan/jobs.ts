/**
 * The zWAN simulator's backup and restore job runner. Jobs really write and read objects in the
 * S3 emulator: a backup writes the site director's MSP configuration (its tenants, CPEs with
 * metadata, LANs and tunnel definitions, as `msp-config.ts` describes, taken when the job starts)
 * as one object under the MSP prefix, the ELK data as several objects under the ELK prefix
 * (`dcrepository/…` or `drrepository/…`), and a `manifest.json` (key, bytes, SHA-256 of every
 * object) beside the MSP configuration. A restore reads the manifest and every object it names,
 * checks size and SHA-256, parses and validates the MSP configuration, and only then replaces the
 * site director's configuration with it; any failure (a missing object, a size or checksum
 * mismatch, unparsable JSON, an invalid configuration) ends the job FAILED with the reason and
 * leaves the configuration as it was. Jobs take a configurable time and can be told to fail, hang
 * or corrupt an object (the manifest keeps the original checksum, so verification catches it).
 *
 * The runner works on the configurations of the simulator it is given to (`attach`, called by
 * `createZwanSimulator` and `setJobRunner`).
 */
import { createHash, randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DirectorJob, S3Location } from '../../../shared/director/port.js';
import type { SiteName } from '../../../shared/domain/model.js';
import type { DirectorConfigs, JobRunner } from './job-runner.js';
import { MSP_CONFIG_NAME } from './msp-config.js';

/** One object of a backup, as the job's manifest lists it. */
export interface ManifestEntry {
  key: string;
  bytes: number;
  sha256: string;
}

/** A fault the next job(s) of a site will suffer. */
export type JobFault =
  /** The job ends FAILED (after writing nothing for a restore, part of the objects for a backup). */
  | { kind: 'fail'; message?: string }
  /** The job stays RUNNING forever. */
  | { kind: 'hang' }
  /** A backup overwrites one ELK object with different bytes of the same size after hashing it. */
  | { kind: 'corrupt' };

/** What a director holds after a successful restore (tests and the sandbox read it). */
export interface RestoredState {
  jobId: string;
  from: S3Location;
  objects: ManifestEntry[];
  at: number;
}

/** Options of {@link S3JobRunner}. */
export interface S3JobRunnerOptions {
  s3: S3Client;
  /** How long each job takes (ms), split over its objects. @default 200 */
  jobDurationMs?: number;
  /** Number of ELK objects per backup. @default 3 */
  elkObjects?: number;
  /** Bytes per ELK object. @default 64 KiB */
  elkObjectBytes?: number;
  /** Epoch ms. @default Date.now */
  now?: () => number;
}

interface JobRecord {
  job: DirectorJob;
  site: SiteName;
  startedAt: number;
  finishedAt?: number;
}

/** The manifest object's name under the MSP prefix. */
export const MANIFEST_NAME = 'manifest.json';

const sha256 = (body: Uint8Array | string): string => createHash('sha256').update(body).digest('hex');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Deterministic pseudo ELK data: ndjson lines padded to exactly `bytes`. */
function elkBody(site: SiteName, index: number, stamp: string, bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `${JSON.stringify({ '@timestamp': stamp, site, shard: index, seq: i, msg: 'tunnel stats' })}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

/** The job runner backed by an S3 (emulator) client. */
export class S3JobRunner implements JobRunner {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly faults: Record<SiteName, JobFault[]> = { DC: [], DR: [] };
  private readonly restored: Record<SiteName, RestoredState[]> = { DC: [], DR: [] };
  private readonly running = new Set<Promise<void>>();
  private configs: DirectorConfigs | undefined;
  /** Job duration in ms; may be changed at any time (benchmarks, the sandbox). */
  jobDurationMs: number;

  constructor(private readonly options: S3JobRunnerOptions) {
    this.jobDurationMs = options.jobDurationMs ?? 200;
  }

  /** Work on these directors' configurations (the simulator calls it when it takes the runner). */
  attach(configs: DirectorConfigs): void {
    this.configs = configs;
  }

  private directorConfigs(): DirectorConfigs {
    if (!this.configs) {
      throw new Error('no director configuration: give this runner to createZwanSimulator or setJobRunner');
    }
    return this.configs;
  }

  /** Queue a fault for the next job of `site` (one job each, in order). */
  injectFault(site: SiteName, fault: JobFault): void {
    this.faults[site].push(fault);
  }

  /** Forget queued faults. */
  clearFaults(): void {
    this.faults.DC = [];
    this.faults.DR = [];
  }

  /** Successful restores into a site's director, oldest first. */
  restoresOf(site: SiteName): readonly RestoredState[] {
    return this.restored[site];
  }

  /** Every job started so far, with its measured run time (ms) once finished. */
  history(): { site: SiteName; job: DirectorJob; runMs?: number }[] {
    return [...this.jobs.values()].map((r) => ({
      site: r.site,
      job: r.job,
      ...(r.finishedAt !== undefined ? { runMs: r.finishedAt - r.startedAt } : {}),
    }));
  }

  /** Resolve once every background job has settled (hung jobs excluded). */
  async idle(): Promise<void> {
    await Promise.all([...this.running]);
  }

  startBackup(site: SiteName, target: S3Location): DirectorJob {
    return this.start(site, 'backup', (record, fault) => this.runBackup(record, target, fault));
  }

  startRestore(site: SiteName, source: S3Location): DirectorJob {
    return this.start(site, 'restore', (record, fault) => this.runRestore(record, source, fault));
  }

  getJob(_site: SiteName, jobId: string): DirectorJob | undefined {
    const record = this.jobs.get(jobId);
    return record ? structuredClone(record.job) : undefined;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private start(
    site: SiteName,
    kind: DirectorJob['kind'],
    work: (record: JobRecord, fault: JobFault | undefined) => Promise<void>,
  ): DirectorJob {
    const record: JobRecord = {
      site,
      startedAt: Date.now(),
      job: { jobId: `${kind}-${site.toLowerCase()}-${randomUUID()}`, kind, state: 'RUNNING', progressPct: 0 },
    };
    this.jobs.set(record.job.jobId, record);
    const fault = this.faults[site].shift();
    if (fault?.kind !== 'hang') {
      const p = work(record, fault)
        .catch((error: unknown) => {
          record.job.state = 'FAILED';
          record.job.error = error instanceof Error ? error.message : String(error);
        })
        .finally(() => {
          record.finishedAt = Date.now();
          this.running.delete(p);
        });
      this.running.add(p);
    }
    return structuredClone(record.job);
  }

  private async put(bucket: string, key: string, body: Uint8Array | string): Promise<ManifestEntry> {
    await this.options.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    return { key, bytes: Buffer.byteLength(body), sha256: sha256(body) };
  }

  private async runBackup(record: JobRecord, target: S3Location, fault: JobFault | undefined): Promise<void> {
    const site = record.site;
    const count = this.options.elkObjects ?? 3;
    const bytes = this.options.elkObjectBytes ?? 64 * 1024;
    const stepMs = this.jobDurationMs / (count + 2);
    const stamp = new Date(this.now()).toISOString();
    const manifest: ManifestEntry[] = [];
    const config = this.directorConfigs().exportConfig(site);
    manifest.push(
      await this.put(target.bucket, `${target.mspPrefix}${MSP_CONFIG_NAME}`, JSON.stringify(config)),
    );
    for (let i = 0; i < count; i++) {
      await sleep(stepMs);
      if (fault?.kind === 'fail' && i === Math.floor(count / 2)) {
        throw new Error(fault.message ?? `simulated backup failure at ELK object ${i}`);
      }
      const key = `${target.elkPrefix}elk-${String(i).padStart(4, '0')}.ndjson`;
      manifest.push(await this.put(target.bucket, key, elkBody(site, i, stamp, bytes)));
      record.job.progressPct = Math.round(((i + 1) / (count + 1)) * 100);
    }
    await this.put(target.bucket, `${target.mspPrefix}${MANIFEST_NAME}`, JSON.stringify(manifest));
    if (fault?.kind === 'corrupt') {
      // Same size, different bytes: only the checksum can tell.
      const victim = manifest[manifest.length - 1] as ManifestEntry;
      const body = Buffer.alloc(victim.bytes, 0x2a);
      await this.options.s3.send(
        new PutObjectCommand({ Bucket: target.bucket, Key: victim.key, Body: body }),
      );
    }
    await sleep(stepMs);
    record.job.manifest = manifest;
    record.job.progressPct = 100;
    record.job.state = 'SUCCEEDED';
  }

  private async get(bucket: string, key: string, what: string): Promise<Buffer> {
    let out;
    try {
      out = await this.options.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (cause) {
      const why = (cause as Error).name === 'NoSuchKey' ? 'it does not exist' : (cause as Error).message;
      throw new Error(`restore: cannot read ${what} s3://${bucket}/${key}: ${why}`, { cause });
    }
    if (!out.Body) throw new Error(`restore: ${what} s3://${bucket}/${key} has no body`);
    return Buffer.from(await out.Body.transformToByteArray());
  }

  private async runRestore(
    record: JobRecord,
    source: S3Location,
    fault: JobFault | undefined,
  ): Promise<void> {
    if (fault?.kind === 'fail') throw new Error(fault.message ?? 'simulated restore failure');
    const configs = this.directorConfigs();
    const manifestKey = `${source.mspPrefix}${MANIFEST_NAME}`;
    const manifest = parseManifest(await this.get(source.bucket, manifestKey, 'the manifest'), manifestKey);
    const mspKey = `${source.mspPrefix}${MSP_CONFIG_NAME}`;
    if (!manifest.some((e) => e.key === mspKey)) {
      throw new Error(`restore: the manifest ${manifestKey} lists no MSP configuration (${mspKey})`);
    }
    const stepMs = this.jobDurationMs / (manifest.length + 1);
    let mspBody: Buffer | undefined;
    for (const [i, entry] of manifest.entries()) {
      await sleep(stepMs);
      const body = await this.get(source.bucket, entry.key, 'the backup object');
      if (body.length !== entry.bytes) {
        throw new Error(
          `restore: ${entry.key} does not match the manifest: ${body.length} bytes, the manifest says ${entry.bytes}`,
        );
      }
      if (sha256(body) !== entry.sha256) {
        throw new Error(`restore: ${entry.key} does not match the manifest: its SHA-256 differs`);
      }
      if (entry.key === mspKey) mspBody = body;
      record.job.progressPct = Math.round(((i + 1) / manifest.length) * 100);
    }
    let config: unknown;
    try {
      config = JSON.parse((mspBody as Buffer).toString('utf8'));
    } catch (cause) {
      throw new Error(`restore: ${mspKey} is not valid JSON: ${(cause as Error).message}`, { cause });
    }
    // Validated whole before anything is replaced: a bad configuration changes nothing.
    configs.importConfig(record.site, config);
    record.job.manifest = manifest;
    record.job.state = 'SUCCEEDED';
    this.restored[record.site].push({
      jobId: record.job.jobId,
      from: source,
      objects: manifest,
      at: this.now(),
    });
  }
}

/** A manifest object's entries, or an Error saying what is wrong with it. */
function parseManifest(body: Buffer, key: string): ManifestEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new Error(`restore: the manifest ${key} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const ok =
    Array.isArray(raw) &&
    raw.every(
      (e: Partial<ManifestEntry> | null) =>
        typeof e?.key === 'string' &&
        Number.isInteger(e.bytes) &&
        typeof e.sha256 === 'string' &&
        /^[0-9a-f]{64}$/.test(e.sha256),
    );
  if (!ok) throw new Error(`restore: the manifest ${key} is not a list of { key, bytes, sha256 }`);
  return raw as ManifestEntry[];
}
