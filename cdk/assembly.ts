/**
 * The synthesized cloud assembly as data, for the sandbox and the integration tests: they take
 * the table definition, the stream filter criteria and the schedules from the CloudFormation
 * templates, so what runs locally cannot drift from what `cdk deploy` creates.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { Config } from '../shared/config/schema.js';
import { ValidationError } from '../shared/errors.js';
import { TABLE_KEYS } from '../shared/store/table.js';
import { buildApp, stackNames } from './build.js';
import { FUNCTION_METADATA_KEY, type FunctionName } from './constructs/function.js';
import { IDEMPOTENCY_TABLE_KEYS } from './stateful-stack.js';

/** A CloudFormation template (as synthesized). */
export interface CfnTemplate {
  Resources: Record<string, CfnResourceJson>;
  [key: string]: unknown;
}
/** One resource of a {@link CfnTemplate}. */
export interface CfnResourceJson {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The two synthesized templates and the configuration they were made from. */
export interface SynthesizedTemplates {
  readonly config: Config;
  readonly stackNames: { stateful: string; stateless: string };
  readonly stateful: CfnTemplate;
  readonly stateless: CfnTemplate;
}

/**
 * Synthesize both stacks for a configuration name (config/<env>.json) or a validated
 * configuration, with bundling skipped and without cdk-nag (the template tests run it). The
 * cloud assembly is written to a temporary directory that is removed afterwards.
 */
export function synthTemplates(env: string | Config = 'example'): SynthesizedTemplates {
  const outdir = mkdtempSync(join(tmpdir(), 'cpe-failover-cdk-'));
  try {
    const built = buildApp({
      ...(typeof env === 'string' ? { env } : { config: env }),
      outdir,
      skipBundling: true,
      nag: false,
    });
    const assembly = built.app.synth();
    const names = stackNames(built.config.env);
    return {
      config: built.config,
      stackNames: names,
      stateful: assembly.getStackByName(names.stateful).template as CfnTemplate,
      stateless: assembly.getStackByName(names.stateless).template as CfnTemplate,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResourceJson][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** Which table of the stateful template: the state table (pk/sk) or the idempotency table (id). */
export type TableKind = 'state' | 'idempotency';

/** A table as CreateTable input, plus what CreateTable cannot carry (TTL). */
export interface TableDefinition {
  /** Input for CreateTable (TableName from the caller: the deployed name is generated). */
  readonly createTable: CreateTableCommandInput;
  /** The TTL attribute, for UpdateTimeToLive. */
  readonly timeToLiveAttribute?: string;
  /** The CloudFormation logical ID. */
  readonly logicalId: string;
}

/**
 * The state table (or the idempotency table) of the stateful template as a CreateTable input.
 * Throws ValidationError if the template has no such table.
 */
export function tableFromTemplate(
  template: CfnTemplate,
  options: { kind?: TableKind; tableName?: string } = {},
): TableDefinition {
  const kind = options.kind ?? 'state';
  const hashKey = kind === 'state' ? TABLE_KEYS.partitionKey : IDEMPOTENCY_TABLE_KEYS.partitionKey;
  const found = resourcesOfType(template, 'AWS::DynamoDB::Table').find(([, r]) => {
    const schema = (r.Properties?.KeySchema ?? []) as { AttributeName: string; KeyType: string }[];
    return schema.some((k) => k.KeyType === 'HASH' && k.AttributeName === hashKey);
  });
  if (!found) {
    throw new ValidationError('template', [
      { path: 'Resources', value: kind, expected: `an AWS::DynamoDB::Table with hash key ${hashKey}` },
    ]);
  }
  const [logicalId, resource] = found;
  const p = resource.Properties ?? {};
  const stream = p.StreamSpecification as { StreamViewType: string } | undefined;
  const ttl = p.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean } | undefined;
  const createTable = {
    TableName: options.tableName ?? `cpe-failover-${kind}`,
    KeySchema: p.KeySchema,
    AttributeDefinitions: p.AttributeDefinitions,
    BillingMode: p.BillingMode ?? 'PROVISIONED',
    ...(p.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes } : {}),
    ...(stream
      ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream.StreamViewType } }
      : {}),
  } as CreateTableCommandInput;
  return {
    createTable,
    logicalId,
    ...(ttl?.Enabled ? { timeToLiveAttribute: ttl.AttributeName } : {}),
  };
}

/** The name a function was given in the CDK app (the `cpe-failover:function` metadata), by logical ID. */
export function functionNamesFromTemplate(template: CfnTemplate): Record<string, FunctionName> {
  const names: Record<string, FunctionName> = {};
  for (const [id, r] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    const name = r.Metadata?.[FUNCTION_METADATA_KEY];
    if (typeof name === 'string') names[id] = name as FunctionName;
  }
  return names;
}

/** A logical ID from `{ Ref: id }` or `{ "Fn::GetAtt": [id, …] }`. */
function referencedId(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const v = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown };
    if (typeof v.Ref === 'string') return v.Ref;
    if (Array.isArray(v['Fn::GetAtt']) && typeof v['Fn::GetAtt'][0] === 'string') return v['Fn::GetAtt'][0];
  }
  return undefined;
}

/** Lambda's FilterCriteria: each pattern is a JSON string. */
export interface StreamFilterCriteria {
  readonly Filters: readonly { readonly Pattern: string }[];
}

/** The stream event source mapping of a function, as deployed. */
export interface StreamMapping {
  /** The function it invokes (by its app name). */
  readonly function: FunctionName;
  readonly filterCriteria: StreamFilterCriteria;
  readonly batchSize: number;
  readonly maximumRetryAttempts?: number;
  readonly maximumRecordAgeInSeconds?: number;
  readonly bisectBatchOnFunctionError: boolean;
  readonly reportBatchItemFailures: boolean;
  readonly startingPosition?: string;
}

/** Every stream event source mapping of the stateless template. */
export function streamMappingsFromTemplate(template: CfnTemplate): StreamMapping[] {
  const names = functionNamesFromTemplate(template);
  return resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(([id, r]) => {
    const p = r.Properties ?? {};
    const fnId = referencedId(p.FunctionName);
    const name = fnId ? names[fnId] : undefined;
    if (!name) {
      throw new ValidationError('template', [
        {
          path: `Resources.${id}.Properties.FunctionName`,
          value: p.FunctionName,
          expected: 'a function of this app',
        },
      ]);
    }
    return {
      function: name,
      filterCriteria: (p.FilterCriteria as StreamFilterCriteria | undefined) ?? { Filters: [] },
      batchSize: (p.BatchSize as number | undefined) ?? 100,
      maximumRetryAttempts: p.MaximumRetryAttempts as number | undefined,
      maximumRecordAgeInSeconds: p.MaximumRecordAgeInSeconds as number | undefined,
      bisectBatchOnFunctionError: p.BisectBatchOnFunctionError === true,
      reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes(
        'ReportBatchItemFailures',
      ),
      startingPosition: p.StartingPosition as string | undefined,
    };
  });
}

/**
 * The failover function's stream FilterCriteria (Lambda's shape: `{ Filters: [{ Pattern }] }`),
 * which the sandbox's stream poller applies the way Lambda does.
 */
export function streamFilterFromTemplate(
  template: CfnTemplate,
  fn: FunctionName = 'failover',
): StreamFilterCriteria {
  const mapping = streamMappingsFromTemplate(template).find((m) => m.function === fn);
  if (!mapping) {
    throw new ValidationError('template', [
      { path: 'Resources', value: fn, expected: 'an AWS::Lambda::EventSourceMapping for this function' },
    ]);
  }
  return mapping.filterCriteria;
}

/** An EventBridge schedule of the app. */
export interface ScheduleDefinition {
  /** The rule's logical ID. */
  readonly logicalId: string;
  /** `rate(1 minute)`, `cron(0 12 * * ? *)`… */
  readonly expression: string;
  /** For `rate(...)` expressions: the period in milliseconds. */
  readonly rateMs?: number;
  readonly enabled: boolean;
  /** What it starts: a function of this app (by name) or another resource (by logical ID). */
  readonly targets: readonly (
    { kind: 'function'; name: FunctionName } | { kind: 'resource'; logicalId: string }
  )[];
  /** The target's constant input, when the rule passes one (e.g. a state machine's input). */
  readonly input?: string;
}

const RATE_UNITS_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** `rate(5 minutes)` → 300000; undefined for cron expressions. */
export function rateToMs(expression: string): number | undefined {
  const m = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (!m) return undefined;
  return Number(m[1]) * RATE_UNITS_MS[m[2] as string]!;
}

/** Every scheduled EventBridge rule of a template, with its targets. */
export function schedulesFromTemplate(template: CfnTemplate): ScheduleDefinition[] {
  const names = functionNamesFromTemplate(template);
  return resourcesOfType(template, 'AWS::Events::Rule')
    .filter(([, r]) => typeof r.Properties?.ScheduleExpression === 'string')
    .map(([logicalId, r]) => {
      const p = r.Properties ?? {};
      const expression = p.ScheduleExpression as string;
      const rawTargets = (p.Targets ?? []) as { Arn: unknown; Input?: string }[];
      const targets = rawTargets.map((t) => {
        const id = referencedId(t.Arn);
        const name = id ? names[id] : undefined;
        return name
          ? ({ kind: 'function', name } as const)
          : ({ kind: 'resource', logicalId: id ?? JSON.stringify(t.Arn) } as const);
      });
      const input = rawTargets.find((t) => typeof t.Input === 'string')?.Input;
      const rateMs = rateToMs(expression);
      return {
        logicalId,
        expression,
        enabled: (p.State ?? 'ENABLED') === 'ENABLED',
        targets,
        ...(rateMs !== undefined ? { rateMs } : {}),
        ...(input !== undefined ? { input } : {}),
      };
    });
}
