/**
 * Every state machine of the synthesized stateless stack, as `npm run invoke` runs them: the
 * definition (intrinsics resolved) and the function its Lambda tasks call (`dr`, `rehearsal`),
 * by the machine's short name (`cpe-failover-<env>-Backup` → `Backup`).
 */
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { functionNamesFromTemplate, type CfnTemplate } from '../../cdk/assembly.js';
import { resolveIntrinsics } from './scenarios/dr-machines.js';

/** One state machine to run locally. */
export interface LocalStateMachine {
  definition: StateMachineDefinition;
  /** The function (folder under functions/) every Lambda task of the machine invokes. */
  function: string;
}

/** The Lambda logical IDs a definition's tasks invoke (resolved ARNs end with `function:<id>`). */
function invokedIds(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const v of value) invokedIds(v, found);
  else if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (v.Type === 'Task') {
      const params = v.Parameters as Record<string, unknown> | undefined;
      for (const arn of [v.Resource, params?.FunctionName, params?.['FunctionName.$']]) {
        const m = typeof arn === 'string' ? /:function:([^:]+)/.exec(arn) : null;
        if (m?.[1]) found.add(m[1]);
      }
    }
    for (const child of Object.values(v)) invokedIds(child, found);
  }
  return found;
}

/**
 * The template's state machines by short name. A machine whose tasks call no function of the app,
 * or more than one, is left out (invoke could not say which handler to run).
 */
export function stateMachinesFromTemplate(
  template: CfnTemplate,
  region: string,
): Record<string, LocalStateMachine> {
  const functions = functionNamesFromTemplate(template);
  const machines: Record<string, LocalStateMachine> = {};
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const name = String(resource.Properties?.StateMachineName ?? '')
      .split('-')
      .pop();
    if (!name) continue;
    const definition = JSON.parse(
      resolveIntrinsics(resource.Properties?.DefinitionString, region),
    ) as StateMachineDefinition;
    const called = new Set([...invokedIds(definition.States, new Set())].map((id) => functions[id]));
    const [fn, ...others] = [...called];
    if (fn && others.length === 0) machines[name] = { definition, function: fn };
  }
  return machines;
}
