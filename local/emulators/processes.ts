/**
 * Child-process hygiene for the local emulators: every long-running child runs in its own process
 * group, is killed with that group on `stop()`, and is also killed when this Node process exits
 * (normal exit, uncaught error, SIGINT/SIGTERM/SIGHUP) or dies without warning (SIGKILL, via a
 * small shell watchdog that polls the parent's pid).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Process groups still alive, killed on exit. */
const liveGroups = new Set<number>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooksInstalled = false;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  });
  for (const signal of SIGNALS) {
    const onSignal = (): void => {
      for (const pgid of liveGroups) killGroup(pgid, 'SIGTERM');
      // When nobody else handles the signal, restore Node's default (terminate) behaviour.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/** A child process group started by {@link spawnGroup}. */
export interface ManagedProcess {
  /** The shell watchdog (leader of the group). */
  readonly child: ChildProcess;
  /** Process group id (= the watchdog's pid). */
  readonly pgid: number;
  /** Last lines of stdout+stderr, for error messages. */
  output(): string;
  /** Resolves once the group's leader has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM the whole group, SIGKILL after `graceMs`, resolve when no member is left. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const WATCHDOG = [
  'parent=$1; shift',
  '"$@" & child=$!',
  'trap \'kill "$child" 2>/dev/null; wait "$child"; exit 143\' TERM INT HUP',
  'while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 1; done',
  'kill "$child" 2>/dev/null',
  'wait "$child"',
].join('\n');

/**
 * Start `command args…` in a new process group, behind a watchdog that kills it when this process
 * disappears. Output is kept (last 64 KiB) for diagnostics.
 */
export function spawnGroup(
  command: string,
  args: readonly string[],
  options: { cwd?: string } = {},
): ManagedProcess {
  installExitHooks();
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'watchdog', String(process.pid), command, ...args], {
    cwd: options.cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const pgid = child.pid;
  liveGroups.add(pgid);
  let buffer = '';
  const keep = (chunk: Buffer): void => {
    buffer = (buffer + chunk.toString('utf8')).slice(-65536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // Never keep the event loop alive for the child's sake.
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5000): Promise<void> => {
    stopping ??= (async () => {
      killGroup(pgid, 'SIGTERM');
      if (!(await waitUntil(() => !groupAlive(pgid), graceMs))) {
        killGroup(pgid, 'SIGKILL');
        // A reparented zombie may linger until init reaps it; do not wait forever for that.
        await waitUntil(() => !groupAlive(pgid), 2000);
      }
      liveGroups.delete(pgid);
    })();
    return stopping;
  };
  return { child, pgid, output: () => buffer, exited, stop };
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** Inodes of the sockets listening on a TCP port (Linux /proc); undefined where /proc is absent. */
function listeningInodes(port: number): Set<string> | undefined {
  const tables = ['/proc/net/tcp', '/proc/net/tcp6'].filter((f) => existsSync(f));
  if (tables.length === 0) return undefined;
  const inodes = new Set<string>();
  for (const table of tables) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (!local || cols[3] !== '0A') continue; // 0A = LISTEN
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && cols[9])
        inodes.add(cols[9]);
    }
  }
  return inodes;
}

/**
 * Whether a process of group `pgid` is the one listening on `port` (so a readiness probe did not
 * reach another server that grabbed the port first). Undefined when the OS cannot tell (no /proc).
 */
export function groupListensOn(pgid: number, port: number): boolean | undefined {
  const inodes = listeningInodes(port);
  if (inodes === undefined) return undefined;
  if (inodes.size === 0) return false;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces) in parentheses: state ppid pgrp …
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp !== pgid) continue;
      for (const fd of readdirSync(`/proc/${entry}/fd`)) {
        const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) return true;
      }
    } catch {
      // The process went away or is not ours to inspect.
    }
  }
  return false;
}
