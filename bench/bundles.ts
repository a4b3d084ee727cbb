/**
 * Bundle benchmark (`npm run bench -- bundles`, or `npx tsx bench/bundles.ts`): builds each
 * function's bundle exactly as deployed (the NodejsFunction's esbuild options from
 * cdk/constructs/function.ts: minified ESM for node22 with `@aws-sdk/*` left to the runtime) and
 * measures, per function, the minified bundle size and the median time to import the bundle in a
 * fresh Node process (cold process, several runs). Writes bench/results/bundles.json.
 * Goals: ≤ 250 KB and ≤ 100 ms each.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import {
  BUNDLING,
  FUNCTION_ENTRIES,
  PROJECT_ROOT,
  functionEnvironment,
  type FunctionName,
} from '../cdk/constructs/function.js';
import { loadConfigFile } from '../shared/config/load.js';

/** Goals from issue 5 §7. */
export const BUNDLE_GOALS = { maxBytes: 250 * 1024, maxInitMs: 100 } as const;

/** One function's figures. */
export interface BundleFigures {
  name: FunctionName;
  /** Size of the minified bundle (index.mjs, without its source map). */
  bytes: number;
  /** Median import time in a fresh Node process. */
  initMs: number;
  /** Every run's import time. */
  runsMs: number[];
  withinGoals: boolean;
  /**
   * For comparison only (not what is deployed): the same bundle with the AWS SDK bundled in
   * instead of loaded from the runtime.
   */
  sdkBundled?: { bytes: number; initMs: number };
}

/** Options of {@link runBundlesBench}. */
export interface BundlesBenchOptions {
  /** Fresh-process imports per function. @default 7 */
  runs?: number;
  /** Result file. @default bench/results/bundles.json */
  outFile?: string;
  /** Functions to measure. @default every function whose handler exists */
  functions?: FunctionName[];
  /** Also measure each bundle with the AWS SDK bundled in. @default true */
  compareBundledSdk?: boolean;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const round = (x: number) => Math.round(x * 10) / 10;

/**
 * Under node_modules so the bundle's bare `@aws-sdk/*` imports resolve to the project's SDK, as
 * they resolve to the runtime's SDK in Lambda.
 */
const BUNDLE_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'cpe-failover-bundles');

/** Build one function's bundle as deployed; returns the bundle file. */
export async function buildBundle(
  name: FunctionName,
  outDir = join(BUNDLE_DIR, name),
  options: { bundleSdk?: boolean } = {},
): Promise<string> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'index.mjs');
  await build({
    entryPoints: [resolve(PROJECT_ROOT, FUNCTION_ENTRIES[name])],
    outfile,
    bundle: true,
    platform: 'node',
    target: BUNDLING.target,
    format: BUNDLING.format,
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    mainFields: [...BUNDLING.mainFields],
    external: options.bundleSdk ? [] : [...BUNDLING.externalModules],
    banner: { js: BUNDLING.banner },
    logLevel: 'warning',
  });
  return outfile;
}

const IMPORT_SCRIPT =
  'const t0 = performance.now(); const m = await import(process.env.BENCH_BUNDLE_URL);' +
  "if (typeof m.handler !== 'function') throw new Error('no handler export');" +
  'process.stdout.write(String(performance.now() - t0));';

/** Time one import of the bundle in a fresh Node process, with the deployed environment. */
async function timeImport(file: string, env: NodeJS.ProcessEnv): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--enable-source-maps', '--input-type=module', '-e', IMPORT_SCRIPT],
    { env: { ...env, BENCH_BUNDLE_URL: pathToFileURL(file).href }, cwd: PROJECT_ROOT },
  );
  return Number(stdout);
}

/** Build and measure every function's bundle; writes bench/results/bundles.json. */
export async function runBundlesBench(options: BundlesBenchOptions = {}): Promise<BundleFigures[]> {
  const runs = options.runs ?? 7;
  const outFile = options.outFile ?? join(PROJECT_ROOT, 'bench', 'results', 'bundles.json');
  const config = loadConfigFile('example');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...functionEnvironment({
      config,
      tableName: 'bench-state',
      idempotencyTableName: 'bench-idempotency',
      topicArn: 'arn:aws:sns:eu-west-1:000000000000:bench',
      bucketName: 'bench-bucket',
      secretName: config.director.secretName,
    }),
    NODE_OPTIONS: '',
    AWS_REGION: config.region,
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
  };
  const names = options.functions ?? (Object.keys(FUNCTION_ENTRIES) as FunctionName[]);
  const figures: BundleFigures[] = [];
  for (const name of names) {
    const file = await buildBundle(name);
    const bytes = statSync(file).size;
    const runsMs: number[] = [];
    for (let i = 0; i < runs; i += 1) runsMs.push(round(await timeImport(file, env)));
    const initMs = round(median(runsMs));
    const entry: BundleFigures = {
      name,
      bytes,
      initMs,
      runsMs,
      withinGoals: bytes <= BUNDLE_GOALS.maxBytes && initMs <= BUNDLE_GOALS.maxInitMs,
    };
    if (options.compareBundledSdk ?? true) {
      const alt = await buildBundle(name, join(BUNDLE_DIR, `${name}-sdk-bundled`), { bundleSdk: true });
      const altRuns: number[] = [];
      for (let i = 0; i < runs; i += 1) altRuns.push(await timeImport(alt, env));
      entry.sdkBundled = { bytes: statSync(alt).size, initMs: round(median(altRuns)) };
    }
    figures.push(entry);
    console.log(
      `${name.padEnd(16)} ${(bytes / 1024).toFixed(1).padStart(7)} KB  init ${initMs.toFixed(1).padStart(6)} ms` +
        (entry.withinGoals ? '' : '  (over goal)') +
        (entry.sdkBundled
          ? `   [SDK bundled: ${(entry.sdkBundled.bytes / 1024).toFixed(1)} KB, ${entry.sdkBundled.initMs.toFixed(1)} ms]`
          : ''),
    );
  }
  mkdirSync(resolve(outFile, '..'), { recursive: true });
  writeFileSync(
    outFile,
    `${JSON.stringify(
      {
        benchmark: 'bundles',
        node: process.version,
        note: 'bundles built with the deployed esbuild options; initMs = median import time in a fresh Node process (this machine runs Node 20, Lambda nodejs22.x)',
        runs,
        goals: BUNDLE_GOALS,
        functions: figures,
      },
      null,
      2,
    )}\n`,
  );
  return figures;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await runBundlesBench();
}
