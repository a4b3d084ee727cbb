/**
 * The backup/restore job runner the simulator's zWAN routes call. The default runner finishes
 * every job at once with an empty manifest; `local/simulator/zwan/jobs.ts` (S3JobRunner) really
 * writes and reads objects in the S3 emulator and can be passed to `createZwanSimulator`.
 */
import { randomUUID } from 'node:crypto';
import type { DirectorJob, S3Location } from '../../../shared/director/port.js';
import type { SiteName } from '../../../shared/domain/model.js';

/**
 * What the simulator needs from a job runner. `start*` return the job at once (usually
 * RUNNING) and work in the background; `getJob` reports progress, manifest and errors. Client
 * tokens are the server's business: a repeated start never reaches the runner.
 */
export interface JobRunner {
  startBackup(site: SiteName, target: S3Location): DirectorJob;
  startRestore(site: SiteName, source: S3Location): DirectorJob;
  getJob(site: SiteName, jobId: string): DirectorJob | undefined;
  /** Called by the simulator that runs the jobs, with its directors' configurations. */
  attach?(configs: DirectorConfigs): void;
}

/**
 * The directors' configurations as the simulator's world keeps them: what a backup at a site
 * exports (JSON-ready) and what a restore into a site replaces (validated first; an invalid
 * configuration throws and changes nothing).
 */
export interface DirectorConfigs {
  exportConfig(site: SiteName): unknown;
  importConfig(site: SiteName, config: unknown): void;
}

/** A runner whose jobs succeed at once with an empty manifest (no S3 involved). */
export class InstantJobRunner implements JobRunner {
  private readonly jobs = new Map<string, DirectorJob>();

  private start(site: SiteName, kind: DirectorJob['kind']): DirectorJob {
    const job: DirectorJob = {
      jobId: `${site.toLowerCase()}-${kind}-${randomUUID()}`,
      kind,
      state: 'SUCCEEDED',
      progressPct: 100,
      manifest: [],
    };
    this.jobs.set(`${site}/${job.jobId}`, job);
    return structuredClone(job);
  }

  startBackup(site: SiteName): DirectorJob {
    return this.start(site, 'backup');
  }

  startRestore(site: SiteName): DirectorJob {
    return this.start(site, 'restore');
  }

  getJob(site: SiteName, jobId: string): DirectorJob | undefined {
    const job = this.jobs.get(`${site}/${jobId}`);
    return job && structuredClone(job);
  }
}
