/**
 * Sandbox part: the Concentrator page, live, on 127.0.0.1 (the same renderer and actions as the
 * dashboard widget, shared/page/). `GET /` renders the page from the running world; the page's
 * forms `POST /action`, which runs the console operation and renders the page with its outcome.
 * Prints `page: http://127.0.0.1:<port>/` on a line of its own, and each button press on the
 * timeline.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildFailoverDeps, directorsFromConfig } from '../../shared/failover/runtime.js';
import { LocalPublisher } from '../../shared/notify/local.js';
import { silentLog } from '../../shared/observability.js';
import { runPageAction, type PageOutcome } from '../../shared/page/actions.js';
import { esc, sandboxControls } from '../../shared/page/controls.js';
import { renderPage } from '../../shared/page/render.js';
import { loadPageView, type PageDeps } from '../../shared/page/view.js';
import { StateRepository } from '../../shared/store/state-repo.js';
import { need, type PartFactory, type SandboxContext } from './parts.js';

/** Form bodies larger than this are refused (the page's forms are a few hundred bytes). */
const MAX_BODY_BYTES = 64 * 1024;

/** Who pressed a button on the sandbox page when the form does not say. */
export const SANDBOX_PAGE_BY = 'sandbox page';

/** The line the part prints (tests and newcomers look for it). */
export function pageLine(url: string): string {
  return `page: ${url}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error(`form body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  });
  res.end(html);
}

/** What a request must carry to be this page's: its own host (no DNS rebinding), and on a POST its token. */
interface PageGuard {
  host: string;
  csrf: string;
}

/** One request: the page, or a button press then the page. */
async function handle(
  deps: PageDeps,
  ctx: SandboxContext,
  guard: PageGuard,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  // Another site's page can reach 127.0.0.1 from the operator's browser: a foreign Host (a
  // rebound DNS name) or a POST without this run's token is refused before anything is read or run.
  if (req.headers.host !== guard.host)
    return send(res, 403, '<p>Forbidden: open the page at its printed URL.</p>');
  let outcome: PageOutcome | undefined;
  if (req.method === 'POST' && url.pathname === '/action') {
    const form = new URLSearchParams(await readBody(req));
    const { action, tenantId, haName, csrf, ...fields } = Object.fromEntries(form);
    if (csrf !== guard.csrf)
      return send(res, 403, '<p>Forbidden: reload the page and press the button again.</p>');
    outcome = await runPageAction(deps.failover, { action, tenantId, haName }, fields, SANDBOX_PAGE_BY);
    const group = tenantId !== undefined ? ` ${tenantId}#${haName ?? ''}` : '';
    ctx.print(`page ${action ?? '?'}${group}: ${outcome.ok ? '' : 'refused: '}${outcome.message}`);
  } else if (req.method !== 'GET' || url.pathname !== '/') {
    return send(res, 404, '<p>Not found: the page is at <a href="/">/</a>.</p>');
  }
  const view = await loadPageView(deps);
  const html = renderPage(view, {
    controls: sandboxControls('/action', guard.csrf),
    document: true,
    ...(outcome ? { outcome } : {}),
  });
  send(res, outcome && !outcome.ok && outcome.issues ? 400 : 200, html);
}

/** The page server. */
export const pagePart: PartFactory = (options) => {
  let server: Server | undefined;
  return {
    name: 'page',
    async start(ctx) {
      const dynamo = need(ctx, 'dynamo', 'page');
      const tableName = need(ctx, 'tableName', 'page');
      const config = need(ctx, 'config', 'page');
      const repo = new StateRepository(dynamo.doc, tableName, Date.now, {
        auditTtlDays: config.auditTtlDays,
      });
      const deps: PageDeps = {
        repo,
        failover: buildFailoverDeps({
          config,
          repo,
          directors: directorsFromConfig(config, { claims: repo.claims }),
          publisher: new LocalPublisher((line) => ctx.print(`notify ${line}`)),
          ...(options.verbose ? {} : { log: silentLog }),
        }),
      };
      const guard: PageGuard = { host: '', csrf: randomBytes(16).toString('hex') };
      const s = createServer((req, res) => {
        handle(deps, ctx, guard, req, res).catch((error: unknown) => {
          ctx.print(`page: ${req.method} ${req.url} failed: ${(error as Error).message}`);
          if (!res.headersSent) send(res, 500, `<p>The page failed: ${esc((error as Error).message)}</p>`);
          else res.end();
        });
      });
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
      const { port } = s.address() as AddressInfo;
      guard.host = `127.0.0.1:${port}`;
      ctx.printRaw(pageLine(`http://127.0.0.1:${port}/`));
    },
    async stop() {
      const s = server;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
};
