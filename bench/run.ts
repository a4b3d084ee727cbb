/**
 * `npm run bench -- <name>`: run bench/<name>.ts's exported run function (`run`, or the one
 * export named `run…Bench`); without a name, every benchmark in bench/ in turn. Benchmarks are
 * not tests: they print and write figures under bench/results/, and assert nothing.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// Benchmarks import the AWS SDK lazily (per benchmark): quiet its Node 20 notice for all of them.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** Modules of a benchmark that are not benchmarks of their own. */
const PARTS = new Set(['meraki-detection.ts', 'meraki-processes.ts']);

/** The benchmark names (bench/<name>.ts, except this file and {@link PARTS}). */
export function benchmarkNames(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.d.ts') && !PARTS.has(f))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** Import bench/<name>.ts and call its run function. */
export async function runBenchmark(name: string): Promise<unknown> {
  if (!benchmarkNames().includes(name)) {
    throw new Error(
      `unknown benchmark ${JSON.stringify(name)}: expected one of ${benchmarkNames().join(', ')}`,
    );
  }
  const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as Record<string, unknown>;
  const candidates = Object.entries(mod).filter(
    ([key, value]) => typeof value === 'function' && (key === 'run' || /^run\w*Bench$/.test(key)),
  );
  const fn = (mod.run ?? (candidates.length === 1 ? candidates[0]?.[1] : undefined)) as
    (() => Promise<unknown>) | undefined;
  if (!fn) {
    throw new Error(
      `bench/${name}.ts must export \`run\` or exactly one \`run…Bench\` function (found: ${
        candidates.map(([k]) => k).join(', ') || 'none'
      })`,
    );
  }
  return fn();
}

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const todo = names.length > 0 ? names : benchmarkNames();
  for (const name of todo) {
    console.log(`\n=== bench ${name} ===`);
    await runBenchmark(name);
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
