/**
 * Which Node.js versions the project supports is stated once, in package.json `engines.node`;
 * these tests hold every installed package, the prerequisites check, the Lambda runtime and the
 * esbuild target to it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { functionNamesFromTemplate, synthTemplates } from '../../../cdk/assembly.js';
import { BUNDLING, NODE_MAJOR, PROJECT_ROOT } from '../../../cdk/constructs/function.js';
import {
  nodeVersionProblem,
  nodeVersionSupported,
  supportedNodeRange,
} from '../../../local/check-prereqs.mjs';

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
}
interface Manifest {
  name?: string;
  engines?: { node?: unknown };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const pkg = readJson<Manifest>(join(PROJECT_ROOT, 'package.json'));
const lock = readJson<{ packages: Record<string, LockEntry> }>(join(PROJECT_ROOT, 'package-lock.json'));
const claimed = supportedNodeRange();

/**
 * Packages whose `engines.node` leaves out part of the claimed range, with what makes them work
 * there anyway. Each must be a dev dependency (never bundled into a function), and the test below
 * fails once an exception is no longer needed, so the list cannot outlive its reason.
 */
const ENGINE_EXCEPTIONS: Record<string, string> = {
  'aws-local-stepfunctions':
    '3.0.0 is the only published version and declares >=22.0.0: on Node 20 it lacks only ' +
    'Promise.withResolvers, which local/sandbox/scenarios/dr-machines.ts (its one importer) polyfills',
};

/** Every package of the lockfile that is installed here, with its installed manifest. */
function installedPackages(): { path: string; entry: LockEntry; manifest: Manifest }[] {
  return Object.entries(lock.packages)
    .filter(([path]) => path.startsWith('node_modules/'))
    .flatMap(([path, entry]) => {
      const file = join(PROJECT_ROOT, path, 'package.json');
      // Optional packages for other platforms are in the lock but not installed.
      if (!existsSync(file)) return entry.optional ? [] : [{ path, entry, manifest: {} }];
      return [{ path, entry, manifest: readJson<Manifest>(file) }];
    });
}

const nameOf = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('the supported Node.js versions', () => {
  it('are Node 20 and Node 22 from the minor releases the tooling needs, nothing else', () => {
    expect(claimed).toBe('^20.19.0 || ^22.13.0');
    for (const v of ['20.19.0', '20.20.2', '22.13.0', '22.30.1'])
      expect(semver.satisfies(v, claimed)).toBe(true);
    for (const v of ['18.20.8', '20.18.3', '21.7.3', '22.12.0', '23.0.0', '24.11.0'])
      expect(semver.satisfies(v, claimed)).toBe(false);
  });

  it('include the Node.js running this test', () => {
    expect(semver.satisfies(process.versions.node, claimed)).toBe(true);
  });

  it('are admitted by every installed package, but for the listed exceptions', () => {
    const packages = installedPackages();
    expect(packages.length).toBeGreaterThan(100);
    const missing = packages.filter((p) => p.manifest.name === undefined).map((p) => p.path);
    expect(missing).toEqual([]);

    const refusing = packages
      .filter(({ manifest }) => {
        const node = manifest.engines?.node;
        return typeof node === 'string' && !semver.subset(claimed, node);
      })
      .map(({ path, entry, manifest }) => ({
        name: nameOf(path),
        engines: manifest.engines?.node,
        dev: entry.dev,
      }));
    const unexplained = refusing.filter((r) => !(r.name in ENGINE_EXCEPTIONS));
    expect(unexplained).toEqual([]);
    // An exception must still be needed and must stay out of the deployed bundles.
    expect(refusing.map((r) => r.name).sort()).toEqual(Object.keys(ENGINE_EXCEPTIONS).sort());
    for (const r of refusing) expect(r).toMatchObject({ dev: true });
  });

  it('are admitted by every direct dependency (installed at the version package.json pins)', () => {
    const direct = { ...pkg.dependencies, ...pkg.devDependencies };
    expect(Object.keys(direct).length).toBeGreaterThan(10);
    for (const [name, pinned] of Object.entries(direct)) {
      const manifest = readJson<Manifest & { version: string }>(
        join(PROJECT_ROOT, 'node_modules', name, 'package.json'),
      );
      expect({ name, version: manifest.version }).toEqual({ name, version: pinned });
      const node = manifest.engines?.node;
      if (typeof node === 'string' && !(name in ENGINE_EXCEPTIONS))
        expect({ name, admits: semver.subset(claimed, node) }).toEqual({ name, admits: true });
    }
  });
});

describe('the prerequisites check (local/check-prereqs.mjs)', () => {
  const samples = ['16.20.2', '18.20.8', '20.0.0', '20.18.3', '20.19.0', '20.20.2', '21.7.3', '22.0.0'];
  samples.push('22.12.0', '22.13.0', '22.22.2', '23.11.1', '24.11.0', '25.0.0');

  it('reads the range from package.json and agrees with semver on it', () => {
    for (const v of samples)
      expect({ v, supported: nodeVersionSupported(v, claimed) }).toEqual({
        v,
        supported: semver.satisfies(v, claimed),
      });
    expect(nodeVersionSupported('v22.13.0', claimed)).toBe(true);
  });

  it('refuses an unsupported Node.js with a message naming the version and the supported range', () => {
    expect(nodeVersionProblem('24.11.0')).toMatch(
      /Node\.js 24\.11\.0 is not supported.*\^20\.19\.0 \|\| \^22\.13\.0/,
    );
    expect(nodeVersionProblem('18.20.8')).toMatch(/Node\.js 18\.20\.8 is not supported/);
    expect(nodeVersionProblem('22.13.0')).toBeUndefined();
  });

  it('fails clearly on a range form it cannot read, rather than guessing', () => {
    expect(() => nodeVersionSupported('20.20.2', '>=20')).toThrow(
      /engines\.node ">=20": expected caret ranges/,
    );
  });
});

describe('what is deployed runs on a supported version', () => {
  const majorOf = (text: string, pattern: RegExp) => Number(pattern.exec(text)?.[1]);
  const claimsMajor = (major: number) => semver.intersects(claimed, `^${major}.0.0`);

  it('the esbuild target is a supported major', () => {
    expect(majorOf(BUNDLING.target, /^node(\d+)$/)).toBe(NODE_MAJOR);
    expect(claimsMajor(NODE_MAJOR)).toBe(true);
  });

  it("every controller function's Lambda runtime is a supported major, the one the bundle targets", () => {
    const { stateless } = synthTemplates('example');
    const ids = Object.keys(functionNamesFromTemplate(stateless));
    expect(ids.length).toBeGreaterThan(5);
    for (const id of ids) {
      const runtime = String(stateless.Resources[id]?.Properties?.Runtime);
      expect({ id, major: majorOf(runtime, /^nodejs(\d+)\.x$/) }).toEqual({ id, major: NODE_MAJOR });
    }
    expect(claimsMajor(NODE_MAJOR)).toBe(true);
  });
});
