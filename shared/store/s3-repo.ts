/**
 * The backup bucket: list, verify (size + SHA-256, streamed), delete, small JSON documents.
 * Works against S3 and the local S3 emulator (see local/emulators/s3.ts for the client settings).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ValidationError } from '../errors.js';

/** One listed object. */
export interface ListedObject {
  key: string;
  bytes: number;
  /** Epoch ms. */
  lastModified?: number;
  etag?: string;
}

/** What an object must be: its size and SHA-256 (hex, or base64 as S3 checksums are). */
export interface ExpectedObject {
  bytes: number;
  sha256: string;
}

/** Outcome of {@link BackupStore.verifyObject}. */
export interface VerifyResult {
  bucket: string;
  key: string;
  ok: boolean;
  expected: ExpectedObject;
  /** What was found (absent when the object is missing; `sha256` absent when the size differs). */
  actual?: { bytes: number; sha256?: string };
  /** Why it failed: `missing`, `size`, `sha256`. Empty when ok. */
  problems: ('missing' | 'size' | 'sha256')[];
}

/** Result of {@link BackupStore.deleteKeys}. */
export interface DeleteResult {
  deleted: string[];
  failed: { key: string; error: string }[];
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** Backup objects in S3. */
export class BackupStore {
  /**
   * @param s3 the container's S3 client
   * @param options.deleteConcurrency parallel single-object deletes. @default 4
   */
  constructor(
    private readonly s3: S3Client,
    private readonly options: { deleteConcurrency?: number } = {},
  ) {}

  /** Every object under `prefix` (all pages), in key order. */
  async listKeys(bucket: string, prefix: string): Promise<ListedObject[]> {
    const objects: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        objects.push({
          key: o.Key,
          bytes: o.Size ?? 0,
          ...(o.LastModified ? { lastModified: o.LastModified.getTime() } : {}),
          ...(o.ETag ? { etag: o.ETag } : {}),
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  /**
   * Check an object's size (HEAD) and, when it matches, its SHA-256 by streaming the body through
   * the hash (never buffered whole). Never throws for a mismatch or a missing object: see
   * `problems`.
   */
  async verifyObject(bucket: string, key: string, expected: ExpectedObject): Promise<VerifyResult> {
    if (!Number.isInteger(expected.bytes) || expected.bytes < 0) {
      throw new ValidationError('expected object', [
        { path: 'bytes', value: expected.bytes, expected: 'an integer ≥ 0' },
      ]);
    }
    if (!/^[0-9a-fA-F]{64}$/.test(expected.sha256) && !/^[A-Za-z0-9+/]{43}=$/.test(expected.sha256)) {
      throw new ValidationError('expected object', [
        { path: 'sha256', value: expected.sha256, expected: 'a SHA-256 digest (64 hex digits or base64)' },
      ]);
    }
    const result = (actual: VerifyResult['actual'], problems: VerifyResult['problems']): VerifyResult => ({
      bucket,
      key,
      ok: problems.length === 0,
      expected,
      ...(actual ? { actual } : {}),
      problems,
    });
    let size: number;
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      size = head.ContentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return result(undefined, ['missing']);
      throw error;
    }
    if (size !== expected.bytes) return result({ bytes: size }, ['size']);

    let object;
    try {
      object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if (isNotFound(error)) return result(undefined, ['missing']);
      throw error;
    }
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of object.Body as Readable) {
      const buffer = chunk as Buffer;
      bytes += buffer.length;
      hash.update(buffer);
    }
    const digest = hash.digest();
    const hex = digest.toString('hex');
    const matches =
      expected.sha256.length === 64
        ? expected.sha256.toLowerCase() === hex
        : expected.sha256 === digest.toString('base64');
    const problems: VerifyResult['problems'] = [];
    if (bytes !== expected.bytes) problems.push('size');
    if (!matches) problems.push('sha256');
    return result({ bytes, sha256: hex }, problems);
  }

  /**
   * Delete objects one by one (s3rver answers 500 to multi-object deletes under one prefix),
   * with bounded concurrency. A failure is reported, not thrown, so the rest still goes.
   */
  async deleteKeys(bucket: string, keys: readonly string[]): Promise<DeleteResult> {
    const result: DeleteResult = { deleted: [], failed: [] };
    const queue = [...new Set(keys)];
    const worker = async (): Promise<void> => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        try {
          await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
          result.deleted.push(key);
        } catch (error) {
          result.failed.push({ key, error: (error as Error).message ?? String(error) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.deleteConcurrency ?? 4) }, worker));
    result.deleted.sort();
    return result;
  }

  /** Store a small JSON document. */
  async putJson(bucket: string, key: string, value: unknown): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: JSON.stringify(value),
        ContentType: 'application/json',
      }),
    );
  }

  /** Read a small JSON document (undefined when it does not exist). */
  async getJson<T = unknown>(bucket: string, key: string): Promise<T | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = (await object.Body?.transformToString('utf8')) ?? '';
      return JSON.parse(text) as T;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}
