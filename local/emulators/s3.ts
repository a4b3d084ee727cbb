/**
 * An S3-compatible server on loopback (s3rver), driven with the real `@aws-sdk/client-s3`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** A running S3 emulator. */
export interface S3Emulator {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** Close the server (and delete its directory when it was a temporary one). Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startS3Emulator}. */
export interface StartS3EmulatorOptions {
  /** Where objects are stored. @default a fresh temporary directory, deleted on stop */
  directory?: string;
  /** TCP port. @default 0 (a free port) */
  port?: number;
}

/** The access key s3rver accepts (both id and secret). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** Start s3rver on 127.0.0.1. */
export async function startS3Emulator(options: StartS3EmulatorOptions = {}): Promise<S3Emulator> {
  const temporary = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'cpe-failover-s3-')));
  const server = new S3rver({ address: '127.0.0.1', port: options.port ?? 0, silent: true, directory });
  const address = await server.run();
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    stop: () =>
      (stopping ??= (async () => {
        const closed = server.close();
        // Keep-alive sockets of SDK clients would otherwise hold close() open.
        server.httpServer?.closeAllConnections();
        await closed;
        if (temporary) await rm(directory, { recursive: true, force: true });
      })()),
  };
}

/**
 * An S3Client for the emulator: path-style addressing, s3rver's credentials, and checksums only
 * when required (otherwise a streamed PutObject stores the aws-chunked framing as the content).
 */
export function createLocalS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
