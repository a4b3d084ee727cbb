/**
 * Hand-written checks of the entries a director sends by the thousand: a CPE of a listing
 * ({@link zwanCpeSchema}), a bulk-health entry ({@link zwanCpeHealthSchema}) and its WAN's
 * numbers ({@link wanNumbersSchema}). Each accepts
 * exactly what its schema accepts, for plain JSON data, and returns the entry itself rather than
 * zod's copy of it; anything else (a malformed entry, an object with a prototype or an own
 * `__proto__`) is undefined, and the caller asks zod, which says what is wrong. Listings are
 * most of the bytes a health run, a failover or a drift pass reads, and zod's generic walk (a
 * result object per field, a copy per object) cost more than reading them.
 *
 * Callers must not rely on the entry being a fresh copy: the adapter copies the fields it uses.
 * test/unit/director/zwan-conforming.test.ts holds these to the schemas.
 */
import type * as z from 'zod/mini';
import type { wanNumbersSchema, zwanCpeHealthSchema, zwanCpeSchema } from './schemas.js';

type Cpe = z.output<typeof zwanCpeSchema>;
type Health = z.output<typeof zwanCpeHealthSchema>;
type WanNumbers = z.output<typeof wanNumbersSchema>;

type Obj = Record<string, unknown>;

/** A plain object (JSON's kind) without an own `__proto__`; zod judges any other. */
function plain(v: unknown): v is Obj {
  return (
    typeof v === 'object' &&
    v !== null &&
    Object.getPrototypeOf(v) === Object.prototype &&
    !Object.prototype.hasOwnProperty.call(v, '__proto__')
  );
}

const isString = (v: unknown): v is string => typeof v === 'string';
/** `z.nullish(z.string())`. */
const nullishString = (v: unknown) => v === undefined || v === null || typeof v === 'string';
const nonEmpty = (v: unknown) => typeof v === 'string' && v.length > 0;

/** `z.record(z.string(), z.string())` on a plain object with string keys only. */
function stringRecord(v: unknown): boolean {
  if (!plain(v) || Object.getOwnPropertySymbols(v).length > 0) return false;
  for (const key in v) if (typeof v[key] !== 'string') return false;
  return true;
}

function lan(v: unknown): boolean {
  return plain(v) && isString(v.name) && isString(v.cidr) && nullishString(v.virtualIp);
}

function tunnel(v: unknown): boolean {
  return (
    plain(v) &&
    isString(v.name) &&
    nullishString(v.haTunnelIdentifier) &&
    isString(v.tunnelId) &&
    (v.state === 'CREATED' || v.state === 'ESTABLISHED')
  );
}

function every(v: unknown, item: (x: unknown) => boolean): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!item(v[i])) return false;
  return true;
}

/** `raw` when it conforms to {@link zwanCpeSchema}, else undefined (ask zod). */
export function conformingCpe(raw: unknown): Cpe | undefined {
  if (!plain(raw)) return undefined;
  const role = raw.haRole;
  const ok =
    nonEmpty(raw.id) &&
    isString(raw.name) &&
    nonEmpty(raw.tenantId) &&
    stringRecord(raw.metadata) &&
    every(raw.lans, lan) &&
    every(raw.tunnels, tunnel) &&
    (role === undefined || role === null || role === 'ACTIVE' || role === 'PASSIVE') &&
    (raw.onboardedBy === 'provisioning' || raw.onboardedBy === 'ssh') &&
    nullishString(raw.onboardedAt);
  return ok ? (raw as Cpe) : undefined;
}

function wanHealth(v: unknown): boolean {
  // lossPct and latencyMs are `z.optional(z.unknown())`: anything (numbers are checked later).
  return plain(v) && isString(v.name) && nullishString(v.publicIp);
}

/** `raw` when it conforms to {@link zwanCpeHealthSchema}, else undefined (ask zod). */
export function conformingHealth(raw: unknown): Health | undefined {
  if (!plain(raw)) return undefined;
  const ok =
    isString(raw.cpeId) &&
    typeof raw.alive === 'boolean' &&
    nullishString(raw.lastSeenAt) &&
    every(raw.wans, wanHealth);
  return ok ? (raw as Health) : undefined;
}

/** `z.number()` (finite) within [min, max]. */
const numberIn = (v: unknown, min: number, max: number) =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;

/** `wan` when it conforms to {@link wanNumbersSchema}, else undefined (ask zod). */
export function conformingWanNumbers(wan: unknown): WanNumbers | undefined {
  if (!plain(wan)) return undefined;
  const latency = wan.latencyMs;
  const ok =
    numberIn(wan.lossPct, 0, 100) &&
    (latency === undefined || latency === null || numberIn(latency, 0, Number.POSITIVE_INFINITY));
  return ok ? (wan as WanNumbers) : undefined;
}
