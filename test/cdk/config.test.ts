// A bad configuration fails synth naming the field, the value and what is expected.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildApp } from '../../cdk/build.js';
import { PROJECT_ROOT } from '../../cdk/constructs/function.js';
import { ConfigError } from '../../shared/errors.js';

let root: string;
const example = JSON.parse(readFileSync(join(PROJECT_ROOT, 'config', 'example.json'), 'utf8')) as Record<
  string,
  unknown
>;
function writeConfig(name: string, content: unknown) {
  writeFileSync(join(root, 'config', `${name}.json`), JSON.stringify(content));
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cpe-cdk-config-'));
  mkdirSync(join(root, 'config'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('a wrong value is refused naming the field and the value', () => {
  writeConfig('bad', {
    ...example,
    env: 'bad',
    health: { ...(example.health as object), lossThresholdPct: 150 },
  });
  const error = thrown(() => buildApp({ env: 'bad', root, outdir: join(root, 'out'), skipBundling: true }));
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).issues).toEqual([
    expect.objectContaining({ path: 'health.lossThresholdPct', value: 150 }),
  ]);
  expect((error as Error).message).toMatch(/health\.lossThresholdPct=150/);
});

test('a log retention CloudWatch does not offer is refused naming logRetentionDays', () => {
  writeConfig('retention', { ...example, env: 'retention', logRetentionDays: 31 });
  const error = thrown(() =>
    buildApp({ env: 'retention', root, outdir: join(root, 'out2'), skipBundling: true }),
  );
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as Error).message).toMatch(/logRetentionDays=31: expected one of 1, 3, 5/);
});

test('the app entry exits 1 with the field for a missing configuration (-c env=…)', async () => {
  const run = promisify(execFile);
  const error = (await run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'cdk', 'app.ts')], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      CDK_CONTEXT_JSON: JSON.stringify({ env: 'no-such-env', 'aws:cdk:bundling-stacks': [] }),
      CDK_OUTDIR: join(root, 'out3'),
    },
  }).catch((e: unknown) => e)) as { code: number; stderr: string };
  expect(error.code).toBe(1);
  expect(error.stderr).toMatch(/env="?no-such-env"?: expected a file config\/no-such-env\.json/);
});
