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
 * Responses are loose objects (the Dashboard adds fields over time; unknown fields pass through);
 * request bodies are strict (the controller sends exactly these fields).
 */
// zod/mini with the English messages: the adapter is bundled into every Meraki function.
import * as z from 'zod/mini';
import '../../config/zod-locale.js';
import { zodIssues } from '../../config/load.js';
import { DirectorResponseError, ValidationError } from '../../errors.js';

const id = z.string().check(z.minLength(1));

/** Whole tag names (v1: an array; each tag is one word). */
export const tagsSchema = z.array(z.string().check(z.regex(/^\S+$/, 'a tag without spaces')));

/** A network as the Dashboard returns it (GET/PUT `/networks/{id}`, items of the org listing). */
export const networkSchema = z.looseObject({
  id,
  organizationId: id,
  name: z.string(),
  tags: tagsSchema,
});

/** One page of `GET /organizations/{organizationId}/networks`. */
export const networkListSchema = z.array(networkSchema);

/** The body of `PUT /networks/{networkId}` as the controller sends it: the tags only. */
export const networkTagsChangeSchema = z.strictObject({ tags: tagsSchema });

/** One per-minute point of a loss series; null means no data for that minute. */
export const lossPointSchema = z.looseObject({
  ts: z.iso.datetime({ offset: true }),
  lossPercent: z.nullable(z.number().check(z.gte(0), z.lte(100))),
  latencyMs: z.nullable(z.number().check(z.gte(0))),
});

/** The answer of `GET /organizations/{organizationId}/devices/uplinksLossAndLatency`. */
export const lossSeriesListSchema = z.array(
  z.looseObject({
    networkId: id,
    serial: z.string(),
    uplink: z.enum(['wan1', 'wan2', 'wan3', 'cellular']),
    ip: z.string(),
    timeSeries: z.array(lossPointSchema),
  }),
);

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

/** An action batch as the Dashboard returns it (POST answer, `GET …/actionBatches/{id}`). */
export const batchSchema = z.looseObject({
  id,
  organizationId: id,
  confirmed: z.boolean(),
  synchronous: z.boolean(),
  status: z.looseObject({
    completed: z.boolean(),
    failed: z.boolean(),
    errors: z.array(z.string()),
    createdResources: z.array(z.looseObject({ id: z.optional(z.string()), uri: z.optional(z.string()) })),
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

/** Every operation the adapter calls (and the simulator serves). */
export const MERAKI_OPERATIONS = {
  listNetworks: op('GET', '/organizations/{organizationId}/networks', {
    status: 200,
    body: networkListSchema,
  }),
  readNetwork: op('GET', '/networks/{networkId}', { status: 200, body: networkSchema }),
  writeNetworkTags: op(
    'PUT',
    '/networks/{networkId}',
    { status: 200, body: networkSchema },
    networkTagsChangeSchema,
  ),
  uplinksLossAndLatency: op('GET', '/organizations/{organizationId}/devices/uplinksLossAndLatency', {
    status: 200,
    body: lossSeriesListSchema,
  }),
  submitBatch: op(
    'POST',
    '/organizations/{organizationId}/actionBatches',
    { status: 201, body: batchSchema },
    batchSubmissionSchema,
  ),
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
