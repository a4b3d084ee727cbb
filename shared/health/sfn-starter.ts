/** The AWS adapter of {@link SwitchoverStarter}: Step Functions StartExecution on SwitchoverDcToDr. */
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SwitchoverStarter } from './director-lost.js';

/** Starts executions of one state machine; a name already used is the same execution. */
export class SfnSwitchoverStarter implements SwitchoverStarter {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(name: string, input: object): Promise<string> {
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    try {
      const out = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      return out.executionArn ?? executionArn;
    } catch (error) {
      // Another run (or a retry) started it already: the same outage, the same execution.
      if (error instanceof ExecutionAlreadyExists) return executionArn;
      throw error;
    }
  }
}
