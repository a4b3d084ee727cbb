/**
 * The bundling shortcuts of cdk/constructs/function.ts BUNDLING stay honest: `semver` is aliased
 * to a module that only has `gte`, so every bundled module that requires semver must use nothing
 * else (checked on the modules esbuild really bundles for every function).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { BUNDLING, FUNCTION_ENTRIES, PROJECT_ROOT, SEMVER_ALIAS } from '../../cdk/constructs/function.js';

const require = createRequire(import.meta.url);
const shim = require(SEMVER_ALIAS) as Record<string, unknown>;
const semver = require('semver/functions/gte') as (a: string, b: string) => boolean;

/** The bundled modules that `require('semver')` (or a semver subpath) and the text of each. */
async function semverRequirers(): Promise<{ path: string; text: string }[]> {
  const result = await build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: Object.values(FUNCTION_ENTRIES).map((entry) => resolve(PROJECT_ROOT, entry)),
    outdir: '/tmp/cpe-bundling-test',
    write: false,
    bundle: true,
    platform: 'node',
    target: BUNDLING.target,
    format: BUNDLING.format,
    mainFields: [...BUNDLING.mainFields],
    external: [...BUNDLING.externalModules],
    metafile: true,
    logLevel: 'silent',
  });
  return Object.entries(result.metafile.inputs)
    .filter(([, input]) =>
      input.imports.some((i) => i.original === 'semver' || i.original?.startsWith('semver/')),
    )
    .map(([path]) => ({ path, text: readFileSync(resolve(PROJECT_ROOT, path), 'utf8') }));
}

describe('semver alias', () => {
  it('is semver’s own gte', () => {
    expect(Object.keys(shim)).toEqual(['gte']);
    for (const [a, b] of [
      ['2.1100.0', '2.2.0'],
      ['2.1.9', '2.2.0'],
      ['3.0.0-beta.1', '3.0.0'],
      ['2.2.0', '2.2.0'],
    ] as const) {
      expect((shim.gte as typeof semver)(a, b)).toBe(semver(a, b));
    }
  });

  it('covers every semver use of the bundled modules', async () => {
    const requirers = await semverRequirers();
    // The X-Ray SDK (Powertools Tracer) requires it today; an empty list would make this test vacuous.
    expect(requirers.map((r) => r.path)).toContainEqual(expect.stringContaining('aws-xray-sdk-core'));
    for (const { path, text } of requirers) {
      expect({ path, subpath: /require\(['"]semver\//.test(text) }).toEqual({ path, subpath: false });
      const names = [...text.matchAll(/(\w+)\s*=\s*require\(['"]semver['"]\)/g)].map((m) => m[1]!);
      expect({ path, bound: names.length }).toEqual({ path, bound: 1 });
      const name = names[0]!;
      // Every use of the bound name but its declaration (`var <name> = require('semver')`).
      const code = text.replace(/require\(['"]semver['"]\)/g, '');
      const uses = [...code.matchAll(new RegExp(`\\b${name}\\b(\\.(\\w+))?`, 'g'))].slice(1);
      const members = uses.map((m) => m[2] ?? '(bare use)');
      expect({ path, unsupported: members.filter((m) => !(m in shim)) }).toEqual({ path, unsupported: [] });
    }
  });
});
