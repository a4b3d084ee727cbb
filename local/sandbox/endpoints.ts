/**
 * Sandbox part: the endpoints file. Once every part has started, the sandbox writes where its
 * parts listen (the functions' environment: DynamoDB endpoint, table names, the directors in the
 * configuration, the API key of a simulated director, the notices topic) to one JSON file, and
 * removes it when it stops. `npm run invoke` (local/invoke) reads it to run a function's real
 * handler in its own process against this sandbox. The file is
 * `$CPE_FAILOVER_SANDBOX_FILE`, by default `.sandbox/endpoints.json` in the project.
 *
 * Against external directors (`--director-url`) the API key is left out: invoke then takes it from
 * its own environment (`CPE_FAILOVER_API_KEY`).
 *
 * One sandbox owns the file at a time: a second one started while the first runs leaves it alone
 * (and says so); a file left by a sandbox that died is replaced.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { API_KEY_ENV } from '../../shared/director/secrets.js';
import { SandboxNotRunningError } from '../../shared/errors.js';
import type { PartFactory, SandboxContext } from './parts.js';
import type { LocalStateMachine } from './state-machines.js';

/** The environment variable naming the endpoints file. */
export const SANDBOX_FILE_ENV = 'CPE_FAILOVER_SANDBOX_FILE';

/** The format version; a reader refuses others. */
const FORMAT = 1;

/** What the endpoints file holds. */
export interface SandboxEndpoints {
  format: typeof FORMAT;
  /** The sandbox's process (a file whose process is gone is stale). */
  pid: number;
  /** Distinguishes two runs in one process (tests): only the writer removes its file. */
  runId: string;
  /** ISO time the sandbox was ready. */
  startedAt: string;
  director: 'zwan' | 'meraki';
  /** The environment the sandbox gives its functions (without a real director's API key). */
  env: Record<string, string>;
  /** The synthesized functions' timeouts (s), by function name. */
  functionTimeoutsSec: Record<string, number>;
  /** The simulator's control API (`/_sim`), when the director is simulated. */
  simulator?: { origin: string };
  /** Where the timeline takes console operations (`POST`, see ./timeline.ts). */
  timelineUrl?: string;
  /**
   * The synthesized state machines by short name (`Backup`, `Rehearsal`…); the DR ones only when
   * the sandbox runs their bucket (./dr.ts).
   */
  stateMachines?: Record<string, LocalStateMachine>;
}

/** The endpoints file's path: `$CPE_FAILOVER_SANDBOX_FILE`, else `.sandbox/endpoints.json` in the project. */
export function sandboxFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const given = env[SANDBOX_FILE_ENV];
  if (given) return given;
  return fileURLToPath(new URL('../../.sandbox/endpoints.json', import.meta.url));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readRaw(path: string): SandboxEndpoints | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SandboxEndpoints;
  } catch {
    return undefined;
  }
}

/**
 * The running sandbox's endpoints; a SandboxNotRunningError saying what to do when there is no
 * file, a stale one (its process is gone) or one of another format.
 */
export function readSandboxEndpoints(path: string = sandboxFilePath()): SandboxEndpoints {
  const shown = relative(process.cwd(), path) || path;
  const start = 'start one with `npm start` (and keep it running) in another terminal';
  if (!existsSync(path)) throw new SandboxNotRunningError(`no sandbox is running (no ${shown}): ${start}`);
  const found = readRaw(path);
  if (!found || found.format !== FORMAT || typeof found.env !== 'object') {
    throw new SandboxNotRunningError(
      `${shown} is not a sandbox endpoints file of format ${FORMAT} (from another version?): ${start}`,
    );
  }
  if (!processAlive(found.pid)) {
    throw new SandboxNotRunningError(
      `no sandbox is running: ${shown} was left by process ${found.pid}, which has exited; ${start}`,
    );
  }
  return found;
}

/** Writes the endpoints file once every part has started; removes it (if still its own) on stop. */
export const endpointsPart: PartFactory = (options) => {
  const path = sandboxFilePath();
  const runId = randomBytes(6).toString('hex');
  let written = false;
  // Loaded at start: it brings the CDK app's modules, which `npm run invoke` itself never needs.
  let stateMachinesFromTemplate: typeof import('./state-machines.js').stateMachinesFromTemplate;
  const runnableMachines = (
    templates: NonNullable<SandboxContext['assembly']>['templates'],
    env: Record<string, string>,
  ) =>
    Object.fromEntries(
      Object.entries(stateMachinesFromTemplate(templates.stateless, templates.config.region)).filter(
        // The DR task function needs the backup bucket.
        ([, m]) => m.function !== 'dr' || env.BUCKET_NAME !== undefined,
      ),
    );
  return {
    name: 'endpoints',
    async start() {
      ({ stateMachinesFromTemplate } = await import('./state-machines.js'));
    },
    running(ctx) {
      const other = readRaw(path);
      if (other && other.pid !== process.pid && processAlive(other.pid)) {
        ctx.print(
          `endpoints: not written, sandbox process ${other.pid} owns ${path} (npm run invoke talks to that one)`,
        );
        return;
      }
      const env = ctx.functionEnv();
      // A real director's key stays out of files: invoke then needs it in its own environment.
      if (options.merakiExternal || options.zwanExternal) delete env[API_KEY_ENV];
      const endpoints: SandboxEndpoints = {
        format: FORMAT,
        pid: process.pid,
        runId,
        startedAt: new Date(ctx.startedAt).toISOString(),
        director: options.director ?? 'zwan',
        env,
        functionTimeoutsSec: { ...(ctx.assembly?.functionTimeoutsSec ?? {}) },
        ...(ctx.simulator ? { simulator: { origin: ctx.simulator.origin } } : {}),
        ...(ctx.timelineUrl ? { timelineUrl: ctx.timelineUrl } : {}),
        ...(ctx.assembly ? { stateMachines: runnableMachines(ctx.assembly.templates, env) } : {}),
      };
      mkdirSync(dirname(path), { recursive: true });
      // Written whole, then renamed: a reader never sees half a file.
      const tmp = `${path}.${runId}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(endpoints, null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, path);
      written = true;
      ctx.print(
        `endpoints: ${path} (npm run invoke -- <function> [event] runs a function against this sandbox)`,
      );
    },
    async stop() {
      if (!written) return;
      if (readRaw(path)?.runId === runId) rmSync(path, { force: true });
    },
  };
};
