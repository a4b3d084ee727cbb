/**
 * Sandbox part: the timeline's door for other processes. A small HTTP server on loopback that
 *
 * - plays the SNS topic of the functions' notices (`TOPIC_ARN`, with `AWS_ENDPOINT_URL_SNS`
 *   pointing here): a function run by `npm run invoke` publishes with the real SNS client, and
 *   each notice prints as a `notify …` line, as the sandbox's own do;
 * - takes console operations (`POST /console`, a {@link ConsoleOperation} as JSON): one
 *   `console …` line each, saying who ran what on which group, why, and what came of it.
 *
 * Faults injected through the zWAN simulator's `/_sim` API print as `fault via /_sim …` lines.
 * List it after the simulator and before the endpoints part (which publishes its URL).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { summarize } from '../../shared/notify/sns.js';
import type { Notice } from '../../shared/notify/port.js';
import type { PartFactory } from './parts.js';

/** The notices topic the sandbox gives the functions (any ARN does: the timeline plays SNS). */
export const SANDBOX_TOPIC_ARN = 'arn:aws:sns:eu-west-1:000000000000:cpe-failover-sandbox-notices';

/** One console operation, as a caller reports it to the timeline. */
export interface ConsoleOperation {
  /** The function, e.g. `pin`. */
  function: string;
  /** Who ran it (the tool): `npm run invoke`, the page… */
  via: string;
  /** The event it was given. */
  event: unknown;
  /** Its answer (success). */
  result?: unknown;
  /** Its error (failure). */
  error?: { name: string; message: string };
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** What the event asks for: the group or tenant, and the operation's own fields. */
function describeEvent(fn: string, event: Rec): string {
  const tenant = str(event.tenantId);
  const group = str(event.haName);
  const scope = tenant
    ? group
      ? `${tenant}/${group}`
      : `tenant ${tenant}`
    : fn === 'status'
      ? 'all tenants'
      : '';
  const onto = str(event.concentratorId) ? ` onto ${String(event.concentratorId)}` : '';
  const flags = [
    event.dryRun === true ? 'dry run' : '',
    event.force === true ? 'forced' : '',
    typeof event.expiresInMinutes === 'number' ? `for ${event.expiresInMinutes} min` : '',
    str(event.expiresAt) ??
      (typeof event.expiresAt === 'number' ? new Date(event.expiresAt).toISOString() : ''),
  ].filter(Boolean);
  const why = str(event.reason) ? ` because "${clip(String(event.reason), 120)}"` : '';
  return `${scope}${onto}${flags.length ? ` (${flags.join(', ')})` : ''}${why}`.trim();
}

function servingOf(r: Rec): string {
  const serving = `serving ${str(r.servingId) ?? '-'} (epoch ${String(r.epoch ?? 0)})`;
  const pin = isRec(r.pin)
    ? `, pinned to ${String(r.pin.concentratorId)}${str(r.pin.expiresAt) ? ` until ${String(r.pin.expiresAt)}` : ''}`
    : '';
  const plan = Array.isArray(r.plan) ? `, ${r.plan.length} re-point(s) planned` : '';
  const done = isRec(r.result)
    ? `, re-pointed ${String(r.result.repointed)}, already right ${String(r.result.unchanged)}, failed ${String(r.result.failed)}`
    : '';
  const err = str(r.error) ? `, error ${String(r.error)}` : '';
  return `${str(r.groupKey) ? `${String(r.groupKey)} ` : ''}${serving}${pin}${plan}${done}${err}`;
}

/** What came of it, in one clause. */
function describeResult(result: unknown): string {
  if (!isRec(result))
    return result === undefined || result === null ? 'ok' : `ok: ${clip(JSON.stringify(result))}`;
  if (Array.isArray(result.groups)) {
    const groups = result.groups.filter(isRec);
    const shown = groups.slice(0, 5).map(servingOf).join('; ');
    return `${groups.length} group(s)${shown ? `: ${shown}` : ''}${groups.length > 5 ? '; …' : ''}`;
  }
  if (typeof result.acknowledged === 'boolean')
    return `${result.acknowledged ? 'acknowledged' : 'not acknowledged'}: ${String(result.message)}`;
  if ('servingId' in result || 'epoch' in result) return servingOf(result);
  if (str(result.workflow) && str(result.status)) {
    const seconds =
      typeof result.durationMs === 'number' ? ` in ${(result.durationMs / 1000).toFixed(1)} s` : '';
    return `${String(result.workflow)} ${String(result.status)}${seconds} (execution ${String(result.executionId)})`;
  }
  const scalars = Object.entries(result)
    .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))
    .slice(0, 8)
    // Times as ISO dates, not epoch milliseconds.
    .map(
      ([k, v]) => `${k}=${k.endsWith('At') && typeof v === 'number' ? new Date(v).toISOString() : String(v)}`,
    );
  return scalars.length ? scalars.join(' ') : 'ok';
}

/** `console pin via npm run invoke by noc@example.com: lab-tenant/Chennai onto HA_DC2 (…) because "…" → ok: …`. */
export function formatConsoleOperation(op: ConsoleOperation): string {
  const event = isRec(op.event) ? op.event : {};
  const who = str(event.by) ?? str(event.requestedBy);
  const by = who ? ` by ${who}` : '';
  const what = describeEvent(op.function, event);
  const outcome = op.error
    ? `FAILED ${op.error.name}: ${clip(op.error.message)}`
    : `ok: ${describeResult(op.result)}`;
  return `console ${op.function} via ${op.via}${by}${what ? `: ${what}` : ''} → ${outcome}`;
}

/** `fault via /_sim (zWAN): cpeDown id=HA_DC1` for a fault injected over the simulator's HTTP API. */
export function formatSimFault(director: string, action: string, args: Rec): string {
  const fields = Object.entries(args).map(
    ([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  return `fault via /_sim (${director}): ${action}${fields.length ? ` ${fields.join(' ')}` : ''}`;
}

function isNotice(v: unknown): v is Notice {
  return (
    isRec(v) && typeof v.kind === 'string' && typeof v.groupKey === 'string' && typeof v.reason === 'string'
  );
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function reply(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const SNS_NS = 'http://sns.amazonaws.com/doc/2010-03-31/';

function snsError(res: ServerResponse, code: string, message: string): void {
  const xml =
    `<ErrorResponse xmlns="${SNS_NS}"><Error><Type>Sender</Type><Code>${code}</Code>` +
    `<Message>${message.replace(/[<>&]/g, '')}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
  reply(res, 400, 'text/xml', xml);
}

/** SNS `Publish` (AWS query protocol), the one action the functions call. */
function snsPublish(res: ServerResponse, form: URLSearchParams, print: (line: string) => void): void {
  if (form.get('Action') !== 'Publish')
    return snsError(
      res,
      'InvalidAction',
      `the sandbox topic supports Publish only, not ${form.get('Action')}`,
    );
  let message: unknown;
  try {
    message = JSON.parse(form.get('Message') ?? '');
  } catch {
    message = undefined;
  }
  print(
    `notify ${isNotice(message) ? summarize(message) : (form.get('Subject') ?? form.get('Message') ?? '')}`,
  );
  const xml =
    `<PublishResponse xmlns="${SNS_NS}"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`;
  reply(res, 200, 'text/xml', xml);
}

function consoleOperation(res: ServerResponse, raw: string, print: (line: string) => void): void {
  let op: unknown;
  try {
    op = JSON.parse(raw);
  } catch {
    return reply(res, 400, 'application/json', JSON.stringify({ error: 'the body is not valid JSON' }));
  }
  if (!isRec(op) || !str(op.function) || !str(op.via)) {
    const error =
      'expected a console operation: {"function": "...", "via": "...", "event": {...}, "result"|"error": ...}';
    return reply(res, 400, 'application/json', JSON.stringify({ error }));
  }
  print(formatConsoleOperation(op as unknown as ConsoleOperation));
  reply(res, 204, 'application/json', '');
}

/** The timeline's HTTP server (SNS topic and console operations) and the `/_sim` fault lines. */
export const timelinePart: PartFactory = () => {
  let close: (() => Promise<void>) | undefined;
  return {
    name: 'timeline',
    async start(ctx) {
      ctx.simulator?.onControl((action, args) => ctx.print(formatSimFault('zWAN', action, args)));
      const server = createServer((req, res) => {
        void (async () => {
          const raw = await readBody(req);
          if (req.method === 'POST' && req.url === '/console') return consoleOperation(res, raw, ctx.print);
          if (req.method === 'POST' && (req.url === '/' || req.url === ''))
            return snsPublish(res, new URLSearchParams(raw), ctx.print);
          reply(res, 404, 'application/json', JSON.stringify({ error: `no route ${req.method} ${req.url}` }));
        })().catch(() => res.destroy());
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      close = () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        });
      ctx.timelineUrl = `${url}/console`;
      ctx.setEnv('TOPIC_ARN', SANDBOX_TOPIC_ARN);
      ctx.setEnv('AWS_ENDPOINT_URL_SNS', url);
    },
    async stop() {
      await close?.();
    },
  };
};
