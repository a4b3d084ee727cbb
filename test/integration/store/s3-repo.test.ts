import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ValidationError } from '../../../shared/errors.js';
import { BackupStore } from '../../../shared/store/s3-repo.js';
import { createTestBucket, type TestBucket } from '../../helpers/ddb.js';

const sha256 = (data: Buffer, encoding: 'hex' | 'base64' = 'hex'): string =>
  createHash('sha256').update(data).digest(encoding);

describe('BackupStore (S3 emulator)', () => {
  let fixture: TestBucket;
  let store: BackupStore;
  const put = (key: string, body: Buffer | string) =>
    fixture.client.send(new PutObjectCommand({ Bucket: fixture.bucket, Key: key, Body: body }));

  beforeAll(async () => {
    fixture = await createTestBucket();
    store = new BackupStore(fixture.client);
  });
  afterAll(() => fixture.client.destroy());

  it('verifies a streamed multi-megabyte object by size and SHA-256 (hex or base64)', async () => {
    const data = randomBytes(6 * 1024 * 1024 + 17);
    // Uploaded as a stream in parts, the way a director's backup job would write it.
    await new Upload({
      client: fixture.client,
      params: { Bucket: fixture.bucket, Key: 'dcrepository/s1/elk.bin', Body: Readable.from([data]) },
      partSize: 5 * 1024 * 1024,
    }).done();
    const hex = await store.verifyObject(fixture.bucket, 'dcrepository/s1/elk.bin', {
      bytes: data.length,
      sha256: sha256(data),
    });
    expect(hex).toMatchObject({
      ok: true,
      problems: [],
      actual: { bytes: data.length, sha256: sha256(data) },
    });
    const b64 = await store.verifyObject(fixture.bucket, 'dcrepository/s1/elk.bin', {
      bytes: data.length,
      sha256: sha256(data, 'base64'),
    });
    expect(b64.ok).toBe(true);
  });

  it('detects a size mismatch, a hash mismatch and a missing object', async () => {
    const data = Buffer.from('msp configuration v1');
    await put('msp/DC/s1/config.json', data);
    const size = await store.verifyObject(fixture.bucket, 'msp/DC/s1/config.json', {
      bytes: data.length + 1,
      sha256: sha256(data),
    });
    expect(size).toMatchObject({ ok: false, problems: ['size'], actual: { bytes: data.length } });
    const other = Buffer.from('msp configuration v2');
    const hash = await store.verifyObject(fixture.bucket, 'msp/DC/s1/config.json', {
      bytes: data.length,
      sha256: sha256(other),
    });
    expect(hash).toMatchObject({ ok: false, problems: ['sha256'], actual: { sha256: sha256(data) } });
    const missing = await store.verifyObject(fixture.bucket, 'msp/DC/s1/nope.json', {
      bytes: 1,
      sha256: sha256(data),
    });
    expect(missing).toMatchObject({ ok: false, problems: ['missing'] });
    await expect(
      store.verifyObject(fixture.bucket, 'msp/DC/s1/config.json', { bytes: data.length, sha256: 'abc' }),
    ).rejects.toThrow(ValidationError);
  });

  it('lists keys under a prefix and deletes several keys under one prefix', async () => {
    const keys = ['drrepository/s2/a', 'drrepository/s2/b', 'drrepository/s2/c', 'drrepository/s3/a'];
    await Promise.all(keys.map((k) => put(k, `body of ${k}`)));
    const listed = await store.listKeys(fixture.bucket, 'drrepository/s2/');
    expect(listed.map((o) => [o.key, o.bytes])).toEqual(
      keys.slice(0, 3).map((k) => [k, Buffer.byteLength(`body of ${k}`)]),
    );
    const result = await store.deleteKeys(fixture.bucket, keys.slice(0, 3));
    expect(result).toEqual({ deleted: keys.slice(0, 3), failed: [] });
    expect(await store.listKeys(fixture.bucket, 'drrepository/')).toEqual([
      expect.objectContaining({ key: 'drrepository/s3/a' }),
    ]);
  });

  it('puts and gets small JSON documents', async () => {
    await store.putJson(fixture.bucket, 'msp/DC/manifest.json', { objects: [{ key: 'a', bytes: 1 }] });
    expect(await store.getJson(fixture.bucket, 'msp/DC/manifest.json')).toEqual({
      objects: [{ key: 'a', bytes: 1 }],
    });
    expect(await store.getJson(fixture.bucket, 'msp/DC/none.json')).toBeUndefined();
  });
});
