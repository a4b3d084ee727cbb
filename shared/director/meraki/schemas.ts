/**
 * The project's own schemas (zod) for the Meraki Dashboard v1 operations it uses, written from the
 * facts of Meraki's published API (issue 4 §3). One statement of each body shape, used three ways:
 * the adapter parses every answer with them and builds its request bodies through them, the
 * npm-test contract test checks every recorded request and response body against them, and the
 * conformance script checks the same traffic against Meraki's official OpenAPI spec.
 *
 * The project's OpenAPI subset (./openapi-subset.yaml) states the operations, their path and
 * query parameters and their headers (Link, Retry-After); the bodies are stated here only.
 *
 * Responses are loose objects (the Dashboard adds fields over time; unknown fields pass through)
 * and require no more than the adapter needs: the official spec marks almost nothing required,
 * and real answers drift from it. A list answer is parsed entry by entry
 * ({@link parseMerakiList}): an entry that lacks what the adapter needs (a network id, a tag
 * array) is left out and reported ({@link MalformedEntry}), the rest of the organization is
 * used; an answer that is not the documented shape as a whole (not an array) is a
 * DirectorResponseError. Values the spec gives as plain strings (an uplink's name, its status, a
 * tag) are not narrowed to today's values. Request bodies are strict (the controller sends
 * exactly these fields).
 */
// zod/mini with the English messages: the adapter is bundled into every Meraki function.
import * as z from 'zod/mini';
import '../../config/zod-locale.js';
import { zodIssues } from '../../config/load.js';
import { DirectorResponseError, ValidationError } from '../../errors.js';

const id = z.string().check(z.minLength(1));

/**
 * Whole tag names (v1: an array of strings). Not narrowed further: an operator's tag the spec
 * allows (even one with a space) is kept as it is and written back unchanged by a tag swap.
 */
export const tagsSchema = z.array(z.string());

/**
 * A network as the Dashboard returns it (GET/PUT `/networks/{id}`, items of the org listing). The
 * spec requires no field; the adapter needs the id and the tag array (a swap writes the whole
 * array back, so a network whose tags cannot be read is never re-tagged).
 */
export const networkSchema = z.looseObject({
  id,
  organizationId: z.optional(z.string()),
  name: z.optional(z.string()),
  tags: tagsSchema,
});

/** One page of `GET /organizations/{organizationId}/networks`. */
export const networkListSchema = z.array(networkSchema);

/** The body of `PUT /networks/{networkId}` as the controller sends it: the tags only. */
export const networkTagsChangeSchema = z.strictObject({ tags: tagsSchema });

/** One per-minute point of a loss series; null (or absent) means no data for that minute. */
export const lossPointSchema = z.looseObject({
  ts: z.iso.datetime({ offset: true }),
  lossPercent: z.optional(z.nullable(z.number().check(z.gte(0), z.lte(100)))),
  latencyMs: z.optional(z.nullable(z.number().check(z.gte(0)))),
});

/**
 * One series of `uplinksLossAndLatency`: a network's uplink (wan1, wan2, wan3, cellular, or a
 * name the spec does not list yet) towards one destination IP.
 */
export const lossSeriesSchema = z.looseObject({
  networkId: id,
  serial: z.optional(z.string()),
  uplink: z.string(),
  ip: z.string(),
  timeSeries: z._default(z.array(lossPointSchema), []),
});

/** The answer of `GET /organizations/{organizationId}/devices/uplinksLossAndLatency`. */
export const lossSeriesListSchema = z.array(lossSeriesSchema);

/** One uplink of an appliance in `GET /organizations/{organizationId}/appliance/uplink/statuses`. */
export const applianceUplinkSchema = z.looseObject({
  /** wan1, wan2, wan3, cellular (or a newer name). */
  interface: z.string(),
  /** active, ready, connecting, not connected, failed (or a newer value). */
  status: z.string(),
  publicIp: z.optional(z.nullable(z.string())),
});

/** One appliance (MX) of `GET /organizations/{organizationId}/appliance/uplink/statuses`. */
export const applianceUplinkStatusSchema = z.looseObject({
  networkId: id,
  serial: z.optional(z.string()),
  highAvailability: z.optional(
    z.looseObject({ enabled: z.optional(z.boolean()), role: z.optional(z.string()) }),
  ),
  uplinks: z.array(applianceUplinkSchema),
});

/** One page of `GET /organizations/{organizationId}/appliance/uplink/statuses`. */
export const applianceUplinkStatusListSchema = z.array(applianceUplinkStatusSchema);

/** A third-party VPN peer as one network sees it (VPN statuses). */
export const vpnPeerReachSchema = z.looseObject({
  name: z.optional(z.string()),
  publicIp: z.optional(z.nullable(z.string())),
  /** reachable, unreachable (or a newer value). */
  reachability: z.optional(z.string()),
});

/** One network of `GET /organizations/{organizationId}/appliance/vpn/statuses`. */
export const vpnStatusSchema = z.looseObject({
  networkId: id,
  networkName: z.optional(z.string()),
  deviceSerial: z.optional(z.string()),
  deviceStatus: z.optional(z.string()),
  thirdPartyVpnPeers: z._default(z.array(vpnPeerReachSchema), []),
});

/** One page of `GET /organizations/{organizationId}/appliance/vpn/statuses`. */
export const vpnStatusListSchema = z.array(vpnStatusSchema);

/** One peer of `GET /organizations/{organizationId}/appliance/vpn/thirdPartyVPNPeers`. */
export const thirdPartyPeerSchema = z.looseObject({
  name: z.string(),
  publicIp: z.optional(z.nullable(z.string())),
  /** Networks with one of these tags connect to the peer; absent means `['all']` (spec). */
  networkTags: z.optional(z.array(z.string())),
});

/** One action of a batch: a tags update of one network. */
export const networkActionSchema = z.strictObject({
  resource: z.string().check(z.regex(/^\/networks\/[^/]+$/, 'a /networks/{networkId} resource')),
  operation: z.literal('update'),
  body: networkTagsChangeSchema,
});

/** The body of `POST /organizations/{organizationId}/actionBatches` (at most 100 actions). */
export const batchSubmissionSchema = z.strictObject({
  confirmed: z.boolean(),
  synchronous: z.boolean(),
  actions: z.array(networkActionSchema).check(z.minLength(1), z.maxLength(100)),
});

/** A batch's status: the spec requires only `createdResources`; an absent flag is "not yet". */
export const batchStatusSchema = z.looseObject({
  completed: z._default(z.boolean(), false),
  failed: z._default(z.boolean(), false),
  errors: z._default(z.array(z.string()), []),
  createdResources: z.array(z.looseObject({ id: z.optional(z.string()), uri: z.optional(z.string()) })),
});

/**
 * An action batch as the Dashboard returns it (POST answer, `GET …/actionBatches[/{id}]`). The
 * spec requires `actions` (each with `resource` and `operation`); the adapter also needs the `id`
 * to follow a batch. An absent `status` is a batch not completed yet.
 */
export const batchSchema = z.looseObject({
  id,
  organizationId: z.optional(z.string()),
  confirmed: z.optional(z.boolean()),
  synchronous: z.optional(z.boolean()),
  status: z._default(batchStatusSchema, {
    completed: false,
    failed: false,
    errors: [],
    createdResources: [],
  }),
  actions: z.array(z.looseObject({ resource: z.string(), operation: z.string() })),
});

/** Meraki's error body (4xx, 429). */
export const errorBodySchema = z.looseObject({
  errors: z.array(z.string()).check(z.minLength(1)),
});

/** One Meraki operation the controller uses, with its bodies. */
export interface MerakiOperation<
  Res extends z.ZodMiniType = z.ZodMiniType,
  Req extends z.ZodMiniType | undefined = z.ZodMiniType | undefined,
> {
  /** A short name for messages, e.g. `GET /networks/{networkId}`. */
  readonly name: string;
  readonly method: 'GET' | 'PUT' | 'POST';
  /** Matches the path below the base URL. */
  readonly path: RegExp;
  /** The request body, when the operation has one. */
  readonly request: Req;
  /** The status of success and the body it carries. */
  readonly success: { status: number; body: Res };
}

/** A list operation: its answer (or the field `in` of it) is an array of `entry`. */
export interface MerakiListOperation<
  Entry extends z.ZodMiniType = z.ZodMiniType,
  Res extends z.ZodMiniType = z.ZodMiniType,
> extends MerakiOperation<Res, undefined> {
  readonly list: {
    entry: Entry;
    /** The answer's field holding the array; the answer itself when absent. */
    in?: string;
    /** The entry's field naming its network, for reports. */
    networkKey?: string;
  };
}

const seg = '[^/]+';
function op<Res extends z.ZodMiniType, Req extends z.ZodMiniType | undefined = undefined>(
  method: MerakiOperation['method'],
  template: string,
  success: { status: number; body: Res },
  request?: Req,
): MerakiOperation<Res, Req> {
  return {
    name: `${method} ${template}`,
    method,
    path: new RegExp(`^${template.replace(/\{[^}]+\}/g, seg)}$`),
    success,
    request: request as Req,
  };
}

/** A GET whose answer is an array of `entry` (or `{ [in]: entry[] }`). */
function listOp<Entry extends z.ZodMiniType>(
  template: string,
  entry: Entry,
  list: { in?: string; networkKey?: string } = {},
): MerakiListOperation<Entry> {
  const array = z.array(entry);
  const body = list.in ? z.looseObject({ [list.in]: array }) : array;
  return { ...op('GET', template, { status: 200, body }), list: { entry, ...list } };
}

/** Every operation the adapter calls (and the simulator serves). */
export const MERAKI_OPERATIONS = {
  listNetworks: listOp('/organizations/{organizationId}/networks', networkSchema, { networkKey: 'id' }),
  readNetwork: op('GET', '/networks/{networkId}', { status: 200, body: networkSchema }),
  writeNetworkTags: op(
    'PUT',
    '/networks/{networkId}',
    { status: 200, body: networkSchema },
    networkTagsChangeSchema,
  ),
  uplinksLossAndLatency: listOp(
    '/organizations/{organizationId}/devices/uplinksLossAndLatency',
    lossSeriesSchema,
    { networkKey: 'networkId' },
  ),
  uplinkStatuses: listOp(
    '/organizations/{organizationId}/appliance/uplink/statuses',
    applianceUplinkStatusSchema,
    {
      networkKey: 'networkId',
    },
  ),
  vpnStatuses: listOp('/organizations/{organizationId}/appliance/vpn/statuses', vpnStatusSchema, {
    networkKey: 'networkId',
  }),
  thirdPartyVpnPeers: listOp(
    '/organizations/{organizationId}/appliance/vpn/thirdPartyVPNPeers',
    thirdPartyPeerSchema,
    {
      in: 'peers',
    },
  ),
  submitBatch: op(
    'POST',
    '/organizations/{organizationId}/actionBatches',
    { status: 201, body: batchSchema },
    batchSubmissionSchema,
  ),
  listBatches: listOp('/organizations/{organizationId}/actionBatches', batchSchema),
  readBatch: op('GET', '/organizations/{organizationId}/actionBatches/{actionBatchId}', {
    status: 200,
    body: batchSchema,
  }),
} as const;

/** The operation of a method and path, or undefined. */
export function merakiOperationOf(method: string, path: string): MerakiOperation | undefined {
  const m = method.toUpperCase();
  return Object.values(MERAKI_OPERATIONS).find((o) => o.method === m && o.path.test(path));
}

/** The issues of `value` against `schema` (field path, value, expected), empty when it conforms. */
export function schemaIssues(
  schema: z.ZodMiniType,
  value: unknown,
): { path: string; value: unknown; expected: string }[] {
  const result = schema.safeParse(value);
  return result.success ? [] : zodIssues(result.error, value);
}

/**
 * Parse a Dashboard answer of `operation`; a malformed one throws {@link DirectorResponseError}
 * naming the operation, each bad field and its value (never an `undefined` further down).
 */
export function parseMerakiResponse<S extends z.ZodMiniType>(
  operation: MerakiOperation<S>,
  status: number,
  body: unknown,
): z.output<S> {
  const result = operation.success.body.safeParse(body);
  if (!result.success) throw new DirectorResponseError(operation.name, status, zodIssues(result.error, body));
  return result.data;
}

/**
 * An entry of a list answer the adapter left out because it lacks what the adapter needs or has
 * a value of the wrong type: which operation, the network it belongs to (when it says), the
 * field (its path in the answer) and the value. A caller logs these; the rest of the answer is
 * used.
 */
export interface MalformedEntry {
  operation: string;
  networkId?: string;
  field: string;
  value: unknown;
  expected: string;
}

/** What {@link parseMerakiList} read: the usable entries and the ones left out. */
export interface MerakiList<T> {
  entries: T[];
  malformed: MalformedEntry[];
}

/**
 * Parse a list answer of `operation` entry by entry (see the module comment): a malformed entry is
 * left out and reported; an answer whose array is missing or not an array throws
 * {@link DirectorResponseError} naming the operation, the field and the value.
 */
export function parseMerakiList<E extends z.ZodMiniType>(
  operation: MerakiListOperation<E>,
  status: number,
  body: unknown,
): MerakiList<z.output<E>> {
  const container = operation.list.in;
  const isObject = body !== null && typeof body === 'object' && !Array.isArray(body);
  const array: unknown =
    container === undefined ? body : isObject ? (body as Record<string, unknown>)[container] : undefined;
  if (!Array.isArray(array)) {
    const issue =
      container === undefined
        ? { path: '', value: body, expected: 'an array' }
        : isObject
          ? { path: container, value: array, expected: 'an array' }
          : { path: '', value: body, expected: `an object with an array ${container}` };
    throw new DirectorResponseError(operation.name, status, [issue]);
  }
  const out: MerakiList<z.output<E>> = { entries: [], malformed: [] };
  const prefix = container === undefined ? '' : `${container}.`;
  array.forEach((item: unknown, i) => {
    const result = operation.list.entry.safeParse(item);
    if (result.success) {
      out.entries.push(result.data);
      return;
    }
    const key = operation.list.networkKey;
    const networkId =
      key !== undefined && item !== null && typeof item === 'object'
        ? (item as Record<string, unknown>)[key]
        : undefined;
    for (const issue of zodIssues(result.error, item)) {
      out.malformed.push({
        operation: operation.name,
        ...(typeof networkId === 'string' && networkId !== '' ? { networkId } : {}),
        field: `${prefix}${i}${issue.path ? `.${issue.path}` : ''}`,
        value: issue.value,
        expected: issue.expected,
      });
    }
  });
  return out;
}

/**
 * Build the request body of `operation` through its schema; a bad one throws ValidationError
 * naming the operation, the field and the value, and nothing is sent.
 */
export function merakiRequestBody<S extends z.ZodMiniType>(
  operation: MerakiOperation<z.ZodMiniType, S>,
  body: z.input<S>,
): z.output<S> {
  const result = operation.request.safeParse(body);
  if (!result.success) {
    throw new ValidationError(`Meraki ${operation.name} request body`, zodIssues(result.error, body));
  }
  return result.data;
}
