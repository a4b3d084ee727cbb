#!/usr/bin/env node
// Completes package-lock.json with the optional platform packages (other OSes/CPUs) that a registry
// mirror without those tarballs leaves out, so `npm ci` accepts the lock file. Each added entry
// carries only version/os/cpu: npm skips it as platform-incompatible and never fetches it.
// Usage: node local/tools/lock-foreign-platforms.mjs   (after any `npm install` that rewrote the lock)
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const pkgs = lock.packages;

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openharmony', 'wasm32'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'loong64', 'riscv64', 'wasm32'];

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p));
  if (!os || !cpu) return undefined;
  const libc =
    parts.includes('musl') || parts.includes('musleabihf')
      ? 'musl'
      : parts.includes('gnu') || parts.includes('gnueabihf')
        ? 'glibc'
        : undefined;
  return {
    os: os === 'wasm32' ? undefined : [os],
    cpu: [cpu],
    libc: libc && os === 'linux' ? [libc] : undefined,
  };
}

let added = 0;
for (const [key, entry] of Object.entries(pkgs)) {
  const optional = entry.optionalDependencies ?? {};
  for (const [dep, range] of Object.entries(optional)) {
    const base = key === '' ? 'node_modules' : `${key}/node_modules`;
    if (pkgs[`${base}/${dep}`] || pkgs[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform) continue;
    const version = range.replace(/^[\^~=]/, '');
    pkgs[`node_modules/${dep}`] = {
      version,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...(platform.os ? { os: platform.os } : {}),
      cpu: platform.cpu,
      ...(platform.libc ? { libc: platform.libc } : {}),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} foreign-platform optional entries`);
