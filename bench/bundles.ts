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
import { availableParallelism, loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import {
  BUNDLING,
  FUNCTION_ENTRIES,
  NODE_MAJOR,
  PROJECT_ROOT,
  functionEnvironment,
  type FunctionName,
} from '../cdk/constructs/function.js';
import { loadConfigFile } from '../shared/config/load.js';

/** Goals from issue 5 §7. */
export const BUNDLE_GOALS = { maxBytes: 250 * 1024, maxInitMs: 100 } as const;

/** Milliseconds of one measurement: median wall-clock time and median CPU time (user + system). */
export interface Timing {
  /** Median wall-clock time (what a caller waits; inflated when other processes share the CPUs). */
  ms: number;
  /** Median CPU time of the process during the measurement (less sensitive to a busy machine). */
  cpuMs: number;
}

/** One function's figures. */
export interface BundleFigures {
  name: FunctionName;
  /** Size of the minified bundle (index.mjs, without its source map). */
  bytes: number;
  /** Median time to import the bundle in a fresh Node process (the goal's figure): SDK included. */
  initMs: number;
  /** Median CPU time of that import. */
  initCpuMs: number;
  /** Every run's import time. */
  runsMs: number[];
  withinGoals: boolean;
  /** The runtime-provided `@aws-sdk/*` packages the bundle imports statically (loaded at init). */
  sdkModules: string[];
  /** Importing only {@link sdkModules} in a fresh process: the SDK's share of the init. */
  sdkInit: Timing;
  /** Importing the bundle in a fresh process whose SDK modules were already loaded: the bundle's own init. */
  ownInit: Timing;
  /**
   * `@aws-sdk/*` packages the bundle imports only with `await import()` on a rare path (not at
   * init), and the cost of loading them on first use (after the init): not part of `initMs`.
   */
  deferredSdk?: { modules: string[] } & Timing;
  /** The largest contributors to the bundle (package or source folder → minified bytes), from esbuild's metafile. */
  largestInputs: Record<string, number>;
  /**
   * For comparison only (not what is deployed): the same bundle with the AWS SDK bundled in
   * instead of loaded from the runtime.
   */
  sdkBundled?: { bytes: number } & Timing;
}

/** Options of {@link runBundlesBench}. */
export interface BundlesBenchOptions {
  /** Fresh-process measurements per function and probe. @default 9 */
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

/** A built bundle: its file and what esbuild's metafile says about it. */
export interface BuiltBundle {
  file: string;
  /** External `@aws-sdk/*` packages imported statically (evaluated at init). */
  sdkModules: string[];
  /** External `@aws-sdk/*` packages imported only dynamically (`await import()`). */
  deferredSdkModules: string[];
  /** Minified bytes per package (node_modules) or source folder (first two path segments). */
  inputs: Record<string, number>;
}

/** Build one function's bundle as deployed. */
export async function buildBundle(
  name: FunctionName,
  outDir = join(BUNDLE_DIR, name),
  options: { bundleSdk?: boolean } = {},
): Promise<BuiltBundle> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'index.mjs');
  const result = await build({
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
    alias: { ...BUNDLING.alias },
    legalComments: BUNDLING.legalComments,
    logLevel: 'warning',
    metafile: true,
  });
  const output =
    result.metafile.outputs[relative(PROJECT_ROOT, outfile)] ??
    Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
  if (!output) throw new Error(`esbuild wrote no bundle for ${name}`);
  const sdk = (kind: 'static' | 'dynamic') => [
    ...new Set(
      output.imports
        .filter((i) => i.external && i.path.startsWith('@aws-sdk/'))
        .filter((i) => (i.kind === 'dynamic-import') === (kind === 'dynamic'))
        .map((i) => i.path),
    ),
  ];
  const staticSdk = sdk('static');
  const inputs: Record<string, number> = {};
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    const key = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split('/').slice(0, 2).join('/');
    inputs[key] = (inputs[key] ?? 0) + bytesInOutput;
  }
  return {
    file: outfile,
    sdkModules: staticSdk,
    deferredSdkModules: sdk('dynamic').filter((m) => !staticSdk.includes(m)),
    inputs,
  };
}

/**
 * Run in a fresh Node process: import BENCH_PRELOAD (untimed, comma-separated), then time the
 * import of BENCH_IMPORT (comma-separated; a bundle must export `handler`). Prints "wallMs cpuMs".
 */
const PROBE_SCRIPT = `
const list = (v) => (v ? v.split(',') : []);
for (const m of list(process.env.BENCH_PRELOAD)) await import(m);
const c0 = process.cpuUsage();
const t0 = performance.now();
for (const m of list(process.env.BENCH_IMPORT)) {
  const mod = await import(m);
  if (m.startsWith('file:') && typeof mod.handler !== 'function') throw new Error('no handler export: ' + m);
}
const wall = performance.now() - t0;
const cpu = process.cpuUsage(c0);
process.stdout.write(wall + ' ' + (cpu.user + cpu.system) / 1000);
`;

/** One fresh-process probe (see {@link PROBE_SCRIPT}), with the deployed environment. */
async function probe(
  env: NodeJS.ProcessEnv,
  imports: string[],
  preload: string[] = [],
): Promise<{ ms: number; cpuMs: number }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--enable-source-maps', '--input-type=module', '-e', PROBE_SCRIPT],
    {
      env: { ...env, BENCH_IMPORT: imports.join(','), BENCH_PRELOAD: preload.join(',') },
      // Bare `@aws-sdk/*` specifiers resolve from the bundle folder (under node_modules).
      cwd: BUNDLE_DIR,
    },
  );
  const [ms, cpuMs] = stdout.trim().split(' ').map(Number);
  return { ms: ms ?? NaN, cpuMs: cpuMs ?? NaN };
}

/** Median wall and CPU time of `runs` probes. */
function summarize(samples: { ms: number; cpuMs: number }[]): Timing {
  return { ms: round(median(samples.map((s) => s.ms))), cpuMs: round(median(samples.map((s) => s.cpuMs))) };
}

/** What `notes` in bench/results/bundles.json says about the figures. */
export const BUNDLES_NOTES = [
  'bytes: the minified index.mjs as the NodejsFunction builds it (cdk/constructs/function.ts BUNDLING: ESM, node22, minify, source map and legal comments beside it, semver aliased to its `gte`), @aws-sdk/* external (the nodejs22.x runtime provides SDK v3).',
  'initMs: median wall-clock time of `await import(bundle)` in a fresh Node process with the deployed environment (NODE_OPTIONS=--enable-source-maps, the configuration JSON, AWS_EXECUTION_ENV set so the Powertools tracer is enabled as under Lambda active tracing). It is the function init: module evaluation, the SDK clients it imports, the Powertools instances; nothing is deferred that every invocation needs. Runtime bootstrap and the first invocation are not included.',
  "The external SDK is real init time in Lambda too: the runtime provides the @aws-sdk packages as files on disk, and Node must read, compile and evaluate them (CommonJS, every command of each client) during the function init, exactly as here. sdkInit is that share (importing only the bundle's static @aws-sdk/* packages in a fresh process); ownInit is the bundle's own share (importing the bundle after those packages were loaded). sdkInit + ownInit ≈ initMs.",
  'deferredSdk: SDK clients the code loads with `await import()` only on a path some invocations never take (e.g. SNS is loaded on the first notification: status never notifies, failover and update-branches only when something changes, pin on every successful pin). Its timing is the cost paid once per container on that first use (measured after the init); it is not in initMs.',
  'cpuMs figures: CPU time (user + system) of the same measurement. This machine has 2 cores shared with other work, so wall-clock figures swing ±50 %; CPU time varies less and is the better figure to compare two versions.',
  "sdkBundled (comparison only, not deployed): the same function with the SDK bundled in (ESM, tree-shaken). It loads faster than the runtime's SDK but is 2–4x the bytes.",
  'Lambda runs nodejs22.x on arm64 with 512 MB (about a third of a vCPU); this machine runs Node 20 on x86-64, so absolute figures differ; the comparisons between versions and between the shares hold.',
];

/** Build and measure every function's bundle; writes bench/results/bundles.json. */
export async function runBundlesBench(options: BundlesBenchOptions = {}): Promise<BundleFigures[]> {
  const runs = options.runs ?? 9;
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
    // The flag is passed on the command line (as NODE_OPTIONS does in Lambda).
    NODE_OPTIONS: '',
    AWS_REGION: config.region,
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    // As under Lambda active tracing: the Powertools tracer is enabled (patches http/https at init).
    AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${NODE_MAJOR}.x`,
    AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const loadBefore = loadavg()[0] ?? 0;
  const names = options.functions ?? (Object.keys(FUNCTION_ENTRIES) as FunctionName[]);
  const figures: BundleFigures[] = [];
  for (const name of names) {
    const built = await buildBundle(name);
    const bytes = statSync(built.file).size;
    const bundleUrl = pathToFileURL(built.file).href;
    // Bare specifiers, resolved from the probe's folder (under node_modules) as the bundle resolves them.
    const sdk = built.sdkModules;
    const deferred = built.deferredSdkModules;
    const total: { ms: number; cpuMs: number }[] = [];
    const sdkOnly: { ms: number; cpuMs: number }[] = [];
    const own: { ms: number; cpuMs: number }[] = [];
    const later: { ms: number; cpuMs: number }[] = [];
    // Interleaved, so a burst of load on the machine hits every probe alike.
    for (let i = 0; i < runs; i += 1) {
      total.push(await probe(env, [bundleUrl]));
      sdkOnly.push(await probe(env, sdk));
      own.push(await probe(env, [bundleUrl], sdk));
      if (deferred.length > 0) later.push(await probe(env, deferred, [...sdk, bundleUrl]));
    }
    const init = summarize(total);
    const entry: BundleFigures = {
      name,
      bytes,
      initMs: init.ms,
      initCpuMs: init.cpuMs,
      runsMs: total.map((t) => round(t.ms)),
      withinGoals: bytes <= BUNDLE_GOALS.maxBytes && init.ms <= BUNDLE_GOALS.maxInitMs,
      sdkModules: built.sdkModules,
      sdkInit: summarize(sdkOnly),
      ownInit: summarize(own),
      ...(deferred.length > 0
        ? { deferredSdk: { modules: built.deferredSdkModules, ...summarize(later) } }
        : {}),
      largestInputs: Object.fromEntries(
        Object.entries(built.inputs)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 10),
      ),
    };
    if (options.compareBundledSdk ?? true) {
      const alt = await buildBundle(name, join(BUNDLE_DIR, `${name}-sdk-bundled`), { bundleSdk: true });
      const altRuns: { ms: number; cpuMs: number }[] = [];
      for (let i = 0; i < runs; i += 1) altRuns.push(await probe(env, [pathToFileURL(alt.file).href]));
      entry.sdkBundled = { bytes: statSync(alt.file).size, ...summarize(altRuns) };
    }
    figures.push(entry);
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    console.log(
      `${name.padEnd(16)} ${kb(bytes).padStart(9)}  init ${entry.initMs.toFixed(0).padStart(4)} ms ` +
        `(cpu ${entry.initCpuMs.toFixed(0)}; SDK ${entry.sdkInit.ms.toFixed(0)}/cpu ${entry.sdkInit.cpuMs.toFixed(0)}, ` +
        `own ${entry.ownInit.ms.toFixed(0)}/cpu ${entry.ownInit.cpuMs.toFixed(0)})` +
        (entry.deferredSdk ? ` deferred ${entry.deferredSdk.ms.toFixed(0)} ms` : '') +
        (entry.withinGoals ? '' : '  (over goal)') +
        (entry.sdkBundled
          ? `  [SDK bundled: ${kb(entry.sdkBundled.bytes)}, ${entry.sdkBundled.ms.toFixed(0)} ms]`
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
        machine: `${process.arch}, ${availableParallelism()} CPUs`,
        /** 1-minute load average when the run started and ended (wall-clock figures grow with it). */
        loadAverage: [round(loadBefore), round(loadavg()[0] ?? 0)],
        notes: BUNDLES_NOTES,
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
