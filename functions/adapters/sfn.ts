// TrainingStarter over Step Functions: StartExecution with a name derived from the model version, so a
// redelivered upload event never starts a second training (same name and input while running: the same
// execution; once closed: ExecutionAlreadyExists).
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { TrainingStarter } from '../ports/training-run';

export class SfnTrainingStarter implements TrainingStarter {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(name: string, input: string): Promise<{ executionArn: string; existing: boolean }> {
    try {
      const res = await this.client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input }));
      return { executionArn: res.executionArn ?? '', existing: false };
    } catch (e) {
      if ((e as { name?: string }).name === 'ExecutionAlreadyExists') {
        const arn = this.stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
        return { executionArn: arn, existing: true };
      }
      throw e;
    }
  }
}
