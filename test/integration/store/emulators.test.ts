import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createTestBucket, createTestTable } from '../../helpers/ddb.js';

describe('test emulators (global setup)', () => {
  it('creates a table from the definition with stream and TTL', async () => {
    const table = await createTestTable();
    try {
      const { Table } = await table.client.send(new DescribeTableCommand({ TableName: table.tableName }));
      expect(Table?.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(Table?.StreamSpecification).toEqual({
        StreamEnabled: true,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      });
      expect(Table?.LatestStreamArn).toContain(table.tableName);
      const ttl = await table.client.send(new DescribeTimeToLiveCommand({ TableName: table.tableName }));
      expect(ttl.TimeToLiveDescription).toMatchObject({
        AttributeName: 'expiresAt',
        TimeToLiveStatus: 'ENABLED',
      });
    } finally {
      await table.drop();
    }
  });

  it('gives each call a fresh table and bucket', async () => {
    const [a, b] = await Promise.all([createTestTable(), createTestTable()]);
    expect(a.tableName).not.toEqual(b.tableName);
    await Promise.all([a.drop(), b.drop()]);
    const bucket = await createTestBucket();
    await bucket.client.send(
      new PutObjectCommand({ Bucket: bucket.bucket, Key: 'a/b.json', Body: '{"x":1}' }),
    );
    const got = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.bucket, Key: 'a/b.json' }));
    expect(await got.Body?.transformToString()).toBe('{"x":1}');
    bucket.client.destroy();
  });
});
