/**
 * `npm start` as a newcomer runs it: the real CLI in its own process (tsx local/sandbox/main.ts),
 * with no flags but a short duration. It prints the Concentrator page's URL on a line of its own,
 * the page answers there while it runs, and the functions' own JSON logs stay out of the output
 * (they need --verbose).
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { request } from 'node:http';

/** One HTTP exchange with a chosen Host header (fetch may not set it). */
function raw(
  url: string,
  method: string,
  host: string,
  body = '',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, headers: { host, 'content-type': 'application/x-www-form-urlencoded' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A shell's environment: without what the test run sets for in-process functions (Powertools, AWS). */
function newcomerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(POWERTOOLS_|AWS_|TABLE_NAME$|DYNAMODB_ENDPOINT$|CPE_FAILOVER_)/.test(name)) delete env[name];
  return env;
}

describe('npm start (the CLI in its own process)', () => {
  it('prints `page: http://127.0.0.1:<port>/` on its own line, serves the page, and no JSON logs', async () => {
    const child = spawn(
      process.execPath,
      ['node_modules/tsx/dist/cli.mjs', 'local/sandbox/main.ts', '--duration', '20'],
      {
        env: { ...newcomerEnv(), CPE_FAILOVER_SANDBOX_FILE: `/tmp/cpe-start-cli-${process.pid}.json` },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let pageHtml: string | undefined;
    let refused: { status: number; body: string }[] | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /^page: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out)?.[1];
      if (url && pageHtml === undefined) {
        pageHtml = '';
        void fetch(url)
          .then((r) => r.text())
          .then((t) => (pageHtml = t))
          .then(async () => {
            const host = new URL(url).host;
            const pin = 'action=pin&tenantId=lab-tenant&haName=Chennai&concentratorId=HA_DC2&reason=x';
            refused = [
              await raw(url, 'GET', 'rebound.example:80'), // a DNS-rebound name
              await raw(`${url}action`, 'POST', host, pin), // another site's form: no token
              await raw(`${url}action`, 'POST', host, `${pin}&csrf=guess`),
            ];
          })
          .catch((e: unknown) => (pageHtml = `fetch failed: ${String(e)}`));
      }
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect({ code, err: err.slice(0, 2000) }).toMatchObject({ code: 0 });
    const lines = out.split('\n');
    expect(lines.filter((l) => /^page: http:\/\/127\.0\.0\.1:\d+\/$/.test(l))).toHaveLength(1);
    expect(pageHtml).toContain('Chennai');
    // The page's own forms carry this run's token; another site's (or a rebound name) get 403.
    expect(pageHtml).toMatch(/name="csrf" value="[0-9a-f]{32}"/);
    expect(refused?.map((r) => r.status)).toEqual([403, 403, 403]);
    expect(out).not.toMatch(/page pin/);
    expect(pageHtml).toContain('HA_DC1');
    // Only the sandbox's own lines: none of the functions' Powertools JSON (it needs --verbose).
    expect(lines.filter((l) => l.trimStart().startsWith('{'))).toEqual([]);
    expect(out).toMatch(/stopped\s*$/);
  }, 120_000);
});
