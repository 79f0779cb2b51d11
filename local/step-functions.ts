// Runs a state machine definition taken from a synthesized CloudFormation template with
// aws-local-stepfunctions (npm), its Task states bound to Lambda handlers in this process (or in worker
// processes), so tests and the local stack execute the very definition AWS would.
//
//   const machine = extractStateMachine(template);                 // DefinitionString → ASL, tokens resolved
//   const local = bindStateMachine(machine, template, { handlers: { 'movierec-dev-train-worker': fn, … } });
//   const { result } = local.run(input, { name: 'model-abc' });
//
// aws-local-stepfunctions 3.0.0 accepts but does not run several features (a Distributed Map runs as an
// inline Map; ItemReader, ItemBatcher, ResultWriter, tolerated failures, JSONata and variables are ignored;
// a Task without TimeoutSeconds gets 60 s): offlineGaps() lists them and bindStateMachine refuses a definition
// that uses one, so a test can never pass on a definition AWS would run differently. Token resolution is
// deterministic: a Lambda function's ARN becomes arn:aws:lambda:<region>:<account>:function:<FunctionName>.
// Adapted from the feasibility prototype (issue 17's research), where each executor behaviour was probed.
import { createHash, randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';

// aws-local-stepfunctions 3.0.0 declares node >= 22 and calls Promise.withResolvers (ES2024) in every Task
// state; Node 20 lacks it. A spec-equivalent polyfill, a no-op on Node 22+.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;
export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, Json>; Metadata?: Record<string, Json> }>;
  Parameters?: Record<string, { Default?: Json }>;
}

export interface ResolveOptions {
  partition?: string;
  region?: string;
  account?: string;
  stackName?: string;
  /** per logical id: what `Ref` and `Fn::GetAtt [id, attr]` resolve to (e.g. the local bucket's real name) */
  refs?: Record<string, { Ref?: string; [attr: string]: string | undefined }>;
}

const DEFAULTS = { partition: 'aws', region: 'us-east-1', account: '123456789012', stackName: 'local' };

// ---------------------------------------------------------------- token resolution
/** A resource's name as CloudFormation would report it, when the template states it literally. */
function literalName(res: CfnTemplate['Resources'][string]): string | undefined {
  const p = res.Properties ?? {};
  const byType: Record<string, string> = {
    'AWS::Lambda::Function': 'FunctionName',
    'AWS::S3::Bucket': 'BucketName',
    'AWS::DynamoDB::Table': 'TableName',
    'AWS::DynamoDB::GlobalTable': 'TableName',
    'AWS::StepFunctions::StateMachine': 'StateMachineName',
    'AWS::SQS::Queue': 'QueueName',
    'AWS::SNS::Topic': 'TopicName',
    'AWS::Logs::LogGroup': 'LogGroupName',
    'AWS::IAM::Role': 'RoleName',
  };
  const key = byType[res.Type];
  const v = key ? p[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

export function resolveTokens(value: Json, template: CfnTemplate, opts: ResolveOptions = {}): Json {
  const o = { ...DEFAULTS, ...opts };
  const pseudo: Record<string, string> = {
    'AWS::Partition': o.partition,
    'AWS::Region': o.region,
    'AWS::AccountId': o.account,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': o.stackName,
    'AWS::StackId': `arn:${o.partition}:cloudformation:${o.region}:${o.account}:stack/${o.stackName}/00000000-0000-0000-0000-000000000000`,
    'AWS::NoValue': '',
  };
  const nameOf = (id: string): string => {
    const res = template.Resources[id];
    if (!res) throw new Error(`Ref to unknown logical id ${id}`);
    return literalName(res) ?? id;
  };
  const ref = (id: string): string => {
    if (id in pseudo) return pseudo[id];
    if (o.refs?.[id]?.Ref !== undefined) return o.refs[id].Ref!;
    if (template.Parameters?.[id]) {
      const d = template.Parameters[id].Default;
      if (d === undefined) throw new Error(`Parameter ${id} has no Default: pass refs.${id}.Ref`);
      return String(d);
    }
    const res = template.Resources[id];
    if (!res) throw new Error(`Ref to unknown logical id ${id}`);
    const name = nameOf(id);
    switch (res.Type) {
      case 'AWS::SNS::Topic':
        return `arn:${o.partition}:sns:${o.region}:${o.account}:${name}`;
      case 'AWS::SQS::Queue':
        return `https://sqs.${o.region}.amazonaws.com/${o.account}/${name}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:${o.partition}:states:${o.region}:${o.account}:stateMachine:${name}`;
      default:
        return name;
    }
  };
  const getAtt = (id: string, attr: string): string => {
    const override = o.refs?.[id]?.[attr];
    if (override !== undefined) return override;
    const res = template.Resources[id];
    if (!res) throw new Error(`GetAtt of unknown logical id ${id}`);
    const name = nameOf(id);
    if (attr === 'Arn') {
      switch (res.Type) {
        case 'AWS::Lambda::Function':
          return `arn:${o.partition}:lambda:${o.region}:${o.account}:function:${name}`;
        case 'AWS::S3::Bucket':
          return `arn:${o.partition}:s3:::${name}`;
        case 'AWS::DynamoDB::Table':
          return `arn:${o.partition}:dynamodb:${o.region}:${o.account}:table/${name}`;
        case 'AWS::SQS::Queue':
          return `arn:${o.partition}:sqs:${o.region}:${o.account}:${name}`;
        case 'AWS::IAM::Role':
          return `arn:${o.partition}:iam::${o.account}:role/${name}`;
        case 'AWS::StepFunctions::StateMachine':
          return `arn:${o.partition}:states:${o.region}:${o.account}:stateMachine:${name}`;
        default: {
          const service = res.Type.split('::')[1].toLowerCase();
          return `arn:${o.partition}:${service}:${o.region}:${o.account}:${name}`;
        }
      }
    }
    if (attr === 'Name' || attr.endsWith('Name')) return name;
    return `${id}.${attr}`;
  };
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk);
    if (!v || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [k] = keys;
      const a = v[k];
      switch (k) {
        case 'Ref':
          return ref(a);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(a) ? a : String(a).split(/\.(.+)/);
          return getAtt(id, attr);
        }
        case 'Fn::Join': {
          const [sep, parts] = a;
          return (walk(parts) as Json[]).map(String).join(sep);
        }
        case 'Fn::Select': {
          const [i, list] = a;
          return (walk(list) as Json[])[Number(walk(i))];
        }
        case 'Fn::Split': {
          const [sep, s] = a;
          return String(walk(s)).split(sep);
        }
        case 'Fn::Sub': {
          const [tpl, vars] = Array.isArray(a) ? a : [a, {}];
          const local = walk(vars) as Record<string, string>;
          return String(tpl).replace(/\$\{([^}!][^}]*)\}/g, (_m, name: string) => {
            if (name in local) return String(local[name]);
            const [id, attr] = name.split(/\.(.+)/);
            return attr ? getAtt(id, attr) : ref(id);
          });
        }
        case 'Fn::ImportValue':
        case 'Fn::If':
        case 'Fn::FindInMap':
        case 'Fn::GetAZs':
          throw new Error(`${k} is not supported in a definition resolved offline`);
      }
    }
    return Object.fromEntries(keys.map((k) => [k, walk(v[k])]));
  };
  return walk(value);
}

// ---------------------------------------------------------------- extraction
export interface ExtractedMachine {
  logicalId: string;
  /** StateMachineName when the template states it, else the logical id */
  name: string;
  type: 'STANDARD' | 'EXPRESS';
  definition: Json;
  /** the definition string exactly as resolved (what cfn-lint/AWS would parse) */
  definitionString: string;
}

/** The state machine(s) of a template: DefinitionString (Fn::Join/GetAtt/Ref tokens) or Definition (object),
 * plus DefinitionSubstitutions, resolved to plain ASL JSON. */
export function extractStateMachines(template: CfnTemplate, opts: ResolveOptions = {}): ExtractedMachine[] {
  const out: ExtractedMachine[] = [];
  for (const [logicalId, res] of Object.entries(template.Resources)) {
    if (res.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const p = res.Properties ?? {};
    let text: string;
    if (p.DefinitionString !== undefined) text = String(resolveTokens(p.DefinitionString, template, opts));
    else if (p.Definition !== undefined) text = JSON.stringify(resolveTokens(p.Definition, template, opts));
    else throw new Error(`${logicalId}: DefinitionS3Location is not supported offline`);
    if (p.DefinitionSubstitutions) {
      const subs = resolveTokens(p.DefinitionSubstitutions, template, opts) as Record<string, Json>;
      text = text.replace(/\$\{([^}]+)\}/g, (m, k: string) => (k in subs ? String(subs[k]) : m));
    }
    out.push({
      logicalId,
      name: literalName(res) ?? logicalId,
      type: (p.StateMachineType ?? 'STANDARD') as 'STANDARD' | 'EXPRESS',
      definition: JSON.parse(text),
      definitionString: text,
    });
  }
  return out;
}

export function extractStateMachine(template: CfnTemplate, opts: ResolveOptions & { logicalId?: string } = {}): ExtractedMachine {
  const all = extractStateMachines(template, opts);
  const pick = opts.logicalId ? all.filter((m) => m.logicalId === opts.logicalId) : all;
  if (pick.length !== 1) {
    throw new Error(`expected exactly one state machine${opts.logicalId ? ` ${opts.logicalId}` : ''}, found ${all.map((m) => m.logicalId).join(', ') || 'none'}`);
  }
  return pick[0];
}

// ---------------------------------------------------------------- walking the definition
export interface StateRef {
  name: string;
  state: Json;
  /** e.g. ['Assign'] for a state inside the Map "Assign"'s item processor */
  parents: string[];
}

export function allStates(definition: Json, parents: string[] = []): StateRef[] {
  const out: StateRef[] = [];
  for (const [name, state] of Object.entries<Json>(definition.States ?? {})) {
    out.push({ name, state, parents });
    if (state.Type === 'Map') out.push(...allStates(state.ItemProcessor ?? state.Iterator, [...parents, name]));
    if (state.Type === 'Parallel') for (const b of state.Branches) out.push(...allStates(b, [...parents, name]));
  }
  return out;
}

export type Integration = 'lambda-arn' | 'lambda-invoke' | 'other';
export interface TaskBinding {
  stateName: string;
  integration: Integration;
  /** function name, from the ARN or Parameters.FunctionName (qualifier stripped) */
  functionName?: string;
  resource: string;
}

const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:[^:]+:\d{12}:function:([^:]+)(?::[^:]+)?$/;
const LAMBDA_INVOKE = /^arn:aws[\w-]*:states:::lambda:invoke$/;

export function taskBindings(definition: Json): TaskBinding[] {
  const out: TaskBinding[] = [];
  for (const { name, state } of allStates(definition)) {
    if (state.Type !== 'Task') continue;
    const resource = String(state.Resource);
    const direct = LAMBDA_ARN.exec(resource);
    if (direct) {
      out.push({ stateName: name, integration: 'lambda-arn', functionName: direct[1], resource });
    } else if (LAMBDA_INVOKE.test(resource)) {
      const fnRef = state.Parameters?.FunctionName ?? state.Arguments?.FunctionName;
      if (typeof fnRef !== 'string') throw new Error(`${name}: FunctionName must be a literal (found ${JSON.stringify(fnRef)})`);
      const m = LAMBDA_ARN.exec(fnRef);
      out.push({ stateName: name, integration: 'lambda-invoke', functionName: m ? m[1] : fnRef.split(':')[0], resource });
    } else {
      out.push({ stateName: name, integration: 'other', resource });
    }
  }
  return out;
}

// ---------------------------------------------------------------- offline gaps
export interface Gap {
  state: string;
  feature: string;
  why: string;
}

/** Definition features aws-local-stepfunctions 3.0.0 accepts but does not execute as AWS does (each one
 * verified in experiments/features.ts). A definition with none of them runs offline as it runs in AWS. */
export function offlineGaps(definition: Json): Gap[] {
  const gaps: Gap[] = [];
  const add = (state: string, feature: string, why: string) => gaps.push({ state, feature, why });
  if (definition.QueryLanguage === 'JSONata') add('(top)', 'QueryLanguage JSONata', 'JSONata expressions, Arguments and Output are ignored: values pass through unevaluated');
  for (const { name, state } of allStates(definition)) {
    if (state.QueryLanguage === 'JSONata') add(name, 'QueryLanguage JSONata', 'not evaluated');
    if ('Assign' in state) add(name, 'Assign (variables)', '$variables do not resolve');
    if ('Arguments' in state || 'Output' in state) add(name, 'Arguments/Output', 'JSONata-only fields are ignored');
    if (state.Type === 'Map') {
      for (const f of ['ItemReader', 'ItemBatcher', 'ResultWriter', 'ToleratedFailurePercentage', 'ToleratedFailureCount', 'ToleratedFailurePercentagePath', 'ToleratedFailureCountPath']) {
        if (f in state) add(name, `Map ${f}`, 'ignored by the executor (Distributed Map runs as an inline Map over ItemsPath)');
      }
    }
    if (state.Type === 'Task') {
      const r = String(state.Resource);
      if (/\.(waitForTaskToken|sync(:2)?)$/.test(r)) add(name, r.split('.').pop()!, 'no task tokens or job polling: the handler result is taken at once');
      if (!LAMBDA_ARN.test(r) && !LAMBDA_INVOKE.test(r)) add(name, `resource ${r}`, 'only Lambda resources can be bound by function; bind this state by name with stateHandlers');
      if ('HeartbeatSeconds' in state || 'HeartbeatSecondsPath' in state) add(name, 'HeartbeatSeconds', 'ignored');
      if ('Credentials' in state) add(name, 'Credentials', 'ignored');
      if (!('TimeoutSeconds' in state) && !('TimeoutSecondsPath' in state)) {
        add(name, 'no TimeoutSeconds', 'the executor applies 60 s (AWS: none); a longer local handler would fail with States.Timeout');
      }
    }
    const text = JSON.stringify(state);
    if (text.includes('$$.Task.Token')) add(name, '$$.Task.Token', 'not in the local context object');
    if (/\$\$\.(State|StateMachine)\./.test(text)) add(name, '$$.State/$$.StateMachine', 'not in the local context object');
  }
  return gaps;
}

// ---------------------------------------------------------------- binding to local handlers
export type LambdaHandler = (event: Json, context: Json) => Promise<Json> | Json;

export interface BindOptions {
  /** by function name (FunctionName or logical id, as in the resolved ARNs) or by logical id */
  handlers: Record<string, LambdaHandler>;
  /** Task states that are not Lambda functions, bound by state name (use sparingly) */
  stateHandlers?: Record<string, (input: Json) => Promise<Json> | Json>;
  /** fail on offlineGaps() (default true): shape the definition instead of testing another one */
  strict?: boolean;
  /** enforce AWS's 262,144-byte state payload limit on every state input/output (default true) */
  payloadLimit?: number | false;
  /** at most this many concurrent calls per function (like Lambda reserved concurrency): keeps CPU-heavy
   * handlers from all running at once in one local process; the definition's MaxConcurrency is untouched */
  concurrency?: Record<string, number>;
  /** every execution event, as it happens (progress display, counting) */
  onEvent?: (e: Json) => void;
  /** keep every event of a run in memory (`events` of run(); default false: a large training has millions) */
  keepEvents?: boolean;
}

export const PAYLOAD_LIMIT = 262_144;

class DataLimitExceeded extends Error {
  // aws-local-stepfunctions reads these two flags: a terminal error, like AWS's States.DataLimitExceeded
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(what: string, bytes: number, limit: number) {
    super(`${what} is ${bytes} bytes (limit ${limit})`);
    this.name = 'States.DataLimitExceeded';
  }
}

const bytes = (v: Json) => Buffer.byteLength(JSON.stringify(v ?? null), 'utf8');
/** what the wire does to a value: JSON round trip (undefined dropped, Dates → strings, …) */
const wire = (v: Json) => (v === undefined ? null : JSON.parse(JSON.stringify(v)));

export interface LocalStateMachine {
  machine: ExtractedMachine;
  bindings: TaskBinding[];
  gaps: Gap[];
  stateMachine: StateMachine;
  overrides: Record<string, (input: Json) => Promise<Json>>;
  /** the largest state input/output seen so far, bytes */
  maxPayload(): number;
  run(
    input: Json,
    opts?: { name?: string; retryIntervalOverrides?: Record<string, number | number[]>; waitTimeOverrides?: Record<string, number> },
  ): { result: Promise<Json>; abort: () => void; events: Json[] };
}

export function bindStateMachine(machine: ExtractedMachine, template: CfnTemplate, opts: BindOptions): LocalStateMachine {
  const gaps = offlineGaps(machine.definition);
  if ((opts.strict ?? true) && gaps.length) {
    throw new Error(`definition uses features the offline executor does not run as AWS does:\n${gaps.map((g) => `  ${g.state}: ${g.feature} — ${g.why}`).join('\n')}`);
  }
  const limit = opts.payloadLimit === false ? Infinity : (opts.payloadLimit ?? PAYLOAD_LIMIT);
  const bindings = taskBindings(machine.definition);
  // logical id of each function name, so handlers may be keyed either way
  const logicalOf = new Map<string, string>();
  for (const [id, res] of Object.entries(template.Resources)) {
    if (res.Type === 'AWS::Lambda::Function') logicalOf.set(literalName(res) ?? id, id);
  }
  const timeouts = new Map<string, number>();
  for (const { name, state } of allStates(machine.definition)) if (state.Type === 'Task') timeouts.set(name, (state.TimeoutSeconds ?? 60) * 1000);

  const overrides: Record<string, (input: Json) => Promise<Json>> = {};
  const gates = new Map<string, <T>(fn: () => Promise<T>) => Promise<T>>();
  const gate = (fnName: string) => {
    const limit = opts.concurrency?.[fnName];
    if (!limit) return <T>(fn: () => Promise<T>) => fn();
    if (!gates.has(fnName)) gates.set(fnName, semaphore(limit));
    return gates.get(fnName)!;
  };
  const seen = new Map<string, string>();
  let maxPayload = 0;
  const checkSize = (what: string, v: Json) => {
    const n = bytes(v);
    maxPayload = Math.max(maxPayload, n);
    if (n > limit) throw new DataLimitExceeded(what, n, limit);
  };

  for (const b of bindings) {
    const key = `${b.integration}:${b.functionName ?? b.resource}`;
    if (seen.has(b.stateName) && seen.get(b.stateName) !== key) {
      throw new Error(`two Task states named "${b.stateName}" call different resources: local overrides are keyed by state name`);
    }
    seen.set(b.stateName, key);
    if (b.integration === 'other') {
      const h = opts.stateHandlers?.[b.stateName];
      if (!h) throw new Error(`${b.stateName}: resource ${b.resource} has no local handler (stateHandlers.${b.stateName})`);
      overrides[b.stateName] = async (input) => wire(await h(wire(input)));
      continue;
    }
    const fnName = b.functionName!;
    const handler = opts.handlers[fnName] ?? opts.handlers[logicalOf.get(fnName) ?? ''];
    if (!handler) throw new Error(`${b.stateName}: no handler for function ${fnName} (logical id ${logicalOf.get(fnName) ?? '?'})`);
    const timeoutMs = timeouts.get(b.stateName)!;
    const limited = gate(fnName);
    overrides[b.stateName] = (input) => limited(async () => {
      checkSize(`input of ${b.stateName}`, input);
      const event = b.integration === 'lambda-invoke' ? wire(input.Payload ?? null) : wire(input);
      const started = Date.now();
      const requestId = randomUUID();
      const context = {
        functionName: fnName,
        functionVersion: '$LATEST',
        invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${fnName}`,
        memoryLimitInMB: '0',
        awsRequestId: requestId,
        logGroupName: `/aws/lambda/${fnName}`,
        logStreamName: 'local',
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
      };
      let out: Json;
      try {
        out = wire(await handler(event, context));
      } catch (e) {
        // as Lambda reports a function error: Error = errorType, Cause = the error JSON
        const err = e as Error;
        const failure = new Error(JSON.stringify({ errorType: err.name ?? 'Error', errorMessage: err.message, trace: String(err.stack ?? '').split('\n') }));
        failure.name = err.name ?? 'Error';
        throw failure;
      }
      const result =
        b.integration === 'lambda-invoke'
          ? {
              ExecutedVersion: '$LATEST',
              Payload: out,
              SdkHttpMetadata: { HttpStatusCode: 200 },
              SdkResponseMetadata: { RequestId: requestId },
              StatusCode: 200,
            }
          : out;
      checkSize(`result of ${b.stateName}`, result);
      return result;
    });
  }

  // validation stays on: ARNs are real-looking after resolution, paths are checked
  const stateMachine = new StateMachine(machine.definition, { validationOptions: { checkArn: true, checkPaths: true } });

  return {
    machine,
    bindings,
    gaps,
    stateMachine,
    overrides,
    maxPayload: () => maxPayload,
    run(input, runOpts = {}) {
      checkSize('execution input', input);
      const name = runOpts.name ?? randomUUID();
      const execution = stateMachine.run(wire(input), {
        overrides: {
          taskResourceLocalHandlers: overrides,
          retryIntervalOverrides: runOpts.retryIntervalOverrides,
          waitTimeOverrides: runOpts.waitTimeOverrides,
        },
        context: {
          Execution: {
            Id: `arn:aws:states:us-east-1:123456789012:execution:${machine.name}:${name}`,
            Name: name,
          },
          StateMachine: { Id: `arn:aws:states:us-east-1:123456789012:stateMachine:${machine.name}`, Name: machine.name },
        },
      });
      const events: Json[] = [];
      let sizeError: Error | undefined;
      const pump = (async () => {
        for await (const e of execution.eventLogs) {
          if (opts.keepEvents) events.push(e);
          // every state's input and output, including Map/Parallel/Pass states the overrides never see
          if (e.type === 'StateExited') {
            try {
              checkSize(`output of ${e.state.name}`, e.state.output);
            } catch (err) {
              sizeError ??= err as Error;
              execution.abort();
            }
          }
          opts.onEvent?.(e);
        }
      })();
      const result = execution.result.then(
        async (r) => {
          await pump;
          if (sizeError) throw sizeError;
          return r;
        },
        async (e) => {
          await Promise.race([pump, new Promise((r) => setTimeout(r, 50))]);
          throw sizeError ?? unwrap(e);
        },
      );
      return { result, abort: execution.abort, events };
    },
  };
}

function semaphore(limit: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** aws-local-stepfunctions wraps a state's error in ExecutionError{cause}: surface the state's error */
function unwrap(e: unknown): Error {
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? cause : (e as Error);
}

// ---------------------------------------------------------------- StartExecution semantics (Standard)
export const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

export class ExecutionAlreadyExists extends Error {
  override name = 'ExecutionAlreadyExists';
}
export class InvalidName extends Error {
  override name = 'InvalidName';
}

interface Execution {
  executionArn: string;
  name: string;
  inputHash: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  startDate: Date;
  stopDate?: Date;
  output?: Json;
  error?: string;
  cause?: string;
  done: Promise<void>;
}

/** StartExecution/DescribeExecution over a LocalStateMachine, with Standard workflows' name rules:
 * same name + same input while RUNNING → the same execution (idempotent); a different input, or any
 * input once the first has closed → ExecutionAlreadyExists (AWS keeps names 90 days). */
export class LocalExecutions {
  private readonly byName = new Map<string, Execution>();
  constructor(private readonly local: LocalStateMachine, private readonly runOpts: { retryIntervalOverrides?: Record<string, number | number[]> } = {}) {}

  startExecution(req: { name: string; input: string }): { executionArn: string; startDate: Date } {
    if (!EXECUTION_NAME.test(req.name)) throw new InvalidName(`Invalid Name: '${req.name}'`);
    const inputHash = createHash('sha256').update(req.input).digest('hex');
    const existing = this.byName.get(req.name);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.inputHash === inputHash) {
        return { executionArn: existing.executionArn, startDate: existing.startDate };
      }
      throw new ExecutionAlreadyExists(`Execution Already Exists: '${existing.executionArn}'`);
    }
    const executionArn = `arn:aws:states:us-east-1:123456789012:execution:${this.local.machine.name}:${req.name}`;
    const { result } = this.local.run(JSON.parse(req.input), { name: req.name, ...this.runOpts });
    const ex: Execution = { executionArn, name: req.name, inputHash, status: 'RUNNING', startDate: new Date(), done: Promise.resolve() };
    ex.done = result.then(
      (out) => {
        Object.assign(ex, { status: 'SUCCEEDED', output: out, stopDate: new Date() });
      },
      (e: Error) => {
        Object.assign(ex, { status: 'FAILED', error: e.name, cause: e.message, stopDate: new Date() });
      },
    );
    this.byName.set(req.name, ex);
    return { executionArn, startDate: ex.startDate };
  }

  describeExecution(executionArn: string) {
    const ex = [...this.byName.values()].find((e) => e.executionArn === executionArn);
    if (!ex) throw Object.assign(new Error(`Execution Does Not Exist: '${executionArn}'`), { name: 'ExecutionDoesNotExist' });
    const { done: _d, inputHash: _h, ...rest } = ex;
    return rest;
  }

  /** the executions started so far (name → status) */
  list(): Array<{ name: string; status: Execution['status'] }> {
    return [...this.byName.values()].map((e) => ({ name: e.name, status: e.status }));
  }

  /** resolves when no execution is running (one started meanwhile is waited for too) */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.byName.values()].filter((e) => e.status === 'RUNNING');
      if (running.length === 0) return;
      await Promise.all(running.map((e) => e.done));
    }
  }

  /** test helper: resolves when the named execution has closed */
  async settled(name: string) {
    const ex = this.byName.get(name);
    if (!ex) throw new Error(`no execution ${name}`);
    await ex.done;
    return this.describeExecution(ex.executionArn);
  }
}
