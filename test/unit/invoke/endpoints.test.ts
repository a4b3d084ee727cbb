/** The sandbox's endpoints file (local/sandbox/endpoints.ts): what is written and removed, and what invoke says when no sandbox runs. */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endpointsPart, readSandboxEndpoints, sandboxFilePath } from '../../../local/sandbox/endpoints.js';
import type { SandboxContext, SandboxOptions } from '../../../local/sandbox/parts.js';
import { SandboxNotRunningError } from '../../../shared/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'cpe-endpoints-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const valid = { format: 1, runId: 'r', startedAt: '', director: 'zwan', env: {}, functionTimeoutsSec: {} };

describe('sandbox endpoints file', () => {
  it('is $CPE_FAILOVER_SANDBOX_FILE, else .sandbox/endpoints.json in the project', () => {
    expect(sandboxFilePath({ CPE_FAILOVER_SANDBOX_FILE: '/x/y.json' })).toBe('/x/y.json');
    expect(sandboxFilePath({})).toMatch(/\/\.sandbox\/endpoints\.json$/);
  });

  it('reads the file of a running sandbox', () => {
    const path = file('live.json', { ...valid, pid: process.pid });
    expect(readSandboxEndpoints(path)).toMatchObject({ pid: process.pid, director: 'zwan' });
  });

  it('says no sandbox is running: no file, a file left by a process that exited, another format', () => {
    expect(() => readSandboxEndpoints(join(dir, 'none.json'))).toThrow(SandboxNotRunningError);
    expect(() => readSandboxEndpoints(join(dir, 'none.json'))).toThrow(
      /no sandbox is running \(no .*none\.json\): start one with `npm start`/,
    );
    const exited = spawnSync(process.execPath, ['-e', '0']).pid;
    const stale = file('stale.json', { ...valid, pid: exited });
    expect(() => readSandboxEndpoints(stale)).toThrow(
      new RegExp(`stale\\.json was left by process ${exited}, which has exited`),
    );
    expect(() => readSandboxEndpoints(file('old.json', { ...valid, format: 0, pid: process.pid }))).toThrow(
      /old\.json is not a sandbox endpoints file of format 1/,
    );
    expect(() => readSandboxEndpoints(file('junk.json', '{not json'))).toThrow(
      /junk\.json is not a sandbox endpoints file/,
    );
  });

  it("is written once running (the functions' environment, a real director's API key left out) and removed on stop", async () => {
    const path = join(dir, 'written.json');
    process.env.CPE_FAILOVER_SANDBOX_FILE = path;
    const env = { TABLE_NAME: 't', CPE_FAILOVER_API_KEY: 'real-key' };
    const ctx = {
      startedAt: 0,
      print: () => undefined,
      functionEnv: () => ({ ...env }),
    } as unknown as SandboxContext;
    try {
      for (const [options, key] of [
        [{}, 'real-key'],
        [{ zwanExternal: {} }, undefined],
        [{ director: 'meraki', merakiExternal: {} }, undefined],
      ] as const) {
        const part = endpointsPart(options as unknown as SandboxOptions)!;
        await part.start(ctx);
        part.running!(ctx);
        const written = JSON.parse(readFileSync(path, 'utf8'));
        expect(written).toMatchObject({ format: 1, pid: process.pid, env: { TABLE_NAME: 't' } });
        expect(written.env.CPE_FAILOVER_API_KEY).toBe(key);
        await part.stop();
        expect(existsSync(path)).toBe(false);
      }
    } finally {
      delete process.env.CPE_FAILOVER_SANDBOX_FILE;
    }
  });
});
