/**
 * Sandbox part: what the DR state machines need beyond the lab, so `npm run invoke` can run them
 * against this sandbox (zWAN, no scenario: the DR scenarios bring their own). An S3 emulator with
 * the backup bucket, the S3 job runner on the sandbox's simulator (its directors' backups and
 * restores really write and read the bucket), and the DR function's environment: `BUCKET_NAME`,
 * the S3 endpoint and the emulator's credentials (DynamoDB Local shares one database whatever
 * the key), checksums only when required (see local/emulators/s3.ts). The state machine
 * definitions go into the endpoints file (./endpoints.ts).
 */
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  createLocalS3Client,
  S3RVER_CREDENTIALS,
  startS3Emulator,
  type S3Emulator,
} from '../emulators/s3.js';
import { S3JobRunner } from '../simulator/zwan/jobs.js';
import { need, type PartFactory } from './parts.js';

/** The sandbox's backup bucket. */
export const SANDBOX_BUCKET = 'cpe-failover-sandbox-backups';

/** A director's backup or restore job takes this long (ms) in the sandbox. */
const JOB_DURATION_MS = 500;

/** The S3 emulator and bucket, and the simulator's S3 job runner. */
export const drPart: PartFactory = (options) => {
  // DR needs the simulator's S3 job runner: not against external directors.
  if (options.director === 'meraki' || options.scenario || options.zwanExternal) return undefined;
  let emulator: S3Emulator | undefined;
  let s3: S3Client | undefined;
  let runner: S3JobRunner | undefined;
  return {
    name: 'dr',
    async start(ctx) {
      const sim = need(ctx, 'simulator', 'dr');
      emulator = await startS3Emulator();
      s3 = createLocalS3Client(emulator.endpoint);
      await s3.send(new CreateBucketCommand({ Bucket: SANDBOX_BUCKET }));
      runner = new S3JobRunner({ s3, jobDurationMs: JOB_DURATION_MS, elkObjects: 3, elkObjectBytes: 4096 });
      sim.setJobRunner(runner);
      ctx.setEnv('BUCKET_NAME', SANDBOX_BUCKET);
      ctx.setEnv('AWS_ENDPOINT_URL_S3', emulator.endpoint);
      ctx.setEnv('AWS_ACCESS_KEY_ID', S3RVER_CREDENTIALS.accessKeyId);
      ctx.setEnv('AWS_SECRET_ACCESS_KEY', S3RVER_CREDENTIALS.secretAccessKey);
      ctx.setEnv('AWS_REQUEST_CHECKSUM_CALCULATION', 'WHEN_REQUIRED');
      ctx.setEnv('AWS_RESPONSE_CHECKSUM_VALIDATION', 'WHEN_REQUIRED');
      ctx.print(
        `DR: S3 emulator ${emulator.endpoint} (bucket ${SANDBOX_BUCKET}), director jobs ${JOB_DURATION_MS} ms; ` +
          'the state machines run with npm run invoke -- <Backup|SwitchoverDcToDr|FailbackDrToDc|WeeklyDrill> <event>',
      );
    },
    async stop() {
      await runner?.idle();
      s3?.destroy();
      await emulator?.stop();
    },
  };
};
