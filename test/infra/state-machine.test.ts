// The training state machine as synthesized, against AWS's documented limits (Step Functions quotas and
// the Lambda quotas its functions run under; docs/SCALE.md lists them with their sources). Built for prod
// with the distributed mode forced and 100 concurrent workers (the most a deployment is documented to use).
import { TRAINING_LEASE_SECONDS } from '../../functions/app/distributed/route';
import { DISTRIBUTED_FUNCTIONS, executionNameOf } from '../../functions/shared/resources';
import { QUOTA_SAFE_MEMORY_MB } from '../../lib/config';
import { allStates, EXECUTION_NAME, extractStateMachine, taskBindings, type CfnTemplate } from '../../local/step-functions';
import { build, cleanup, templateOf } from './helpers';

afterAll(cleanup);

const template = templateOf(build('prod', { context: { trainingMode: 'distributed', distributedConcurrency: '100' } })).toJSON() as CfnTemplate;
const machine = extractStateMachine(template);
const states = allStates(machine.definition);
const resources = Object.values(template.Resources) as Array<{ Type: string; Properties: Record<string, any> }>;
const functionsByName = new Map(resources.filter((r) => r.Type === 'AWS::Lambda::Function').map((r) => [r.Properties.FunctionName as string, r.Properties]));
const THREE = new Set(Object.values(DISTRIBUTED_FUNCTIONS).map((f) => `movierec-prod-${f}`));
const smResource = resources.find((r) => r.Type === 'AWS::StepFunctions::StateMachine')!;

test('one Standard workflow whose definition fits the 1 MB definition quota, with state names of at most 80 characters', () => {
  expect(machine.type).toBe('STANDARD');
  // a tenth of the quota: room for the definition to grow
  expect(Buffer.byteLength(machine.definitionString, 'utf8')).toBeLessThan(1_048_576 / 10);
  for (const { name } of states) expect(name.length).toBeLessThanOrEqual(80);
  // Task names are unique across the whole definition (the offline executor binds by name)
  const tasks = states.filter((s) => s.state.Type === 'Task').map((s) => s.name);
  expect(new Set(tasks).size).toBe(tasks.length);
});

test('the execution timeout is set, below a Standard execution’s one year, and no longer than the router’s lease', () => {
  const timeout = machine.definition.TimeoutSeconds as number;
  expect(timeout).toBeGreaterThan(0);
  expect(timeout).toBeLessThan(365 * 24 * 3600);
  // a training that dies without its last step must not keep the lease past its own end
  expect(timeout).toBeLessThanOrEqual(TRAINING_LEASE_SECONDS);
});

test('every Map is a Distributed Map of Standard children with an explicit concurrency ≤ 10,000 and a label ≤ 40 characters', () => {
  const maps = states.filter((s) => s.state.Type === 'Map');
  expect(maps.length).toBeGreaterThanOrEqual(8);
  for (const { name, state } of maps) {
    expect([name, state.ItemProcessor.ProcessorConfig]).toEqual([name, { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }]);
    expect([name, state.MaxConcurrency]).toEqual([name, 100]);
    expect(state.MaxConcurrency).toBeLessThanOrEqual(10_000);
    expect(state.Label.length).toBeLessThanOrEqual(40);
    // items come from the state (keys, never data) and results go to S3: nothing a 256 KiB payload could hold
    expect([name, typeof state.ItemsPath, state.ResultPath]).toEqual([name, 'string', null]);
  }
});

test('every Task invokes one of the three functions, waits longer than the function’s own timeout, and retries failures but not a refused upload', () => {
  const bindings = taskBindings(machine.definition);
  expect(new Set(bindings.map((b) => b.functionName))).toEqual(THREE);
  for (const b of bindings) {
    const state = states.find((s) => s.name === b.stateName)!.state;
    const fn = functionsByName.get(b.functionName!)!;
    // the function ends first (its own timeout error is a retried States.TaskFailed), the Task never hangs
    expect([b.stateName, state.TimeoutSeconds > fn.Timeout]).toEqual([b.stateName, true]);
    const retries = (state.Retry ?? []) as Array<{ ErrorEquals: string[]; MaxAttempts?: number }>;
    expect(retries.find((r) => r.ErrorEquals.includes('InputError'))?.MaxAttempts).toBe(0);
    expect(retries.findIndex((r) => r.ErrorEquals.includes('InputError'))).toBeLessThan(retries.findIndex((r) => r.ErrorEquals.includes('States.TaskFailed')));
    expect(retries.some((r) => r.ErrorEquals.includes('States.TaskFailed') && (r.MaxAttempts ?? 3) >= 2)).toBe(true);
  }
});

test('every step but the failure path is caught (States.ALL) into MarkFailed (the step that records the failure and gives the lease back)', () => {
  const top = Object.entries(machine.definition.States as Record<string, any>);
  for (const [name, state] of top) {
    if (state.Type !== 'Task' && state.Type !== 'Map') continue;
    if (name === 'MarkFailed') {
      expect(state.Catch).toBeUndefined();
      continue;
    }
    expect([name, state.Catch?.map((c: { ErrorEquals: string[]; Next: string }) => [c.ErrorEquals, c.Next])]).toEqual([name, [[['States.ALL'], 'MarkFailed']]]);
  }
});

test('the functions stay within Lambda’s quotas: 15 minutes, 10,240 MB and /tmp; workers fit a new account’s 3,008 MB', () => {
  for (const f of Object.values(DISTRIBUTED_FUNCTIONS)) {
    const p = functionsByName.get(`movierec-prod-${f}`)!;
    expect(p.Timeout).toBeLessThanOrEqual(900);
    expect(p.MemorySize).toBeLessThanOrEqual(10_240);
    expect(p.EphemeralStorage?.Size ?? 512).toBeLessThanOrEqual(10_240);
  }
  expect(functionsByName.get(`movierec-prod-${DISTRIBUTED_FUNCTIONS.worker}`)!.MemorySize).toBeLessThanOrEqual(QUOTA_SAFE_MEMORY_MB);
});

test('execution names fit StartExecution’s rules (1–80 characters, no reserved characters), resumed ones too', () => {
  for (const name of [executionNameOf('0123456789abcdef'), executionNameOf('0123456789abcdef', { job: 11, restart: 99 })]) {
    expect(name).toMatch(EXECUTION_NAME);
  }
});

test('the state machine’s role invokes only the three functions; failed, timed-out and aborted executions alarm', () => {
  const role = smResource.Properties.RoleArn['Fn::GetAtt'][0];
  const policies = resources.filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: { Ref: string }) => x.Ref === role));
  const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);
  const invoke = statements.filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
  const targets = JSON.stringify(invoke.map((s) => s.Resource));
  for (const logical of Object.keys(template.Resources).filter((k) => template.Resources[k].Type === 'AWS::Lambda::Function')) {
    const named = template.Resources[logical].Properties!.FunctionName as string;
    expect([named, targets.includes(`"${logical}"`)]).toEqual([named, THREE.has(named)]);
  }
  const metrics = resources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Namespace === 'AWS/States').map((r) => r.Properties.MetricName);
  expect(metrics).toEqual(expect.arrayContaining(['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']));
});

test('a lifecycle rule expires the runs’ intermediate objects (runs/) within days', () => {
  const rules = resources.filter((r) => r.Type === 'AWS::S3::Bucket').flatMap((r) => (r.Properties.LifecycleConfiguration?.Rules ?? []) as Array<{ Prefix?: string; ExpirationInDays?: number; Status: string }>);
  const runs = rules.filter((r) => r.Prefix === 'runs/');
  expect(runs).toHaveLength(1);
  expect(runs[0].Status).toBe('Enabled');
  expect(runs[0].ExpirationInDays).toBeGreaterThanOrEqual(1);
  expect(runs[0].ExpirationInDays).toBeLessThanOrEqual(7);
});
