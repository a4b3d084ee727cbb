import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { assertJava17, startDynamoDbLocal } from '../../../local/emulators/dynamodb-local.js';
import { JavaMissingError } from '../../../local/emulators/errors.js';
import { createTestBucket, createTestTable } from '../../helpers/ddb.js';

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Poll until nothing listens on the port any more (bounded); resolves whether it closed. */
async function closes(port: number, withinMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!(await listening(port))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Run the fixture in a child Node process; resolves with the port it printed and the child. */
function startChild(mode: 'exit' | 'wait') {
  const root = process.cwd();
  // `node --import tsx` (not the tsx CLI, which runs the script in a grandchild process).
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'test/helpers/fixtures/ddb-local-then-exit.ts'), mode],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'], env: process.env },
  );
  const port = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) =>
      reject(new Error(`fixture exited (${code}) before printing a port: ${out}`)),
    );
  });
  return { child, port };
}

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

describe('DynamoDB Local lifecycle', () => {
  it('says how to install Java 17 when there is no Java', () => {
    expect(() => assertJava17('/nonexistent/bin/java')).toThrow(JavaMissingError);
    expect(() => assertJava17('/nonexistent/bin/java')).toThrow(
      /Java 17.*\n.*apt-get install -y openjdk-17-jre-headless/,
    );
  });

  it('stop() leaves nothing listening', async () => {
    const dynamo = await startDynamoDbLocal();
    expect(dynamo.endpoint).toBe(`http://127.0.0.1:${dynamo.port}`);
    expect(await listening(dynamo.port)).toBe(true);
    await dynamo.stop();
    expect(await listening(dynamo.port)).toBe(false);
    await dynamo.stop(); // idempotent
  });

  it.each(['exit', 'wait'] as const)(
    'does not outlive its parent process (%s)',
    async (mode) => {
      const { child, port } = startChild(mode);
      try {
        const p = await port;
        expect(await listening(p)).toBe(true);
        // `exit`: the parent exits on its own (told by closing its stdin); `wait`: it is killed
        // outright (SIGKILL, no hooks run).
        if (mode === 'exit') child.stdin.end();
        else child.kill('SIGKILL');
        expect(await closes(p)).toBe(true);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        child.stdout.destroy();
      }
    },
    60_000,
  );
});
