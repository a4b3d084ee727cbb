#!/usr/bin/env node
// Checks what the sandbox and the integration tests need beyond npm: a supported Node.js (the
// range in package.json `engines.node`) and a Java 17+ runtime for DynamoDB Local. Exits 1 with
// instructions when something is missing, unless --warn-only (used by postinstall, so `npm ci`
// itself never fails for it). Imported by test/unit/runtime/node-version.test.ts for its checks.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** package.json `engines.node`: the one statement of which Node.js versions are supported. */
export function supportedNodeRange() {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const range = pkg.engines?.node;
  if (typeof range !== 'string') throw new Error('package.json has no engines.node');
  return range;
}

/**
 * The alternatives of a range written as caret ranges joined by `||` (`^20.19.0 || ^22.13.0`),
 * the only form used here (this script runs before dependencies such as semver may exist).
 */
function caretAlternatives(range) {
  return range.split('||').map((part) => {
    const m = /^\s*\^(\d+)\.(\d+)\.(\d+)\s*$/.exec(part);
    if (!m)
      throw new Error(`engines.node "${range}": expected caret ranges joined by "||", got "${part.trim()}"`);
    return m.slice(1, 4).map(Number);
  });
}

/** Whether `version` (e.g. `20.20.2`) is in `range`, for a range of {@link caretAlternatives}' form. */
export function nodeVersionSupported(version, range) {
  const v = version.replace(/^v/, '').split(/[.-]/).slice(0, 3).map(Number);
  const [major = NaN, minor = NaN, patch = NaN] = v;
  return caretAlternatives(range).some(
    ([M, m, p]) => major === M && (minor > m || (minor === m && patch >= p)),
  );
}

/** The problem with running on Node.js `version`, or undefined when it is supported. */
export function nodeVersionProblem(version, range = supportedNodeRange()) {
  if (nodeVersionSupported(version, range)) return undefined;
  return (
    `Node.js ${version} is not supported: cpe-failover supports Node.js ${range} ` +
    '(package.json engines; the deployed Lambda functions run nodejs22.x).\n' +
    '  Install Node.js 22 (or 20.19+), e.g. `nvm install 22`, https://nodejs.org/en/download.'
  );
}

function javaProblem() {
  const java = spawnSync(process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java', ['-version'], {
    encoding: 'utf8',
  });
  if (java.error || java.status !== 0) {
    return (
      'No Java runtime found: DynamoDB Local needs Java 17 or newer.\n' +
      '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
      '  macOS (Homebrew): brew install openjdk@17\n' +
      '  or set JAVA_HOME to a Java 17+ installation.'
    );
  }
  const m = /version "(\d+)(?:\.(\d+))?/.exec(java.stderr + java.stdout);
  let major = m ? Number(m[1]) : 0;
  if (major === 1 && m?.[2]) major = Number(m[2]);
  if (major < 17) return `Java ${major || '(unknown version)'} found; DynamoDB Local needs Java 17 or newer.`;
  return undefined;
}

function main() {
  const warnOnly = process.argv.includes('--warn-only');
  const problems = [nodeVersionProblem(process.versions.node), javaProblem()].filter(Boolean);
  if (!problems.length) return;
  const text = `cpe-failover prerequisites:\n- ${problems.join('\n- ')}`;
  if (warnOnly) {
    console.warn(`warning: ${text}`);
  } else {
    console.error(text);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
