/**
 * Synthesize the CDK app (bundling skipped, no cdk-nag) and extract the {@link LocalAssembly}: the
 * one place where the sandbox and the integration tests get their tables, the failover stream
 * mapping and the schedules. Loads aws-cdk-lib (seconds): import it once, where it is needed.
 */
import {
  functionNamesFromTemplate,
  schedulesFromTemplate,
  streamMappingsFromTemplate,
  synthTemplates,
  tableFromTemplate,
  type SynthesizedTemplates,
} from '../../cdk/assembly.js';
import type { Config } from '../../shared/config/schema.js';
import { ValidationError } from '../../shared/errors.js';
import type { LocalAssembly } from './local-assembly.js';

/** Lambda's default timeout (seconds) when the template sets none. */
const LAMBDA_DEFAULT_TIMEOUT_SEC = 3;

/** Extract the {@link LocalAssembly} from synthesized templates. Throws ValidationError when a part is missing. */
export function localAssemblyFromTemplates(templates: SynthesizedTemplates, synthMs = 0): LocalAssembly {
  const failover = streamMappingsFromTemplate(templates.stateless).find((m) => m.function === 'failover');
  if (!failover) {
    throw new ValidationError('template', [
      {
        path: `${templates.stackNames.stateless}.Resources`,
        value: 'failover',
        expected: 'an AWS::Lambda::EventSourceMapping for the failover function',
      },
    ]);
  }
  const functionTimeoutsSec: Record<string, number> = {};
  for (const [logicalId, name] of Object.entries(functionNamesFromTemplate(templates.stateless))) {
    const timeout = templates.stateless.Resources[logicalId]?.Properties?.Timeout;
    functionTimeoutsSec[name] = typeof timeout === 'number' ? timeout : LAMBDA_DEFAULT_TIMEOUT_SEC;
  }
  return {
    templates,
    stateTable: tableFromTemplate(templates.stateful, { kind: 'state' }),
    idempotencyTable: tableFromTemplate(templates.stateful, { kind: 'idempotency' }),
    failover,
    schedules: schedulesFromTemplate(templates.stateless),
    functionTimeoutsSec,
    synthMs,
  };
}

/** Synthesize the app for a configuration name (config/<env>.json) or a validated configuration. */
export function synthLocalAssembly(env: string | Config): LocalAssembly {
  const started = performance.now();
  const templates = synthTemplates(env);
  return localAssemblyFromTemplates(templates, performance.now() - started);
}
