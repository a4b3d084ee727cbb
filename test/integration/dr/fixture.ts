/**
 * Shared setup of the DR integration tests: the synthesized definitions (the test run's one
 * synthesis, ../../helpers/assembly.ts), a fresh table and bucket per world, and helpers to read
 * the bucket.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  drDefinitionsFromTemplate,
  type DrDefinitions,
  type RunResult,
} from '../../../local/sandbox/scenarios/dr-machines.js';
import {
  createDrWorld,
  type DrWorld,
  type DrWorldOptions,
} from '../../../local/sandbox/scenarios/dr-world.js';
import type { SiteName } from '../../../shared/domain/model.js';
import { testAssembly } from '../../helpers/assembly.js';
import { createTestBucket, createTestTable, type TestTable } from '../../helpers/ddb.js';

let definitions: Promise<DrDefinitions> | undefined;
/** The CDK app's DR state machines (from the test run's synthesized templates). */
export function definitionsOnce(): Promise<DrDefinitions> {
  definitions ??= testAssembly().then(({ templates }) =>
    drDefinitionsFromTemplate(templates.stateless, templates.config.region),
  );
  return definitions;
}

/** A world on a fresh table and bucket, with its cleanup. */
export interface TestDrWorld extends DrWorld {
  table: TestTable;
  bucket: string;
  s3: S3Client;
  /** Every key in the bucket, sorted. */
  keys(prefix?: string): Promise<string[]>;
  /**
   * Record a director's status as the health check would (the DR world runs none): reachable
   * or not since `since` (ISO). FenceOldSite reads it to decide whether an unreachable old site
   * has drained.
   */
  recordDirector(site: SiteName, reachable: boolean, since: string): Promise<void>;
  /** The site loses power (its director stops answering) and the health check recorded it unreachable since `since`. */
  loseSite(site: SiteName, since: string): Promise<void>;
  /** The kinds of the audit events of a UTC day (yyyy-mm-dd), oldest first (one instant's in no set order). */
  auditKinds(day: string): Promise<string[]>;
  dispose(): Promise<void>;
}

export async function createTestDrWorld(
  options: Partial<Omit<DrWorldOptions, 'doc' | 'tableName' | 's3' | 'bucket' | 'definitions'>> = {},
): Promise<TestDrWorld> {
  const [table, bucket, defs] = await Promise.all([
    createTestTable('dr', { ttl: false }),
    createTestBucket('dr'),
    definitionsOnce(),
  ]);
  const world = await createDrWorld({
    doc: table.doc,
    tableName: table.tableName,
    s3: bucket.client,
    bucket: bucket.bucket,
    definitions: defs,
    ...options,
  });
  const recordDirector = async (site: SiteName, reachable: boolean, since: string) => {
    await world.repo.writeDirectorStatus({
      site,
      reachable,
      since: Date.parse(since),
      ...(reachable ? {} : { reason: 'no answer' }),
    });
  };
  return {
    ...world,
    table,
    bucket: bucket.bucket,
    s3: bucket.client,
    async keys(prefix = '') {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await bucket.client.send(
          new ListObjectsV2Command({ Bucket: bucket.bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key);
        token = page.NextContinuationToken;
      } while (token);
      return out.sort();
    },
    recordDirector,
    async loseSite(site, since) {
      world.sim.faults.siteDown(site);
      await recordDirector(site, false, since);
    },
    async auditKinds(day) {
      return (await world.repo.listAuditEvents(day)).map((e) => e.kind).reverse();
    },
    async dispose() {
      await world.close();
      await table.drop();
      bucket.client.destroy();
    },
  };
}

/** Fail with the execution's error, cause and last states when it did not succeed. */
export function expectSucceeded(r: RunResult): void {
  if (r.status !== 'SUCCEEDED') {
    throw new Error(
      `execution FAILED: ${r.error}: ${r.cause}\nlast states: ${r.states.slice(-8).join(' → ')}`,
    );
  }
}
