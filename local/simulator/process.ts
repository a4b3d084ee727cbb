/**
 * The zWAN simulator in a child process, driven over its HTTP control API (`/_sim/...`).
 * Benchmarks use it so the simulated directors' CPU (routing, JSON, the request log) runs on
 * another core and is not counted as the controller's: on loopback in one event loop the two
 * would share one thread, and every director answer would wait behind the client's work.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SiteName } from '../../shared/domain/model.js';
import { ZWAN_API_PREFIX } from '../../shared/director/zwan/wire.js';
import { generateTopology, type GenerateTopologyOptions } from './topology.js';
import { createZwanSimulator, type SimFaults, type SimRequestRecord } from './zwan/server.js';

/** Options of {@link startSimulatorProcess}. */
export interface SimulatorProcessOptions {
  /** The generated topology to serve. */
  generate: GenerateTopologyOptions;
  /** Added to every director answer. @default 0 */
  latencyMs?: number;
  /** Request log length kept (bodies are never logged). @default 100000 */
  maxLoggedRequests?: number;
}

/** A simulator running in a child process. */
export interface SimulatorProcess {
  /** `http://127.0.0.1:PORT`. */
  readonly origin: string;
  /** A site director's API base URL. */
  url(site: SiteName): string;
  /** Call a fault (`POST /_sim/faults/<action>` with `body`). */
  fault(action: keyof SimFaults, body?: Record<string, unknown>): Promise<void>;
  /** The request log (oldest first), without bodies. */
  requests(): Promise<SimRequestRecord[]>;
  clearRequests(): Promise<void>;
  /** Stop the child (closing its stdin) and wait for it to exit. */
  close(): Promise<void>;
}

const SERVE_FLAG = '--serve-zwan-sim';
const here = fileURLToPath(import.meta.url);

async function control(origin: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${origin}/_sim/${path}`, {
    method,
    ...(body !== undefined
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`simulator ${method} /_sim/${path} → HTTP ${res.status}: ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** Start the simulator in a child process (same Node flags as this one, e.g. tsx's loader). */
export async function startSimulatorProcess(options: SimulatorProcessOptions): Promise<SimulatorProcess> {
  const child = spawn(process.execPath, [...process.execArgv, here, SERVE_FLAG, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const origin = await new Promise<string>((ready, fail) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^READY (\S+)$/.exec(line);
      if (m) ready(m[1] as string);
    });
    child.once('exit', (code) => fail(new Error(`simulator process exited (${code}) before it was ready`)));
  });
  return {
    origin,
    url: (site) => `${origin}/sites/${site}${ZWAN_API_PREFIX}`,
    fault: async (action, body = {}) => void (await control(origin, 'POST', `faults/${action}`, body)),
    requests: async () =>
      ((await control(origin, 'GET', 'requests')) as { requests: SimRequestRecord[] }).requests,
    clearRequests: async () => void (await control(origin, 'DELETE', 'requests')),
    close: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

/** Child mode: serve the topology, print `READY <origin>`, stop when stdin closes. */
async function serve(options: SimulatorProcessOptions): Promise<void> {
  const sim = await createZwanSimulator({
    topology: generateTopology(options.generate),
    latencyMs: options.latencyMs ?? 0,
    logBodies: false,
    maxLoggedRequests: options.maxLoggedRequests ?? 100_000,
  });
  process.stdout.write(`READY ${sim.origin}\n`);
  process.stdin.on('end', () => void sim.close().then(() => process.exit(0)));
  process.stdin.resume();
}

if (process.argv[1] && resolve(process.argv[1]) === here && process.argv[2] === SERVE_FLAG) {
  serve(JSON.parse(process.argv[3] ?? '{}') as SimulatorProcessOptions).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
