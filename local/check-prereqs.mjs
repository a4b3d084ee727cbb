#!/usr/bin/env node
// Checks what the sandbox and the integration tests need beyond npm: Node 20+ and a Java 17+
// runtime for DynamoDB Local. Exits 1 with instructions when something is missing, unless
// --warn-only (used by postinstall, so `npm ci` itself never fails for it).
import { spawnSync } from 'node:child_process';

const warnOnly = process.argv.includes('--warn-only');
const problems = [];

const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor < 20)
  problems.push(`Node.js ${process.versions.node} is too old: install Node.js 20 or newer.`);

const java = spawnSync(process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java', ['-version'], {
  encoding: 'utf8',
});
if (java.error || java.status !== 0) {
  problems.push(
    'No Java runtime found: DynamoDB Local needs Java 17 or newer.\n' +
      '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
      '  macOS (Homebrew): brew install openjdk@17\n' +
      '  or set JAVA_HOME to a Java 17+ installation.',
  );
} else {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(java.stderr + java.stdout);
  let major = m ? Number(m[1]) : 0;
  if (major === 1 && m?.[2]) major = Number(m[2]);
  if (major < 17)
    problems.push(`Java ${major || '(unknown version)'} found; DynamoDB Local needs Java 17 or newer.`);
}

if (problems.length) {
  const text = `cpe-failover prerequisites:\n- ${problems.join('\n- ')}`;
  if (warnOnly) {
    console.warn(`warning: ${text}`);
  } else {
    console.error(text);
    process.exit(1);
  }
}
