/**
 * The checker's director transport: the real zWAN adapter and HTTP client talk to the real
 * simulator routes in-process ({@link ZwanSimulator.dispatch}), with latency on the virtual clock
 * and seeded faults: a refused connection (not sent), an injected 5xx or 429 (not acted on), a
 * timeout or a lost answer AFTER the director acted.
 *
 * It also keeps the director-side record that invariant S1 is checked against: every write a
 * director accepted, with its group and epoch, per site.
 */
import type { RawResponse, ResponseHeaders, Transport } from '../../shared/director/http.js';
import type { SiteName } from '../../shared/domain/model.js';
import type { SimDispatchResult, ZwanSimulator } from '../simulator/zwan/server.js';
import type { Prng } from './prng.js';
import type { SimScheduler } from './scheduler.js';
import { notPlainJson } from './json-copy.js';

/** Fault rates of the transport, drawn per schedule. */
export interface TransportFaults {
  /** Latency of one leg, ms: uniform in [min, max]. */
  latencyMs: [number, number];
  refused: number;
  error5xx: number;
  tooMany: number;
  /** The director acted, the answer never came (the client times out). */
  lostAnswer: number;
  /** The director acted, the answer came after the client's timeout. */
  lateAnswer: number;
}

/** A director write as the director applied it. */
export interface AppliedAction {
  at: number;
  site: SiteName;
  groupKey: string;
  epoch: number;
  op: string;
  /** The CPE the write was about (repoint, ha-state), when the path names one. */
  cpeId?: string;
  /** The director's highest epoch of the group before this write. */
  seenBefore: number;
  /** The highest epoch any director had applied for the group before this write. */
  newestAnywhere: number;
}

/** What the transport observed (S1, the hold check, the trace). */
export interface TransportLog {
  applied: AppliedAction[];
  /** Per site, group key → highest epoch the director accepted. */
  seen: Record<SiteName, Map<string, number>>;
  /** Group key → highest epoch any director accepted. */
  seenAnywhere: Map<string, number>;
  /** Health answers: per CPE id, `[at, good]` in time order (good: alive and loss below the threshold). */
  samples: Map<string, [number, boolean | null, number][]>;
  calls: number;
  /**
   * Per site, the last time a call to its director met a fault (an injected refusal, 5xx, 429,
   * lost or late answer, or the director itself down, hanging or answering 503): S6 asks for a
   * window without any.
   */
  lastFaultAt: Record<SiteName, number>;
  /**
   * Calls the simulated director failed because its own code threw (it answered 500 INTERNAL, or
   * its dispatch threw; the injected faults answer 503 or 429), and answers that were not plain
   * JSON (`checkAnswers`): bugs of the world, which must fail the schedule rather than pass for
   * director faults.
   */
  internalErrors: string[];
  /**
   * With `checkAnswers`: every answer handed over uncopied, with its JSON text when it was given.
   * An answer whose text differs at the end of the schedule was changed after the fact (the world
   * kept a hold of it, or the code under test changed it): sharing it was not what HTTP does.
   */
  sharedAnswers: { what: string; value: unknown; text: string }[];
}

const WRITE_OPS = /\/(repoint|ha-state|epoch|update-branches)$/;

function connError(code: string, message: string): Error {
  const e = new Error(message) as Error & { code: string };
  e.code = code;
  return e;
}

/**
 * Headers an in-process answer carries, looked up case-insensitively. All the client reads of
 * them is `get` ({@link ResponseHeaders}); a WHATWG `Headers` per answer cost more than the
 * simulated director's work.
 */
export function headersOf(record: Record<string, string>): ResponseHeaders {
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) all[k.toLowerCase()] = v;
  return { get: (name) => all[name.toLowerCase()] ?? null };
}

/** The headers of a JSON answer without any of the director's own (most answers): one for all. */
const JSON_ONLY = headersOf({ 'content-type': 'application/json' });

/** A JSON answer's headers, with the director's own. */
function jsonHeaders(extra?: Record<string, string>): ResponseHeaders {
  if (!extra || Object.keys(extra).length === 0) return JSON_ONLY;
  return headersOf({ 'content-type': 'application/json', ...extra });
}

/** Request headers with lower-case names, as the simulator reads them. */
function lowerCased(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in headers) out[k.toLowerCase()] = headers[k] as string;
  return out;
}

function timeout(ms: number): Error {
  const e = new Error(`no complete answer within ${ms} ms`);
  e.name = 'TimeoutError';
  return e;
}

/** Build the in-process transport for one site's director. */
export function simTransport(parts: {
  sim: ZwanSimulator;
  sched: SimScheduler;
  rng: Prng;
  faults: () => TransportFaults;
  log: TransportLog;
  lossThresholdPct: number;
  /** Group key of a tenant + HA name; epoch-carrying writes are attributed to it. */
  groupKey: (tenantId: string, haName: string) => string;
  /** Told of every write a director accepted, as it is accepted. */
  onApplied?: (action: AppliedAction) => void;
  /** Record every answer for the end-of-schedule check ({@link TransportLog.sharedAnswers}). @default false */
  checkAnswers?: boolean;
}): Transport {
  const { sim, sched, rng, log } = parts;
  const leg = () => {
    const [lo, hi] = parts.faults().latencyMs;
    return rng.int(lo, hi);
  };
  return async (url, init): Promise<RawResponse> => {
    log.calls++;
    const f = parts.faults();
    const site = /\/sites\/(DC|DR)\//.exec(url.pathname)?.[1] as SiteName | undefined;
    const faulted = () => {
      if (site) log.lastFaultAt[site] = sched.now;
    };
    await sched.sleep(leg());
    if (rng.chance(f.refused)) {
      faulted();
      throw connError('ECONNREFUSED', `connect ECONNREFUSED ${url.host}`);
    }
    if (rng.chance(f.error5xx)) {
      faulted();
      await sched.sleep(leg());
      return {
        status: 503,
        headers: jsonHeaders(),
        text: '{"error":{"code":"UNAVAILABLE","message":"injected"}}',
      };
    }
    if (rng.chance(f.tooMany)) {
      faulted();
      await sched.sleep(leg());
      return {
        status: 429,
        headers: jsonHeaders({ 'retry-after': String(rng.int(0, 2)) }),
        text: '{"error":{"code":"TOO_MANY_REQUESTS","message":"injected"}}',
      };
    }
    const json = init.body === undefined ? undefined : (JSON.parse(init.body) as unknown);
    // A write's group epochs before it lands (S1); reads change none.
    const write = site !== undefined && init.method !== 'GET' && WRITE_OPS.test(url.pathname);
    const before = write ? new Map(log.seen[site]) : undefined;
    const what = `${init.method} ${url.pathname}`;
    let result: SimDispatchResult;
    try {
      result = await sim.dispatch({
        method: init.method,
        url,
        headers: lowerCased(init.headers),
        ...(json !== undefined ? { json } : {}),
        host: url.host,
      });
    } catch (error) {
      // Outside a route's own handler (which answers 500 itself): as a server would answer.
      const message = String((error as Error)?.message ?? error);
      result = { kind: 'reply', status: 500, body: { error: { code: 'INTERNAL', message } } };
    }
    if (result.kind !== 'reply' || result.status === 503) faulted();
    if (result.kind === 'reply' && result.status === 500)
      log.internalErrors.push(`${what}: ${JSON.stringify(result.body)}`);
    if (parts.checkAnswers && result.kind === 'reply' && result.body !== undefined) {
      // Taken as the director answers, before anyone (the S1 record included) reads it.
      const bad = notPlainJson(result.body);
      if (bad) log.internalErrors.push(`${what}: the answer is not plain JSON at ${bad}`);
      log.sharedAnswers.push({ what, value: result.body, text: JSON.stringify(result.body) });
    }
    if (result.kind === 'down') {
      throw connError('ECONNRESET', `socket hang up (${url.host})`);
    }
    if (result.kind === 'hang') {
      await sched.sleep(init.timeoutMs);
      throw timeout(init.timeoutMs);
    }
    if (site && before) recordWrite(site, url, json, result.status, result.body, before);
    if (result.status === 200 && /\/cpe-health$/.test(url.pathname)) recordSamples(result.body);
    if (rng.chance(f.lostAnswer)) {
      faulted();
      await sched.sleep(init.timeoutMs);
      throw timeout(init.timeoutMs);
    }
    if (rng.chance(f.lateAnswer)) {
      faulted();
      await sched.sleep(init.timeoutMs + leg());
      throw timeout(init.timeoutMs);
    }
    await sched.sleep(leg());
    return {
      status: result.status,
      headers: jsonHeaders(result.headers),
      // Decoded, as the client would decode the JSON text. Not copied: the simulated director
      // builds every answer afresh and keeps no hold of it (`--check-answers` checks that).
      text: '',
      ...(result.body === undefined ? {} : { json: result.body }),
    };
  };

  function recordWrite(
    site: SiteName,
    url: URL,
    body: unknown,
    status: number,
    answer: unknown,
    before: Map<string, number>,
  ): void {
    const epoch = (body as { epoch?: unknown } | undefined)?.epoch;
    if (typeof epoch !== 'number') return;
    const tenantId = /\/tenants\/([^/]+)\//.exec(url.pathname)?.[1];
    // The group: named in the path (ha-groups/{haName}/…) or the CPE's own HA_NAME in the world.
    const cpeMatch = /\/cpes\/([^/]+)\//.exec(url.pathname);
    const groupMatch = /\/ha-groups\/([^/]+)\//.exec(url.pathname);
    const haName = groupMatch?.[1]
      ? decodeURIComponent(groupMatch[1])
      : cpeMatch?.[1]
        ? sim.world.cpes.get(decodeURIComponent(cpeMatch[1]))?.metadata.HA_NAME
        : undefined;
    if (!tenantId || typeof haName !== 'string') return;
    const groupKey = parts.groupKey(decodeURIComponent(tenantId), haName);
    const seen = log.seen[site];
    if (status >= 200 && status < 300) {
      const seenBefore = before.get(groupKey) ?? 0;
      const action: AppliedAction = {
        at: sched.now,
        site,
        groupKey,
        epoch,
        op: url.pathname.split('/').slice(-1)[0] ?? '',
        ...(cpeMatch?.[1] ? { cpeId: decodeURIComponent(cpeMatch[1]) } : {}),
        seenBefore,
        newestAnywhere: log.seenAnywhere.get(groupKey) ?? 0,
      };
      log.applied.push(action);
      parts.onApplied?.(action);
      // The group button re-points many branches in one call: each moved branch is an action.
      if (action.op === 'update-branches')
        for (const b of (answer as { branches?: { branchId?: string; changed?: boolean }[] }).branches ?? [])
          if (b.changed && b.branchId) {
            const moved: AppliedAction = { ...action, op: 'repoint', cpeId: b.branchId };
            log.applied.push(moved);
            parts.onApplied?.(moved);
          }
      seen.set(groupKey, Math.max(seen.get(groupKey) ?? 0, epoch));
      log.seenAnywhere.set(groupKey, Math.max(log.seenAnywhere.get(groupKey) ?? 0, epoch));
    }
  }

  function recordSamples(body: unknown): void {
    const results = (body as { results?: unknown[] } | undefined)?.results ?? [];
    for (const r of results) {
      const h = r as { cpeId?: string; alive?: boolean; wans?: { lossPct?: number | null }[] };
      if (!h.cpeId) continue;
      const loss = h.wans?.[0]?.lossPct;
      const good =
        h.alive === false ? false : typeof loss === 'number' ? loss < parts.lossThresholdPct : null;
      let list = log.samples.get(h.cpeId);
      if (!list) log.samples.set(h.cpeId, (list = []));
      list.push([sched.now, good, sched.current()?.id ?? 0]);
    }
  }
}

/** An empty {@link TransportLog}. */
export function newTransportLog(): TransportLog {
  return {
    applied: [],
    seen: { DC: new Map(), DR: new Map() },
    seenAnywhere: new Map(),
    samples: new Map(),
    calls: 0,
    lastFaultAt: { DC: Number.NEGATIVE_INFINITY, DR: Number.NEGATIVE_INFINITY },
    internalErrors: [],
    sharedAnswers: [],
  };
}
