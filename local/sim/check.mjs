#!/usr/bin/env node
/**
 * `npm run check -- …`: runs local/sim/main.ts on the checker's Node.js (the Lambda runtime's
 * major, ../lambda-node.mjs) with the checker's V8 flags and TypeScript loader, passing the
 * arguments, the output and the exit status (a signal as the same signal) through.
 * CHECKER_REQUIRE_LAMBDA_NODE=1 (set by .ci/run) makes running on another Node an error.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CHECKER_EXEC_ARGV, checkerNode } from '../lambda-node.mjs';

const node = checkerNode();
if (node.note) {
  console.warn(`check: ${node.note}`);
  if (process.env.CHECKER_REQUIRE_LAMBDA_NODE === '1') {
    console.error(
      'check: CHECKER_REQUIRE_LAMBDA_NODE=1: the checker must run on the Lambda runtime’s Node.js',
    );
    process.exit(2);
  }
}
const child = spawn(
  node.path,
  [...CHECKER_EXEC_ARGV, fileURLToPath(new URL('./main.ts', import.meta.url)), ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
const forward = (signal) => child.kill(signal);
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
for (const signal of signals) process.on(signal, forward);
child.on('error', (error) => {
  console.error(`check: could not start ${node.path}: ${error.message}`);
  process.exit(2);
});
child.on('exit', (code, signal) => {
  if (signal) {
    // Die of the same signal, as the checker did, so npm and CI see it rather than an exit code.
    for (const s of signals) process.off(s, forward);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
