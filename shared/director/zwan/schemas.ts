/**
 * The zWAN director's answers, validated (zod) against the contract in `openapi.yaml` beside this
 * file before the adapter uses them. Three rules:
 *
 * - A malformed whole answer (not the documented object, a required list missing) is a
 *   DirectorResponseError naming the operation, the field and the value.
 * - A malformed CPE in a listing is left out and reported ({@link MalformedEntry}); the rest of
 *   the tenant is monitored.
 * - A malformed health entry (loss `"abc"`, a loss field missing, `alive` not a boolean) is "no
 *   data" for that CPE: neither good nor bad (shared/domain/health.ts), never a good sample.
 *
 * Responses are loose objects (a newer director may add fields); only what the contract
 * requires is required.
 */
import * as z from 'zod/mini';
import '../../config/zod-locale.js';
import { zodIssues } from '../../config/load.js';
import { DirectorResponseError } from '../../errors.js';
import { conformingHealth } from './conforming.js';
import type {
  WireCpe,
  WireCpeHealth,
  WireDirectorHealth,
  WireFenceResult,
  WireGroupUpdateResult,
  WireHaStateResult,
  WireJob,
  WireManagementUrl,
  WireRepointResult,
  WireSiteRole,
  WireSshOnboardedCpe,
} from './wire.js';

const nonEmpty = z.string().check(z.minLength(1));
const site = z.enum(['DC', 'DR']);
const role = z.enum(['ACTIVE', 'PASSIVE']);
const epoch = z.number().check(z.int(), z.gte(0));
const dateTime = z.iso.datetime({ offset: true });

// Optional fields may come as null ("absent" written by many servers): read as absent.
const lanSchema = z.looseObject({ name: z.string(), cidr: z.string(), virtualIp: z.nullish(z.string()) });
const tunnelSchema = z.looseObject({
  name: z.string(),
  haTunnelIdentifier: z.nullish(z.string()),
  tunnelId: z.string(),
  state: z.enum(['CREATED', 'ESTABLISHED']),
});

/** One CPE of a listing (`Cpe`). */
export const zwanCpeSchema = z.looseObject({
  id: nonEmpty,
  name: z.string(),
  tenantId: nonEmpty,
  metadata: z.record(z.string(), z.string()),
  lans: z.array(lanSchema),
  tunnels: z.array(tunnelSchema),
  haRole: z.nullish(role),
  onboardedBy: z.enum(['provisioning', 'ssh']),
  // Only compared between CPEs ("onboarded later"): any time the director writes is kept.
  onboardedAt: z.nullish(z.string()),
});

/** A page of a listing (`CpePage`, `SshOnboardedPage`): the items are checked one by one. */
const pageSchema = z.looseObject({ items: z.array(z.unknown()), nextCursor: z.optional(z.string()) });

/** One WAN of a health entry; its numbers are checked only on the WAN the sample is taken from. */
const wanHealthSchema = z.looseObject({
  name: z.string(),
  publicIp: z.nullish(z.string()),
  lossPct: z.optional(z.unknown()),
  latencyMs: z.optional(z.unknown()),
});

/** One CPE's bulk-health entry (`CpeHealth`). */
export const zwanCpeHealthSchema = z.looseObject({
  cpeId: z.string(),
  alive: z.boolean(),
  lastSeenAt: z.nullish(z.string()),
  wans: z.array(wanHealthSchema),
});

/** The numbers of the WAN a sample is taken from. */
export const wanNumbersSchema = z.looseObject({
  lossPct: z.number().check(z.gte(0), z.lte(100)),
  latencyMs: z.nullish(z.number().check(z.gte(0))),
});

/** The bulk-health answer (`HealthReport`): the results are checked one by one. */
const healthReportSchema = z.looseObject({
  at: dateTime,
  results: z.array(z.unknown()),
  unknownIds: z.array(z.string()),
});

const jobSchema = z.looseObject({
  jobId: nonEmpty,
  kind: z.enum(['backup', 'restore']),
  state: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED']),
  progressPct: z.number().check(z.gte(0), z.lte(100)),
  manifest: z.optional(
    z.array(
      z.looseObject({
        key: z.string(),
        bytes: z.number().check(z.int(), z.gte(0)),
        sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
      }),
    ),
  ),
  error: z.optional(z.string()),
});

/** Whole answers by operation (the adapter's names for them). */
export const ZWAN_ANSWERS = {
  directorHealth: z.looseObject({
    site,
    status: z.enum(['OK', 'DEGRADED']),
    role,
    version: z.string(),
    time: z.string(),
  }),
  siteRole: z.looseObject({ site, role }),
  cpe: zwanCpeSchema,
  fence: z.looseObject({ haName: z.string(), epoch }),
  haState: z.looseObject({ cpeId: z.string(), haName: z.string(), state: role, epoch, changed: z.boolean() }),
  repoint: z.looseObject({
    branchId: z.string(),
    targetCpeId: z.string(),
    epoch,
    changed: z.boolean(),
    tunnels: z.array(tunnelSchema),
  }),
  groupUpdate: z.looseObject({
    haName: z.string(),
    targetCpeId: z.string(),
    epoch: z.optional(epoch),
    branches: z.array(
      z.looseObject({
        branchId: z.string(),
        changed: z.boolean(),
        code: z.optional(z.enum(['NOT_MANAGED', 'NO_TUNNEL_FOR_IDENTIFIER'])),
        error: z.optional(z.string()),
        managedBy: z.optional(site),
      }),
    ),
  }),
  job: jobSchema,
  managementUrl: z.looseObject({ url: z.string() }),
  sshOnboarded: z.looseObject({
    id: nonEmpty,
    name: z.string(),
    tenantId: nonEmpty,
    onboardedAt: z.optional(dateTime),
  }),
} as const;

/** What each whole answer parses to (the wire types of ./wire.ts). */
interface AnswerTypes {
  directorHealth: WireDirectorHealth;
  siteRole: WireSiteRole;
  cpe: WireCpe;
  fence: WireFenceResult;
  haState: WireHaStateResult;
  repoint: WireRepointResult;
  groupUpdate: WireGroupUpdateResult;
  job: WireJob;
  managementUrl: WireManagementUrl;
  sshOnboarded: WireSshOnboardedCpe;
}

/** An entry of an answer that was left out (a CPE) or read as "no data" (a health entry). */
export interface MalformedEntry {
  /** The operation, e.g. `listCpes`. */
  operation: string;
  /** The entry's id when it has a readable one (`cpeId`/`id`), else its position. */
  entry: string;
  /** The first bad field, its value and what was expected. */
  field: string;
  value: unknown;
  expected: string;
}

/** Parse a whole answer of `operation`; a malformed one throws DirectorResponseError. */
export function parseZwanAnswer<K extends keyof typeof ZWAN_ANSWERS>(
  operation: K,
  status: number,
  body: unknown,
  name = `zWAN ${operation}`,
): AnswerTypes[K] {
  const result = ZWAN_ANSWERS[operation].safeParse(body);
  if (!result.success) throw new DirectorResponseError(name, status, zodIssues(result.error, body));
  return result.data as unknown as AnswerTypes[K];
}

/**
 * The items of a listing page: a page that is not `{ items: [...] }` throws DirectorResponseError;
 * each item that does not conform is left out and passed to `onMalformed`. `conforming`, when
 * given, is a faster exact check of `item` (./conforming.ts): what it returns is kept as is.
 */
export function parseZwanPage<T>(
  operation: string,
  body: unknown,
  item: z.ZodMiniType<T>,
  onMalformed: (entry: MalformedEntry) => void,
  name = `zWAN ${operation}`,
  conforming?: (raw: unknown) => T | undefined,
): { items: T[]; nextCursor?: string } {
  const page = pageSchema.safeParse(body);
  if (!page.success) throw new DirectorResponseError(name, 200, zodIssues(page.error, body));
  const items: T[] = [];
  page.data.items.forEach((raw, i) => {
    const fast = conforming?.(raw);
    if (fast !== undefined) {
      items.push(fast);
      return;
    }
    const parsed = item.safeParse(raw);
    if (parsed.success) items.push(parsed.data);
    else onMalformed(malformed(operation, raw, i, parsed.error));
  });
  return page.data.nextCursor === undefined ? { items } : { items, nextCursor: page.data.nextCursor };
}

/**
 * The bulk-health answer: the report's time and each well-formed entry by CPE id. A malformed
 * whole answer throws DirectorResponseError; a malformed entry is passed to `onMalformed` and its
 * CPE (when its id is readable) listed in `noData`.
 */
export function parseZwanHealth(
  body: unknown,
  onMalformed: (entry: MalformedEntry) => void,
  name = 'zWAN sampleHealth',
): { at: string; results: Map<string, WireCpeHealth>; noData: Set<string> } {
  const report = healthReportSchema.safeParse(body);
  if (!report.success) throw new DirectorResponseError(name, 200, zodIssues(report.error, body));
  const results = new Map<string, WireCpeHealth>();
  const noData = new Set<string>();
  report.data.results.forEach((raw, i) => {
    const fast = conformingHealth(raw);
    if (fast) {
      results.set(fast.cpeId, fast as WireCpeHealth);
      return;
    }
    const parsed = zwanCpeHealthSchema.safeParse(raw);
    if (parsed.success) {
      results.set(parsed.data.cpeId, parsed.data as WireCpeHealth);
      return;
    }
    const entry = malformed('sampleHealth', raw, i, parsed.error);
    onMalformed(entry);
    // A director that says a CPE is not alive is believed, whatever else is wrong with the entry.
    const obj = raw as { alive?: unknown } | null;
    if (entry.entry !== `#${i}` && obj?.alive === false) {
      results.set(entry.entry, { cpeId: entry.entry, alive: false, wans: [] });
      return;
    }
    if (entry.entry !== `#${i}`) noData.add(entry.entry);
  });
  return { at: report.data.at, results, noData };
}

function malformed(operation: string, raw: unknown, index: number, error: z.core.$ZodError): MalformedEntry {
  const obj = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const id = typeof obj.cpeId === 'string' && obj.cpeId ? obj.cpeId : obj.id;
  const first = zodIssues(error, raw)[0] ?? { path: '', value: raw, expected: 'a conforming entry' };
  return {
    operation,
    entry: typeof id === 'string' && id !== '' ? id : `#${index}`,
    field: first.path,
    value: first.value,
    expected: first.expected,
  };
}
