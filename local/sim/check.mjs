#!/usr/bin/env node
/**
 * `npm run check -- …`: runs local/sim/main.ts on the checker's Node.js (the Lambda runtime's
 * major, ../lambda-node.mjs) with the checker's V8 flags and TypeScript loader, passing the
 * arguments, the output and the exit code through.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CHECKER_V8_FLAGS, checkerNode } from '../lambda-node.mjs';

const node = checkerNode();
if (node.note) console.warn(`check: ${node.note}`);
const child = spawn(
  node.path,
  [
    ...CHECKER_V8_FLAGS,
    '--import',
    new URL('./loader.mjs', import.meta.url).href,
    fileURLToPath(new URL('./main.ts', import.meta.url)),
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
