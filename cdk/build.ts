/**
 * Builds the CDK app from one validated configuration: the stateful and stateless stacks,
 * cdk-nag AwsSolutionsChecks and tags. Used by cdk/app.ts (the `cdk` CLI entry), cdk/assembly.ts
 * (the sandbox and integration tests) and the template tests.
 */
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfigFile } from '../shared/config/load.js';
import type { Config } from '../shared/config/schema.js';
import { PROJECT_ROOT, type SharedResources } from './constructs/function.js';
import { StatefulStack } from './stateful-stack.js';
import { StatelessStack } from './stateless-stack.js';

/** Environment variable selecting the configuration when no `-c env=…` context is given. */
export const ENV_VARIABLE = 'CPE_FAILOVER_ENV';
/** The configuration used when neither the context nor the environment variable names one. */
export const DEFAULT_ENV = 'example';

/** Options of {@link buildApp}. */
export interface BuildAppOptions {
  /** Configuration name (config/<env>.json). @default context `env`, then $CPE_FAILOVER_ENV, then `example` */
  readonly env?: string;
  /** An already validated configuration (wins over `env`). @default - loaded from config/<env>.json */
  readonly config?: Config;
  /** Where config/ lives. @default the project root */
  readonly root?: string;
  /** Cloud assembly directory. @default the CLI's, or a temporary one */
  readonly outdir?: string;
  /** Skip esbuild bundling (templates only; tests and the sandbox). @default false */
  readonly skipBundling?: boolean;
  /** Run cdk-nag AwsSolutionsChecks on synth. @default true */
  readonly nag?: boolean;
  /** Extra context. @default - none */
  readonly context?: Record<string, unknown>;
}

/** What {@link buildApp} made. */
export interface BuiltApp {
  readonly app: App;
  readonly config: Config;
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
}

/** The two stack names of an environment. */
export function stackNames(env: string): { stateful: string; stateless: string } {
  return { stateful: `CpeFailover-${env}-Stateful`, stateless: `CpeFailover-${env}-Stateless` };
}

/** Build the app (does not synthesize). Throws ConfigError for a bad configuration. */
export function buildApp(options: BuildAppOptions = {}): BuiltApp {
  const context: Record<string, unknown> = { ...options.context };
  if (options.skipBundling) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({
    outdir: options.outdir,
    context,
    // Feature flags this app relies on, whatever cdk.json says.
    postCliContext: {
      '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
      // Exports between the two stacks stay protected (a consumer blocks the producer's change).
      '@aws-cdk/core:defaultCrossStackReferences': 'strong',
    },
  });
  const envName =
    options.env ??
    (app.node.tryGetContext('env') as string | undefined) ??
    process.env[ENV_VARIABLE] ??
    DEFAULT_ENV;
  const config = options.config ?? loadConfigFile(envName, options.root ?? PROJECT_ROOT);

  const names = stackNames(config.env);
  const stackEnv = { account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT, region: config.region };
  const stateful = new StatefulStack(app, names.stateful, {
    stackName: names.stateful,
    description: `cpe-failover (${config.env}): state table, idempotency table, backup bucket, notifications topic (retained)`,
    env: stackEnv,
    config,
    terminationProtection: false,
  });
  const shared: SharedResources = {
    config,
    table: stateful.table,
    idempotencyTable: stateful.idempotencyTable,
    topic: stateful.topic,
    bucket: stateful.bucket,
    secret: stateful.secret,
  };
  const stateless = new StatelessStack(app, names.stateless, {
    stackName: names.stateless,
    description: `cpe-failover (${config.env}): functions, schedules, stream trigger, alarms, dashboard, DR workflows`,
    env: stackEnv,
    shared,
  });

  Tags.of(app).add('project', 'cpe-failover');
  Tags.of(app).add('environment', config.env);
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, config, stateful, stateless };
}
