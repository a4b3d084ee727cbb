/**
 * What the deployed controller costs per month (`npx tsx local/tools/cost.ts [--groups 1,100,1000]
 * [--env example] [--backup-gb 1] [--markdown]`): the quantities come from the synthesized
 * templates (schedules, memory sizes, state machines, alarms, the dashboard, the bucket's
 * retention, and the configuration the functions carry in their environment), the requests per
 * run from the code (see {@link REQUESTS}), and prices from {@link PRICES} (stated assumptions).
 * Free tiers are left out: the figures are what an account already past them pays.
 */
import { pathToFileURL } from 'node:url';
import { synthTemplates } from '../../cdk/assembly.js';
import { costInputError, DAYS_PER_MONTH, templateFacts, type TemplateFacts } from './cost-template.js';

/**
 * AWS list prices, us-east-1, on-demand, as published in 2025 (assumptions: check
 * https://aws.amazon.com/pricing/ before relying on a figure). Lambda is arm64, as deployed.
 */
export const PRICES = {
  asOf: '2025 list prices, us-east-1, free tiers excluded',
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoStorageGbMonth: 0.25,
  dynamoPitrGbMonth: 0.2,
  stateTransition: 0.025 / 1000,
  s3StandardGbMonth: 0.023,
  s3Put: 0.005 / 1000,
  kmsKeyMonth: 1,
  kmsRequest: 0.03 / 10_000,
  snsEmail: 2 / 100_000,
  alarmMetricMonth: 0.1,
  dashboardMonth: 3,
  customMetricMonth: 0.3,
  logsIngestGb: 0.5,
  xrayTrace: 5 / 1e6,
  secretMonth: 0.4,
  secretCall: 0.05 / 10_000,
} as const;

/**
 * Requests and sizes per run, from the code (file references in each comment); the read counts
 * are measured on the real repositories by test/unit/tools/request-counts.test.ts. Steady state:
 * nothing changes, so nothing is written (that test, and bench/results/health-run.json over 100
 * groups on DynamoDB Local).
 */
export const REQUESTS = {
  /**
   * shared/health/run.ts: one strongly consistent Query per group (repos/health.ts loadHealth;
   * a group's health items fit in 4 KB: 1 read unit), one Query of the site items
   * (repos/sites.ts getSiteRoles) and one GetItem per site director (repos/directors.ts).
   */
  healthReadsPerGroup: 1,
  healthReadsPerRun: 1,
  /**
   * shared/failover/drift.ts → service.ts reconcileGroup (listHealth, listDirectorStates,
   * getGroup, getSiteRoles), then fan-out.ts, which reads the group and the site roles again.
   */
  reconcileReadsPerGroup: 6,
  /** common.ts loadTenantView: getSiteRoles once per tenant. */
  reconcileReadsPerTenant: 1,
  /**
   * A failover or failback, estimated (not measured): the group's conditional write, its audit
   * event, the outbox clear, 2 health transitions, 2 idempotency records.
   */
  writesPerFailover: 7,
  /** shared/director/secrets.ts SECRET_TTL_MS: one GetSecretValue per warm container every 5 minutes. */
  secretCallsPerContainerHour: 12,
} as const;

/** Assumptions about the workload and the runs that the template cannot say. */
export interface Workload {
  /** HA groups monitored. */
  groups: number;
  /** Tenants (one director listing each per reconcile pass). @default ceil(groups / 100) */
  tenants?: number;
  /** Size of one director backup (MSP configuration + ELK data), GB. @default 1 */
  backupGb?: number;
  /** Failovers plus failbacks per group per month. @default 0.2 */
  failoversPerGroupMonth?: number;
  /** Executions per month of the state machines no schedule starts (switchover, rehearsal…). @default 0 */
  onDemandExecutions?: number;
  /** Director job time polled per DR execution (the state machines poll every 15 s), s. @default 600 */
  drJobSec?: number;
  /** Custom widget refreshes per month (each one invocation of the page function). @default 3000 */
  widgetRefreshes?: number;
}

/** One line of the bill: quantity × unit price, with the formula that gave the quantity. */
export interface CostLine {
  readonly service: string;
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly unitPrice: number;
  readonly monthly: number;
  readonly formula: string;
}

/** Log bytes per invocation (START/END/REPORT, the summary line, the EMF blob), assumption. */
const LOG_BYTES_PER_INVOCATION = 3_000;
/** Step Functions log events (level ALL) per transition, and bytes each, assumption. */
const SFN_LOG_BYTES_PER_TRANSITION = 2_000;
/** bench/results/health-run.json: ≤ 253 ms CPU per run over 100 groups, taken as wall time. */
const HEALTH_SEC_PER_GROUP = 0.0025;
/** Reconcile: four DynamoDB round trips (~5 ms each) per group plus the tenant listings, assumption. */
const RECONCILE_SEC_PER_GROUP = 0.02;
const RECONCILE_SEC_PER_TENANT = 0.5;
/** DR task invocations last about a second each (a director call, a table write), assumption. */
const DR_TASK_SEC = 1;
const DR_POLL_SEC = 15;
/** A poll cycle is Wait → Task → Choice. */
const DR_STATES_PER_POLL = 3;
const WIDGET_SEC = 1;

/** A unit price as people write it ($0.0000133334, $0.000025). */
const price = (n: number) => (n >= 0.01 ? String(n) : n.toFixed(10).replace(/0+$/, ''));
const fmt = (n: number) =>
  n >= 100 ? Math.round(n).toLocaleString('en-US') : String(Number(n.toPrecision(3)));

/** The month's bill for a workload, line by line. */
export function monthlyBill(facts: TemplateFacts, workload: Workload): CostLine[] {
  const { config } = facts;
  const groups = workload.groups;
  if (!Number.isInteger(groups) || groups < 1) throw costInputError('groups', groups, 'a positive integer');
  const tenants = workload.tenants ?? Math.ceil(groups / 100);
  const backupGb = workload.backupGb ?? 1;
  const failovers = groups * (workload.failoversPerGroupMonth ?? 0.2);
  const drJobSec = workload.drJobSec ?? 600;
  const sites = Object.keys((config.director as { sites?: object }).sites ?? { DC: 1 }).length;
  const lines: CostLine[] = [];
  const line = (
    service: string,
    item: string,
    quantity: number,
    unit: string,
    unitPrice: number,
    formula: string,
  ) => lines.push({ service, item, quantity, unit, unitPrice, monthly: quantity * unitPrice, formula });
  const fn = (name: string) => facts.functions[name];

  // Lambda: invocations × seconds × memory. The health check is billed for its wall time, the
  // waits between its rounds included.
  const machines = Object.entries(facts.stateMachines);
  const unscheduled = Math.max(1, machines.filter(([, m]) => m.scheduledRuns === 0).length);
  const executions = machines.map(([name, m]) => ({
    name,
    runs: m.scheduledRuns || (workload.onDemandExecutions ?? 0) / unscheduled,
    transitions: m.states + (drJobSec / DR_POLL_SEC) * DR_STATES_PER_POLL,
  }));
  const h = config.health;
  const usage: { name: string; item?: string; runs: number; sec: number; what: string; perRun?: string }[] = [
    {
      name: 'health-check',
      runs: fn('health-check')?.scheduledRuns ?? 0,
      sec: (h.samplesPerRun - 1) * h.sampleIntervalSec + 1 + groups * HEALTH_SEC_PER_GROUP,
      what: 'runs',
      perRun: `(${h.samplesPerRun} − 1) × ${h.sampleIntervalSec} s + 1 s + ${groups} groups × ${HEALTH_SEC_PER_GROUP * 1000} ms`,
    },
    {
      name: 'reconcile',
      runs: fn('reconcile')?.scheduledRuns ?? 0,
      sec: tenants * RECONCILE_SEC_PER_TENANT + groups * RECONCILE_SEC_PER_GROUP,
      what: 'passes',
      perRun: `${tenants} tenants × ${RECONCILE_SEC_PER_TENANT} s + ${groups} groups × ${RECONCILE_SEC_PER_GROUP * 1000} ms`,
    },
    {
      name: 'failover',
      runs: failovers,
      sec: 5,
      what: 'failovers/failbacks (filtered-out stream records are free)',
    },
    {
      name: 'dr',
      item: 'state machine tasks',
      runs: executions.reduce((n, e) => n + e.runs * (e.transitions / 2), 0),
      sec: DR_TASK_SEC,
      what: 'task invocations (about half the transitions)',
    },
    {
      name: 'concentrator-page',
      runs: workload.widgetRefreshes ?? 3000,
      sec: WIDGET_SEC,
      what: 'widget refreshes',
    },
  ];
  let invocations = 0;
  for (const u of usage) {
    const f = fn(u.name);
    if (!f) continue;
    const sec = Math.min(f.timeoutSec, u.sec);
    invocations += u.runs;
    const perRun = u.perRun ? ` (${u.perRun})` : '';
    line(
      'Lambda',
      u.item ?? u.name,
      u.runs * sec * f.memoryGb,
      'GB-s',
      PRICES.lambdaGbSecond,
      `${fmt(u.runs)} ${u.what} × ${fmt(sec)} s${perRun} × ${f.memoryGb} GB`,
    );
  }
  line('Lambda', 'requests', invocations, 'requests', PRICES.lambdaRequest, 'the invocations above');

  // DynamoDB on demand (strongly consistent reads: 1 read unit per 4 KB).
  const healthRuns = fn('health-check')?.scheduledRuns ?? 0;
  const reconcileRuns = fn('reconcile')?.scheduledRuns ?? 0;
  const healthReads =
    healthRuns * (groups * REQUESTS.healthReadsPerGroup + REQUESTS.healthReadsPerRun + sites);
  const reconcileReads =
    reconcileRuns * (groups * REQUESTS.reconcileReadsPerGroup + tenants * REQUESTS.reconcileReadsPerTenant);
  line(
    'DynamoDB',
    'reads',
    healthReads + reconcileReads,
    'read units',
    PRICES.dynamoReadUnit,
    `${fmt(healthRuns)} health runs × (${groups} groups + 1 + ${sites} sites) + ${fmt(reconcileRuns)} passes × (${groups} groups × ${REQUESTS.reconcileReadsPerGroup} + ${tenants} tenants)`,
  );
  line(
    'DynamoDB',
    'writes',
    failovers * REQUESTS.writesPerFailover,
    'write units',
    PRICES.dynamoWriteUnit,
    `steady state writes nothing; ${fmt(failovers)} failovers/failbacks × ${REQUESTS.writesPerFailover}`,
  );
  const tableGb = (groups * 4 + failovers * 2) / 1e6; // ≈ 4 KB per group, 2 KB of audit per change
  line(
    'DynamoDB',
    'storage + PITR',
    tableGb * facts.tablesWithPitr,
    'GB-month',
    PRICES.dynamoStorageGbMonth + PRICES.dynamoPitrGbMonth,
    `${groups} groups × 4 KB + audit (the stream is free to the Lambda trigger)`,
  );

  // Step Functions (standard): transitions, and their logs (level ALL).
  const transitions = executions.reduce((n, e) => n + e.runs * e.transitions, 0);
  line(
    'Step Functions',
    'state transitions',
    transitions,
    'transitions',
    PRICES.stateTransition,
    executions
      .filter((e) => e.runs > 0)
      .map((e) => `${e.name} ${fmt(e.runs)} × ${fmt(e.transitions)}`)
      .join(' + ') || 'no execution',
  );

  // S3: every backup is kept for the bucket's retention (an upper bound: noncurrent versions move to IA).
  const backups = executions
    .filter((e) => e.name === 'Backup' || e.name === 'WeeklyDrill')
    .reduce((n, e) => n + e.runs, 0);
  const storedGb = (backups / DAYS_PER_MONTH) * facts.backupRetentionDays * backupGb;
  line(
    'S3',
    'backup storage',
    storedGb,
    'GB-month',
    PRICES.s3StandardGbMonth,
    `${fmt(backups)} backups/month ÷ ${DAYS_PER_MONTH} × ${facts.backupRetentionDays} days retained × ${backupGb} GB`,
  );
  line('S3', 'backup PUTs', backups * 10, 'requests', PRICES.s3Put, `${fmt(backups)} backups × 10 objects`);

  line(
    'KMS',
    'keys',
    facts.kmsKeys,
    'keys',
    PRICES.kmsKeyMonth,
    'customer-managed keys in the stateful stack',
  );
  line(
    'KMS',
    'requests',
    10_000,
    'requests',
    PRICES.kmsRequest,
    'SNS publishes, S3 (bucket key on), estimate',
  );
  line(
    'SNS',
    'email notifications',
    failovers * 2 * facts.emailSubscriptions,
    'emails',
    PRICES.snsEmail,
    `${fmt(failovers)} changes × 2 notices × ${facts.emailSubscriptions} subscriptions`,
  );

  line(
    'CloudWatch',
    'alarms',
    facts.alarmMetrics,
    'alarm metrics',
    PRICES.alarmMetricMonth,
    'alarms in the template',
  );
  line(
    'CloudWatch',
    'dashboards',
    facts.dashboards,
    'dashboards',
    PRICES.dashboardMonth,
    'dashboards in the template',
  );
  line(
    'CloudWatch',
    'custom metrics',
    facts.customMetrics,
    'metrics',
    PRICES.customMetricMonth,
    `distinct ${config.observability.metricsNamespace} metrics the alarms and dashboard read`,
  );
  const logGb = (invocations * LOG_BYTES_PER_INVOCATION + transitions * SFN_LOG_BYTES_PER_TRANSITION) / 1e9;
  line(
    'CloudWatch',
    'log ingestion',
    logGb,
    'GB',
    PRICES.logsIngestGb,
    `${fmt(invocations)} invocations × ${LOG_BYTES_PER_INVOCATION / 1000} KB + transitions × ${SFN_LOG_BYTES_PER_TRANSITION / 1000} KB`,
  );
  line(
    'X-Ray',
    'traces',
    invocations,
    'traces',
    PRICES.xrayTrace,
    'active tracing: one trace per invocation',
  );

  const warmHours = (healthRuns > 0 ? 730 : 0) + (reconcileRuns > 0 ? 730 : 0);
  line(
    'Secrets Manager',
    'director secret',
    1,
    'secrets',
    PRICES.secretMonth,
    `${config.director.secretName} (created by the operator)`,
  );
  line(
    'Secrets Manager',
    'API calls',
    warmHours * REQUESTS.secretCallsPerContainerHour,
    'calls',
    PRICES.secretCall,
    `2 always-warm functions × 730 h × ${REQUESTS.secretCallsPerContainerHour} (5-minute cache)`,
  );
  return lines;
}

/** The month's total. */
export const total = (lines: readonly CostLine[]): number => lines.reduce((n, l) => n + l.monthly, 0);

/** The comparison table (markdown) for several group counts. */
export function costTable(
  facts: TemplateFacts,
  groupCounts: readonly number[],
  workload: Omit<Workload, 'groups'> = {},
): string {
  const bills = groupCounts.map((groups) => monthlyBill(facts, { ...workload, groups }));
  const usd = (n: number) => `$${n < 0.01 && n > 0 ? '<0.01' : n.toFixed(2)}`;
  const header = `| service | item | ${groupCounts.map((g) => `${g.toLocaleString('en-US')} group${g === 1 ? '' : 's'}`).join(' | ')} |`;
  const rows = (bills[0] ?? []).map(
    (l, i) => `| ${l.service} | ${l.item} | ${bills.map((b) => usd(b[i]?.monthly ?? 0)).join(' | ')} |`,
  );
  const totals = `| **total** | | ${bills.map((b) => `**${usd(total(b))}**`).join(' | ')} |`;
  return [header, `| --- | --- | ${groupCounts.map(() => '---:').join(' | ')} |`, ...rows, totals].join('\n');
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function main(args: string[]): void {
  const groupCounts = (option(args, '--groups') ?? '1,100,1000').split(',').map(Number);
  const backupGb = Number(option(args, '--backup-gb') ?? 1);
  const { stateful, stateless } = synthTemplates(option(args, '--env') ?? 'example');
  const facts = templateFacts(stateful, stateless);
  console.log(`cpe-failover monthly cost (${PRICES.asOf}; backups ${backupGb} GB each)\n`);
  console.log(costTable(facts, groupCounts, { backupGb }));
  if (!args.includes('--markdown')) {
    const largest = Math.max(...groupCounts);
    console.log(`\nhow each quantity was found, for ${largest} groups:`);
    for (const l of monthlyBill(facts, { groups: largest, backupGb }))
      console.log(
        `- ${l.service} ${l.item}: ${fmt(l.quantity)} ${l.unit} × $${price(l.unitPrice)} (${l.formula})`,
      );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
