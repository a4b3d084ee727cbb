/**
 * Least privilege, in one place: what each function may do to the state table (item types ×
 * DynamoDB actions, enforced with `dynamodb:LeadingKeys` on each item type's partition key), and
 * the short reviewed list of actions that AWS only grants on `"*"`, acknowledged to cdk-nag per
 * policy and only when nothing else in that policy is on `"*"`.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Policy, PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import { BUDGET_PK_PREFIX, ITEM_TYPES, keys, type ItemType } from '../../shared/store/table.js';
import type { FunctionName } from './function.js';

/**
 * The `dynamodb:LeadingKeys` pattern (IAM StringLike) of each item type's partition key, built
 * from the key builders of shared/store/table.ts (test/cdk checks every builder against these).
 */
export const ITEM_PARTITIONS: Readonly<Record<ItemType, string>> = {
  [ITEM_TYPES.group]: keys.groupsPartition,
  [ITEM_TYPES.health]: `${keys.healthPartition('')}*`,
  [ITEM_TYPES.branch]: `${keys.branchPartition('')}*`,
  [ITEM_TYPES.site]: keys.sitesPartition,
  [ITEM_TYPES.director]: keys.directorsPartition,
  [ITEM_TYPES.audit]: `${keys.audit('', '').pk}*`,
  [ITEM_TYPES.lock]: keys.lock('DR').pk,
  [ITEM_TYPES.backup]: `${keys.backupPartition('')}*`,
  [ITEM_TYPES.budget]: `${BUDGET_PK_PREFIX}*`,
  [ITEM_TYPES.claim]: `${keys.claimsPartition('')}*`,
};

/**
 * The DynamoDB item actions the state table adapter (shared/store/dynamo-table.ts) sends: GetItem
 * and Query (the table has no index; nothing scans), PutItem and DeleteItem (conditional), and
 * BatchWriteItem (branch outcomes). No UpdateItem: every write is a whole-item put.
 */
export type TableAction = 'GetItem' | 'Query' | 'PutItem' | 'DeleteItem' | 'BatchWriteItem';

/** What one function may do to each item type (absent: nothing). */
export type TableAccess = Partial<Record<ItemType, readonly TableAction[]>>;

const T = ITEM_TYPES;

/**
 * The request budget (`BUDGET#<organization>`, shared/store/repos/request-budget.ts): read, then
 * a put conditioned on the version read. Only with Meraki: a zWAN director keeps no budget.
 */
function budget(config: Config): TableAccess {
  return config.director.kind === 'meraki' ? { [T.budget]: ['GetItem', 'PutItem'] } : {};
}

/**
 * Write claims (`CLAIMS#<organization>`, shared/store/repos/write-claims.ts): a fenced tag swap
 * puts its claim and deletes it once answered; a newer one queries the organization's claims.
 * Only with Meraki: a zWAN director fences epochs itself.
 */
function claims(config: Config): TableAccess {
  return config.director.kind === 'meraki' ? { [T.claim]: ['Query', 'PutItem', 'DeleteItem'] } : {};
}

/**
 * Election and fan-out (shared/failover/service.ts reconcileGroup, flushOutbox; fan-out.ts; the
 * notifier's audit events): reads a group's health, every director status and the site roles;
 * compare-and-sets the group (get + conditional put); batch-writes branch outcomes; puts audit
 * events. Used by failover, the drift reconcile, update-branches, pin and unpin.
 */
function electAndRepoint(config: Config): TableAccess {
  return {
    [T.group]: ['GetItem', 'PutItem'],
    [T.health]: ['Query'],
    [T.site]: ['Query'],
    [T.director]: ['Query'],
    [T.branch]: ['BatchWriteItem'],
    [T.audit]: ['PutItem'],
    ...budget(config),
    ...claims(config),
  };
}

/** Per function: the item types and actions its code paths use (functions/<name>/handler.ts → shared/…). */
export const FUNCTION_TABLE_ACCESS: Readonly<Record<FunctionName, (config: Config) => TableAccess>> = {
  // shared/health/run.ts: loadHealth (Query), writeHealth (get + conditional put), the director
  // status (get + conditional put), the site roles (Query); DIRECTOR_LOST/BACK audit events.
  // No group, branch, site-role, lock or backup write.
  'health-check': (config) => ({
    [T.health]: ['GetItem', 'PutItem', 'Query'],
    [T.director]: ['GetItem', 'PutItem'],
    [T.site]: ['Query'],
    [T.audit]: ['PutItem'],
    ...budget(config),
  }),
  failover: electAndRepoint,
  reconcile: electAndRepoint,
  'update-branches': electAndRepoint,
  pin: electAndRepoint,
  unpin: electAndRepoint,
  // shared/failover/console.ts groupStatus: reads only (the budget's put is its one write).
  status: (config) => ({
    [T.group]: ['GetItem'],
    [T.health]: ['Query'],
    [T.branch]: ['Query'],
    [T.site]: ['Query'],
    [T.director]: ['Query'],
    ...budget(config),
  }),
  // shared/failover/console.ts acknowledgeMonitorBlind: the director status items (Query +
  // conditional put), the site roles, the groups held by MONITOR_BLIND (Query), audit events.
  // It calls no director (no budget).
  'ack-monitor-blind': () => ({
    [T.director]: ['Query', 'PutItem'],
    [T.site]: ['Query'],
    [T.group]: ['Query'],
    [T.audit]: ['PutItem'],
  }),
  // shared/rehearsal/tasks.ts: pin and unpin (election and fan-out, as the console's pin and
  // unpin), the group and its health read at every check; one audit event per execution; the DR
  // lock read (no rehearsal while a DR workflow runs).
  rehearsal: (config) => ({ ...electAndRepoint(config), [T.lock]: ['GetItem'] }),
  // shared/page/: the view reads as status does plus the audit trail (Query); its buttons run
  // update-branches, pin and unpin (election and fan-out) and ack-monitor-blind (director status
  // put, the held groups' Query).
  'concentrator-page': (config) => {
    const acts = electAndRepoint(config);
    return {
      ...acts,
      [T.group]: ['GetItem', 'PutItem', 'Query'],
      [T.branch]: ['Query', 'BatchWriteItem'],
      [T.director]: ['Query', 'PutItem'],
      [T.audit]: ['PutItem', 'Query'],
    };
  },
  // shared/dr/adapters.ts stateRepoDrStore: site roles (Query, conditional put, a delete to undo a
  // half-written change), the DR lock (get + conditional put, conditional delete), backup records
  // (get + put, Query), the director status (get), audit events.
  dr: () => ({
    [T.site]: ['Query', 'GetItem', 'PutItem', 'DeleteItem'],
    [T.lock]: ['GetItem', 'PutItem', 'DeleteItem'],
    [T.backup]: ['GetItem', 'PutItem', 'Query'],
    [T.director]: ['GetItem'],
    [T.audit]: ['PutItem'],
  }),
};

/** The statements of {@link TableAccess} on `tableArn`: one per action, limited by LeadingKeys. */
export function tableStatements(tableArn: string, access: TableAccess): PolicyStatement[] {
  const byAction = new Map<TableAction, string[]>();
  for (const [type, actions] of Object.entries(access) as [ItemType, readonly TableAction[]][]) {
    for (const action of actions) {
      const list = byAction.get(action) ?? [];
      list.push(ITEM_PARTITIONS[type]);
      byAction.set(action, list);
    }
  }
  return [...byAction.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([action, partitions]) =>
        new PolicyStatement({
          actions: [`dynamodb:${action}`],
          resources: [tableArn],
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...new Set(partitions)].sort() },
          },
        }),
    );
}

/** Grant `grantee` the state-table access of function `name` ({@link FUNCTION_TABLE_ACCESS}). */
export function grantStateTable(
  table: ITable,
  grantee: IGrantable,
  name: FunctionName,
  config: Config,
): void {
  for (const statement of tableStatements(table.tableArn, FUNCTION_TABLE_ACCESS[name](config))) {
    grantee.grantPrincipal.addToPrincipalPolicy(statement);
  }
}

/**
 * Actions AWS grants only on `"*"` (no resource-level permissions), reviewed one by one. Nothing
 * else may appear on `"*"` in any policy of this app (test/cdk/least-privilege.test.ts).
 */
export const REVIEWED_WILDCARD_ACTIONS = {
  /** X-Ray active tracing of the functions and the state machines. */
  xray: {
    actions: [
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
    ],
    reason:
      'X-Ray tracing (PutTraceSegments, PutTelemetryRecords, sampling rules and targets) supports no resource-level permissions',
  },
  /** Step Functions execution logging to CloudWatch Logs (vended log delivery). */
  logDelivery: {
    actions: [
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ],
    reason:
      'Step Functions log delivery to CloudWatch Logs needs the log-delivery actions on "*" (AWS documents no resource-level permissions for them)',
  },
  /** CloudWatch custom metrics by API (today every metric goes out as EMF log lines instead). */
  metrics: {
    actions: ['cloudwatch:PutMetricData'],
    reason: 'cloudwatch:PutMetricData supports no resource-level permissions',
  },
} as const;
/** A group of {@link REVIEWED_WILDCARD_ACTIONS}. */
export type WildcardUse = keyof typeof REVIEWED_WILDCARD_ACTIONS;

/** Every reviewed action on `"*"`. */
export const REVIEWED_WILDCARD_ACTION_LIST: readonly string[] = Object.values(
  REVIEWED_WILDCARD_ACTIONS,
).flatMap((u) => [...u.actions]);

interface StatementJson {
  Effect?: string;
  Action?: string | string[];
  Resource?: unknown;
}

/** The actions a policy document (resolved JSON) allows on the literal resource `"*"`. */
export function actionsOnStar(document: { Statement?: StatementJson[] }): string[] {
  const out: string[] = [];
  for (const s of document.Statement ?? []) {
    if (s.Effect !== 'Allow') continue;
    const resources = ([] as unknown[]).concat(s.Resource ?? []);
    if (!resources.includes('*')) continue;
    out.push(...([] as string[]).concat(s.Action ?? []));
  }
  return out;
}

/**
 * Acknowledge `AwsSolutions-IAM5[Resource::*]` on each IAM policy under `scope`, at validation
 * time (after every grant), and only when every action that policy allows on `"*"` is one of the
 * `uses` groups: the reason names those actions. Any other action on `"*"` (a
 * `secretsmanager:GetSecretValue`, a `dynamodb:DeleteTable`) stays a finding and fails synth.
 */
export function acknowledgeWildcards(scope: IConstruct, uses: readonly WildcardUse[]): void {
  const allowed = new Set<string>(uses.flatMap((u) => [...REVIEWED_WILDCARD_ACTIONS[u].actions]));
  scope.node.addValidation({
    validate: () => {
      for (const policy of scope.node.findAll().filter((c): c is Policy => c instanceof Policy)) {
        const doc = Stack.of(policy).resolve(policy.document.toJSON()) as
          { Statement?: StatementJson[] } | undefined;
        const onStar = [...new Set(actionsOnStar(doc ?? {}))].sort();
        if (onStar.length === 0 || !onStar.every((a) => allowed.has(a))) continue;
        const reasons = uses
          .filter((u) =>
            (REVIEWED_WILDCARD_ACTIONS[u].actions as readonly string[]).some((a) => onStar.includes(a)),
          )
          .map((u) => REVIEWED_WILDCARD_ACTIONS[u].reason);
        Validations.of(policy).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: `Only ${onStar.join(', ')} on "*": ${reasons.join('; ')}.`,
        });
      }
      return [];
    },
  });
}

/**
 * How cdk-nag writes a resolved CloudFormation value in a finding: `<LogicalId.Attr>` for
 * Fn::GetAtt, the export name for Fn::ImportValue, the string itself otherwise.
 */
export function nagRender(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v['Fn::GetAtt'])) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if (v['Fn::ImportValue'] !== undefined) return nagRender(v['Fn::ImportValue']);
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(nagRender).join(sep);
  }
  if (v.Ref !== undefined) return `<${String(v.Ref)}>`;
  return JSON.stringify(value);
}

/**
 * Acknowledge cdk-nag findings whose text contains a cross-stack reference: the reference only
 * becomes an export name once CDK resolves references, i.e. at validation time.
 */
export function acknowledgeLate(
  owner: IConstruct,
  findings: () => { scope: IConstruct; id: string; reason: string }[],
): void {
  owner.node.addValidation({
    validate: () => {
      for (const f of findings()) Validations.of(f.scope).acknowledge({ id: f.id, reason: f.reason });
      return [];
    },
  });
}
