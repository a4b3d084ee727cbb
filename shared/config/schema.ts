/**
 * The one configuration (config/<env>.json), read by the CDK app, the sandbox and (as JSON in
 * the CONFIG environment variable or bundled file) by the functions. Validated with zod once;
 * a bad file fails with the field, the value and what was expected.
 */
// Namespace import: lets esbuild tree-shake zod (`import { z }` bundles all of it, locales included: +370 KB).
import * as z from 'zod';

const positiveInt = z.number().int().positive();
const url = z.url();

/** Thresholds of the health hysteresis (DESIGN.md). */
export const healthSchema = z
  .object({
    lossThresholdPct: z.number().min(0).max(100).default(30),
    latencyThresholdMs: z.number().positive().optional(),
    failAfter: positiveInt.default(3),
    recoverAfterSec: z.number().nonnegative().default(300),
    sampleIntervalSec: z.number().positive().default(5),
    samplesPerRun: positiveInt.default(12),
  })
  .strict();

/** A zWAN director per site. */
export const zwanSchema = z
  .object({
    kind: z.literal('zwan'),
    sites: z
      .object({
        DC: z.object({ baseUrl: url, managementUrl: url.optional() }).strict(),
        DR: z.object({ baseUrl: url, managementUrl: url.optional() }).strict(),
      })
      .strict(),
    /** Secrets Manager secret name holding `{ "apiKey": "…" }` (per site: `{ "DC": "…", "DR": "…" }`). */
    secretName: z.string().min(1),
    tenants: z.array(z.string().min(1)).min(1),
  })
  .strict();

/** A Meraki hub in failover order with its tag prefix and tracked IP. */
export const merakiHubSchema = z
  .object({
    name: z.string().min(1),
    tagPrefix: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a tag prefix without spaces (letters, digits, _ . -)'),
    trackedIp: z.union([z.ipv4(), z.ipv6()]),
    trustedWithoutTracking: z.boolean().default(false),
  })
  .strict();

/** Cisco Meraki Dashboard. */
export const merakiSchema = z
  .object({
    kind: z.literal('meraki'),
    baseUrl: url.default('https://api.meraki.com/api/v1'),
    secretName: z.string().min(1),
    organizations: z
      .array(
        z
          .object({
            id: z.string().min(1),
            hubs: z.array(merakiHubSchema).min(2),
            /** Networks taking part: those carrying this tag (default: any tag of the primary hub). */
            networkTag: z.string().optional(),
          })
          .strict(),
      )
      .min(1),
    requestsPerSecond: z.number().positive().max(10).default(9),
    /**
     * Least seconds between two `uplinksLossAndLatency` calls per organization (the series is per
     * minute; below 60 so a scheduled run that starts a little early still calls). @default 45
     */
    lossIntervalSec: z.number().positive().default(45),
  })
  .strict();

export const configSchema = z
  .object({
    /** Short environment name, used in stack names and resource names. */
    env: z.string().regex(/^[a-z][a-z0-9-]{1,20}$/, 'lower-case letters, digits and dashes (2–21)'),
    account: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    region: z.string().min(1).default('eu-west-1'),
    director: z.discriminatedUnion('kind', [zwanSchema, merakiSchema]),
    health: healthSchema.prefault({}),
    election: z
      .object({
        preempt: z.boolean().default(true),
        /** MONITOR_BLIND when ≥ this share of all monitored targets go DOWN at once… */
        blindShare: z.number().min(0).max(1).default(0.5),
        /** …and at least this many targets are monitored. */
        blindMinTargets: positiveInt.default(4),
      })
      .strict()
      .prefault({}),
    repoint: z
      .object({
        concurrency: positiveInt.default(16),
        requestsPerSecond: z.number().positive().default(50),
        timeoutMs: positiveInt.default(5000),
        retries: z.number().int().min(0).default(3),
      })
      .strict()
      .prefault({}),
    notifications: z
      .object({ emails: z.array(z.email()).default([]) })
      .strict()
      .prefault({}),
    backup: z
      .object({
        /** EventBridge cron for the daily backup. @default cron(0 12 * * ? *) (12:00 UTC) */
        schedule: z.string().default('cron(0 12 * * ? *)'),
        /** Weekly drill (Sunday). */
        drillSchedule: z.string().default('cron(0 3 ? * SUN *)'),
        maxAgeHours: z.number().positive().default(26),
      })
      .strict()
      .prefault({}),
    /** Powertools settings the functions get as environment variables (and the alarms' metrics). */
    observability: z
      .object({
        /** CloudWatch namespace of the custom metrics. @default CpeFailover */
        metricsNamespace: z
          .string()
          .regex(/^[A-Za-z0-9_./#:-]{1,255}$/, 'a CloudWatch namespace (letters, digits, _ . / # : -)')
          .default('CpeFailover'),
        /** POWERTOOLS_SERVICE_NAME: the `service` dimension of every custom metric. @default cpe-failover */
        serviceName: z.string().min(1).default('cpe-failover'),
        /** POWERTOOLS_LOG_LEVEL. @default INFO */
        logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO'),
      })
      .strict()
      .prefault({}),
    auditTtlDays: positiveInt.default(90),
    logRetentionDays: positiveInt.default(30),
  })
  .strict();

/** The validated configuration, with defaults applied. */
export type Config = z.infer<typeof configSchema>;
/** The configuration as written in the file (defaults optional). */
export type ConfigInput = z.input<typeof configSchema>;
