/**
 * What the local runtime (sandbox, integration tests) takes from the synthesized cloud assembly:
 * the two tables, the failover function's stream event source mapping, the schedules and the
 * function timeouts. Plain JSON, so the integration tests' global setup can synthesize once and
 * hand it to every test file through a file.
 *
 * This module only has type imports from cdk/ (loading aws-cdk-lib takes seconds): synthesize
 * with ./synth-assembly.ts.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  ScheduleDefinition,
  StreamMapping,
  SynthesizedTemplates,
  TableDefinition,
} from '../../cdk/assembly.js';
import { createTable } from '../../shared/store/definition.js';

/** The parts of the synthesized app that run locally. */
export interface LocalAssembly {
  /** The templates and the configuration they were synthesized from. */
  readonly templates: SynthesizedTemplates;
  /** The state table (pk/sk, stream, TTL). */
  readonly stateTable: TableDefinition;
  /** The failover function's idempotency table. */
  readonly idempotencyTable: TableDefinition;
  /** The failover function's stream event source mapping (filter, batch size, retries). */
  readonly failover: StreamMapping;
  /** Every EventBridge schedule of the app. */
  readonly schedules: readonly ScheduleDefinition[];
  /** Each function's timeout in seconds, by its app name. */
  readonly functionTimeoutsSec: Readonly<Record<string, number>>;
  /** How long the synthesis took (ms). */
  readonly synthMs: number;
}

/**
 * Create a table of the assembly on DynamoDB Local under `tableName` (the deployed name is
 * generated), with the template's TTL attribute, and wait until it is ACTIVE.
 */
export async function createTableFromAssembly(
  client: DynamoDBClient,
  table: TableDefinition,
  tableName: string,
): Promise<void> {
  await createTable(
    client,
    { ...table.createTable, TableName: tableName },
    table.timeToLiveAttribute ? { AttributeName: table.timeToLiveAttribute, Enabled: true } : null,
  );
}

/** The enabled `rate(...)` schedule that starts a function (by its app name, or matching a pattern). */
export function functionSchedule(
  assembly: LocalAssembly,
  fn: string | RegExp,
): (ScheduleDefinition & { rateMs: number }) | undefined {
  const targets = (s: ScheduleDefinition) =>
    s.targets.some(
      (t) => t.kind === 'function' && (typeof fn === 'string' ? t.name === fn : fn.test(t.name)),
    );
  return assembly.schedules.find(
    (s): s is ScheduleDefinition & { rateMs: number } => s.enabled && s.rateMs !== undefined && targets(s),
  );
}

/** The scheduled drift reconcile, if the app has one (a function named like `reconcile`/`drift`). */
export function reconcileSchedule(
  assembly: LocalAssembly,
): (ScheduleDefinition & { rateMs: number }) | undefined {
  return functionSchedule(assembly, /reconcile|drift/);
}

function seconds(ms: number): string {
  return `${Math.round(ms / 10) / 100} s`;
}

function tableSummary(t: TableDefinition): string {
  const keys = (t.createTable.KeySchema ?? []).map((k) => k.AttributeName).join('/');
  const stream = t.createTable.StreamSpecification?.StreamViewType;
  return (
    `${t.logicalId} (${keys}` +
    `${stream ? `, stream ${stream}` : ''}` +
    `${t.timeToLiveAttribute ? `, TTL ${t.timeToLiveAttribute}` : ''})`
  );
}

/**
 * One line saying what the local runtime takes from the assembly (`timeScale` divides the
 * schedules' periods).
 */
export function describeAssembly(assembly: LocalAssembly, timeScale = 1): string {
  const { templates, failover } = assembly;
  const health = functionSchedule(assembly, 'health-check');
  const reconcile = reconcileSchedule(assembly);
  const every = (s: { expression: string; rateMs: number } | undefined) =>
    s ? `${s.expression} → every ${seconds(s.rateMs / timeScale)}` : 'no schedule';
  return (
    `from the assembly (${templates.stackNames.stateful} + ${templates.stackNames.stateless}, ` +
    `synthesized in ${seconds(assembly.synthMs)}): ` +
    `tables ${tableSummary(assembly.stateTable)}, ${tableSummary(assembly.idempotencyTable)}; ` +
    `failover stream filter ${failover.filterCriteria.Filters.map((f) => f.Pattern).join(' | ') || 'none'}, ` +
    `batch ${failover.batchSize}, ${failover.maximumRetryAttempts ?? 'unbounded'} retries; ` +
    `health-check ${every(health)}` +
    ` (timeout ${assembly.functionTimeoutsSec['health-check'] ?? '?'} s); ` +
    `drift reconcile: ${reconcile ? every(reconcile) : 'no schedule in the app, run on the health-check period'}`
  );
}
