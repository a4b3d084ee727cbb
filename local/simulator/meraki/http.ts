/**
 * HTTP pieces of the Meraki simulator: Meraki's error body, paging with `Link` headers as the
 * Dashboard pages (`perPage`, `startingAfter`/`endingBefore` tokens), array query parameters
 * (`networkIds[]=…`) and header redaction for the request log.
 */

/** An answer other than success, with Meraki's `{ errors: [...] }` body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly messages: string[],
    readonly headers: Record<string, string> = {},
  ) {
    super(messages.join('; '));
    this.name = 'HttpError';
  }
}

/** Meraki's error body. */
export function errors(...messages: string[]): { errors: string[] } {
  return { errors: messages };
}

/**
 * A large array answer (the organization-wide loss series: 60,000 series for 10,000 networks
 * of two uplinks, tens of MB) built item by item as it is serialized. A listening simulator serializes it in
 * slices and answers other requests in between, as the real Dashboard (many servers) does not
 * stall every caller while it builds one answer: built and stringified at once it held the
 * simulator's event loop half a second, and the requests that arrived meanwhile were logged as
 * arriving together.
 */
export class LazyArray {
  constructor(readonly items: () => Iterable<unknown>) {}
}

/** What a route answers. */
export interface RouteResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * One page of `items` (in listing order, each with a stable `token`) as the Dashboard pages:
 * `perPage` within `[min, max]` (default `max`), `startingAfter`/`endingBefore` tokens, and a
 * `Link` header with first, prev, next and last. The other query parameters are kept in the links.
 */
export function page<T>(
  items: readonly T[],
  tokenOf: (item: T) => string,
  query: URLSearchParams,
  selfUrl: string,
  bounds: { min: number; max: number; default?: number },
): { items: T[]; headers: Record<string, string> } {
  const perPageQ = query.get('perPage');
  const perPage = perPageQ === null ? (bounds.default ?? bounds.max) : Number(perPageQ);
  if (!Number.isInteger(perPage) || perPage < bounds.min || perPage > bounds.max) {
    throw new HttpError(400, [
      `'perPage' must be an integer from ${bounds.min} to ${bounds.max}, not ${JSON.stringify(perPageQ)}`,
    ]);
  }
  const indexOf = (param: string): number | undefined => {
    const token = query.get(param);
    if (token === null) return undefined;
    const i = items.findIndex((x) => tokenOf(x) === token);
    if (i < 0) throw new HttpError(400, [`'${param}' is not a valid page token: ${JSON.stringify(token)}`]);
    return i;
  };
  const after = indexOf('startingAfter');
  const before = indexOf('endingBefore');
  let start = after === undefined ? 0 : after + 1;
  if (after === undefined && before !== undefined) start = Math.max(0, before - perPage);
  const end = Math.min(items.length, start + perPage, before ?? items.length);
  const slice = items.slice(start, end);
  const link = (param?: string, token?: string): string => {
    const u = new URL(selfUrl);
    u.searchParams.delete('startingAfter');
    u.searchParams.delete('endingBefore');
    u.searchParams.set('perPage', String(perPage));
    if (param && token !== undefined) u.searchParams.set(param, token);
    return `<${u.toString()}>`;
  };
  const links = [`${link()}; rel=first`];
  const first = slice[0];
  const last = slice[slice.length - 1];
  if (start > 0 && first !== undefined) links.push(`${link('endingBefore', tokenOf(first))}; rel=prev`);
  if (end < items.length && last !== undefined) {
    links.push(`${link('startingAfter', tokenOf(last))}; rel=next`);
    const beforeLast = items[Math.max(0, items.length - perPage) - 1];
    links.push(`${beforeLast ? link('startingAfter', tokenOf(beforeLast)) : link()}; rel=last`);
  }
  return { items: slice, headers: { link: links.join(', ') } };
}

/** An array query parameter as Meraki takes it (`name[]=a&name[]=b`; `name=a` also accepted); undefined when absent. */
export function arrayParam(query: URLSearchParams, name: string): Set<string> | undefined {
  const values = [...query.getAll(`${name}[]`), ...query.getAll(name)];
  return values.length === 0 ? undefined : new Set(values);
}

/** Query parameters as the log keeps them (repeated ones as arrays). */
export function queryObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? (all[0] as string) : all;
  }
  return out;
}

/** Request headers as the log keeps them: lower-case, credentials replaced by `<redacted>`. */
export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const secret = k === 'authorization' || k === 'x-cisco-meraki-api-key';
    out[k] = secret ? '<redacted>' : Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** A JSON object argument, or a 400 naming the field. */
export function objectOf(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, [`'${field}' must be an object, not ${JSON.stringify(value)}`]);
  }
  return value as Record<string, unknown>;
}
