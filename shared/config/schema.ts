/**
 * The one configuration (config/<env>.json), read by the CDK app, the sandbox and (as JSON in
 * the CONFIG environment variable or bundled file) by the functions. Validated with zod once;
 * a bad file fails with the field, the value and what was expected.
 */
// zod/mini: the same validation and messages as classic zod at a third of the bundle size
// (every function validates its configuration at init); see ./zod-locale.ts.
import * as z from 'zod/mini';
import './zod-locale.js';
import {
  backupScheduleSchema,
  directorUrlSchema,
  identifierSchema,
  isNarrowHostPattern,
  scheduleSchema,
} from './fields.js';

const positiveInt = z.int().check(z.positive());
const url = directorUrlSchema;

/** Thresholds of the health hysteresis (DESIGN.md). */
export const healthSchema = z.strictObject({
  lossThresholdPct: z._default(z.number().check(z.gte(0), z.lte(100)), 30),
  latencyThresholdMs: z.optional(z.number().check(z.positive())),
  failAfter: z._default(positiveInt, 3),
  recoverAfterSec: z._default(z.number().check(z.nonnegative()), 300),
  sampleIntervalSec: z._default(z.number().check(z.positive()), 5),
  samplesPerRun: z._default(positiveInt, 12),
  /**
   * Offset (s from the run's start) of one more, closing sample round after the regular ones, so
   * the next run's first sample comes within one interval of it; 0: none. @default
   * 60 + 2 − sampleIntervalSec (57 s) when samplesPerRun (≥ 2) × sampleIntervalSec is 60 (the run
   * fills its 1-minute schedule), else none; never for Meraki (series) directors
   */
  closingRoundSec: z.optional(z.number().check(z.nonnegative())),
  /**
   * The longest gap between two observed samples of a target that a clean hold may span; a longer
   * one (director unreachable, a missed run) restarts the hold. @default 2 × sampleIntervalSec for
   * zWAN, 90 for Meraki (one point a minute; a missing point restarts the hold)
   */
  maxSampleGapSec: z.optional(z.number().check(z.positive())),
});

/** A zWAN director per site. */
export const zwanSchema = z.strictObject({
  kind: z.literal('zwan'),
  sites: z.strictObject({
    DC: z.strictObject({ baseUrl: url, managementUrl: z.optional(url) }),
    DR: z.strictObject({ baseUrl: url, managementUrl: z.optional(url) }),
  }),
  /** Secrets Manager secret name holding `{ "apiKey": "…" }` (per site: `{ "DC": "…", "DR": "…" }`). */
  secretName: z.string().check(z.minLength(1)),
  tenants: z.array(identifierSchema).check(z.minLength(1)),
});

/** A Meraki hub in failover order with its tag prefix and tracked IP. */
export const merakiHubSchema = z.strictObject({
  /**
   * The hub's name; part of each branch's candidate id (`<networkId>→<name>`), so an identifier
   * of at most 64 characters (the candidate id stays within 128).
   */
  name: identifierSchema.check(z.maxLength(64, 'at most 64 characters (it is part of every candidate id)')),
  tagPrefix: z
    .string()
    .check(z.regex(/^[A-Za-z0-9_.-]+$/, 'a tag prefix without spaces (letters, digits, _ . -)')),
  trackedIp: z.union([z.ipv4(), z.ipv6()]),
  trustedWithoutTracking: z._default(z.boolean(), false),
  /** Name of the hub's third-party VPN peer in the Dashboard. @default the hub's `name` */
  peerName: z.optional(z.string().check(z.minLength(1))),
});

/** Cisco Meraki Dashboard. */
export const merakiSchema = z
  .strictObject({
    kind: z.literal('meraki'),
    baseUrl: z._default(url, 'https://api.meraki.com/api/v1'),
    secretName: z.string().check(z.minLength(1)),
    organizations: z
      .array(
        z.strictObject({
          id: identifierSchema,
          hubs: z.array(merakiHubSchema).check(z.minLength(2)),
          /** Networks taking part: those carrying this tag (default: any tag of the primary hub). */
          networkTag: z.optional(z.string()),
        }),
      )
      .check(z.minLength(1)),
    /**
     * The controller's share of the organization's 10 requests/s (other apps of the customer share
     * it too): every function and container together send at most this many requests in any 1 s
     * window (a budget in the state table). @default 5
     */
    requestsPerSecond: z._default(z.int().check(z.positive(), z.lte(10)), 5),
    /**
     * Who runs the controller, for the `User-Agent` Meraki asks for (`cpe-failover/<version>
     * <vendor>`): the MSP's or team's name, without spaces. @default cpe-failover
     */
    vendor: z._default(
      z
        .string()
        .check(
          z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a name without spaces (letters, digits, . _ -)'),
        ),
      'cpe-failover',
    ),
    /**
     * Per-request timeout in ms (Meraki's SDK uses 60 s); one call with its retries is still cut at
     * 120 s, within the 5-minute functions. @default 60000
     */
    timeoutMs: z._default(positiveInt.check(z.lte(120_000)), 60_000),
    /**
     * Hosts besides `baseUrl`'s that a redirect or a next-page link may lead to, with the API key
     * (the Dashboard's shards): host names or `*.domain` patterns. Any other redirect is refused.
     * @default the shards of a regional base (api.meraki.com → *.meraki.com; likewise .ca, .cn,
     * .in and api.gov-meraki.com), none for any other base
     */
    redirectHosts: z.optional(
      z
        .array(
          z
            .string()
            .check(
              z.refine(
                isNarrowHostPattern,
                'a host name or *.domain within one registrable domain (e.g. *.meraki.com; not *.com)',
              ),
            ),
        )
        .check(z.minLength(1)),
    ),
    /**
     * Least seconds between two `uplinksLossAndLatency` calls per organization (the series is per
     * minute; below 60 so a scheduled run that starts a little early still calls). @default 45
     */
    lossIntervalSec: z._default(z.number().check(z.positive()), 45),
  })
  .check(
    // A redirect may carry the key: a wildcard may only cover the Dashboard's own domain.
    z.superRefine((meraki, ctx) => {
      const base = new URL(meraki.baseUrl).hostname.toLowerCase();
      (meraki.redirectHosts ?? []).forEach((pattern, i) => {
        const domain = pattern.startsWith('*.') ? pattern.slice(2).toLowerCase() : undefined;
        if (domain !== undefined && base !== domain && !base.endsWith(`.${domain}`)) {
          ctx.addIssue({
            code: 'custom',
            path: ['redirectHosts', i],
            input: pattern,
            message: `a wildcard within the base URL's own domain (${base}); name other hosts exactly`,
          });
        }
      });
    }),
  );

/** What the controller may do to the directors (config `mode`). */
export const CONTROLLER_MODES = ['act', 'observe'] as const;
/** One of {@link CONTROLLER_MODES}. */
export type ControllerMode = (typeof CONTROLLER_MODES)[number];

/** Defaults of the `dr` section (the sandbox divides them by its time scale). */
export const DR_DEFAULTS = { directorLostAfterSec: 300, drainAfterSec: 330 } as const;

export const configSchema = z.strictObject({
  /** Short environment name, used in stack names and resource names. */
  env: z.string().check(z.regex(/^[a-z][a-z0-9-]{1,20}$/, 'lower-case letters, digits and dashes (2–21)')),
  account: z.optional(z.string().check(z.regex(/^\d{12}$/))),
  region: z._default(z.string().check(z.minLength(1)), 'eu-west-1'),
  director: z.discriminatedUnion('kind', [zwanSchema, merakiSchema]),
  /**
   * `act`: the controller changes the directors. `observe`: it samples, elects, stores and
   * notifies its decisions ("observe: would fail over …") but every director write is refused
   * (shared/director/observe.ts) and DR workflows refuse to run. @default act
   */
  mode: z._default(z.enum(CONTROLLER_MODES), 'act'),
  health: z.prefault(healthSchema, {}),
  election: z.prefault(
    z.strictObject({
      preempt: z._default(z.boolean(), true),
      /** MONITOR_BLIND when ≥ this share of all monitored targets go DOWN at once… */
      blindShare: z._default(z.number().check(z.gte(0), z.lte(1)), 0.5),
      /** …and at least this many targets are monitored. */
      blindMinTargets: z._default(positiveInt, 4),
    }),
    {},
  ),
  repoint: z.prefault(
    z.strictObject({
      concurrency: z._default(positiveInt, 16),
      /**
       * zWAN: a group with more branches to move than `concurrency` is re-pointed in one call of
       * the director's group update ("Update Branch to Active Node"), fenced like the single
       * re-points; off: always one call per branch. @default true
       */
      groupCall: z._default(z.boolean(), true),
      requestsPerSecond: z._default(z.number().check(z.positive()), 50),
      timeoutMs: z._default(positiveInt, 5000),
      retries: z._default(z.int().check(z.gte(0)), 3),
    }),
    {},
  ),
  notifications: z.prefault(z.strictObject({ emails: z._default(z.array(z.email()), []) }), {}),
  backup: z.prefault(
    z.strictObject({
      /** EventBridge cron for the daily backup. @default cron(0 12 * * ? *) (12:00 UTC) */
      schedule: z._default(backupScheduleSchema, 'cron(0 12 * * ? *)'),
      /** Weekly drill (Sunday). */
      drillSchedule: z._default(scheduleSchema, 'cron(0 3 ? * SUN *)'),
      maxAgeHours: z._default(z.number().check(z.positive()), 26),
      /**
       * Days every backup object is kept under Object Lock (governance mode) in the backup bucket:
       * within them no one without s3:BypassGovernanceRetention (the controller has not) can
       * destroy a backup. @default 90
       */
      retentionDays: z._default(z.int().check(z.positive(), z.lte(3650)), 90),
    }),
    {},
  ),
  /** Director loss and the switchover's fencing of the old site (README "DR runbook"). */
  dr: z.prefault(
    z.strictObject({
      /**
       * DIRECTOR_LOST (alarm and notice) once the ACTIVE site's director has been unreachable
       * this long. @default 300
       */
      directorLostAfterSec: z._default(z.number().check(z.positive()), DR_DEFAULTS.directorLostAfterSec),
      /**
       * On DIRECTOR_LOST, start SwitchoverDcToDr (unplanned, with the approval step) so the
       * operator approves from the notice. Off by default: a director that is merely unreachable
       * from AWS (a firewall change, a routing fault) is not a lost site, and a switchover moves
       * every branch. @default false
       */
      autoSwitchover: z._default(z.boolean(), false),
      /**
       * A switchover or failback whose old director cannot be told to go PASSIVE waits until
       * that director has been unreachable this long: every fan-out that may still be running
       * on it has ended by then (the longest timeout of the functions that re-point, plus a
       * margin; checked at synth). @default 330
       */
      drainAfterSec: z._default(z.number().check(z.positive()), DR_DEFAULTS.drainAfterSec),
    }),
    {},
  ),
  /** The scheduled drift reconcile (functions/reconcile). */
  reconcile: z.prefault(
    z.strictObject({
      /**
       * EventBridge schedule of the drift reconcile pass (re-points branches whose tunnels are not
       * on their group's serving concentrator). @default rate(5 minutes)
       */
      schedule: z._default(scheduleSchema, 'rate(5 minutes)'),
    }),
    {},
  ),
  /** Powertools settings the functions get as environment variables (and the alarms' metrics). */
  observability: z.prefault(
    z.strictObject({
      /** CloudWatch namespace of the custom metrics. @default CpeFailover */
      metricsNamespace: z._default(
        z
          .string()
          .check(
            z.regex(/^[A-Za-z0-9_./#:-]{1,255}$/, 'a CloudWatch namespace (letters, digits, _ . / # : -)'),
          ),
        'CpeFailover',
      ),
      /** POWERTOOLS_SERVICE_NAME: the `service` dimension of every custom metric. @default cpe-failover */
      serviceName: z._default(z.string().check(z.minLength(1)), 'cpe-failover'),
      /** POWERTOOLS_LOG_LEVEL. @default INFO */
      logLevel: z._default(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']), 'INFO'),
    }),
    {},
  ),
  auditTtlDays: z._default(positiveInt, 90),
  logRetentionDays: z._default(positiveInt, 30),
});

/** The validated configuration, with defaults applied. */
export type Config = z.infer<typeof configSchema>;
/** The configuration as written in the file (defaults optional). */
export type ConfigInput = z.input<typeof configSchema>;
