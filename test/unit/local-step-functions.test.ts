// The offline executor's extraction and binding (local/step-functions.ts): token resolution, bindings by
// function, Lambda's payload and error shapes, refusal of features aws-local-stepfunctions would silently
// ignore, the 256 KiB state limit, and StartExecution's name rules. Ported from issue 17's feasibility
// prototype, where each behaviour of the executor was probed.
import {
  type CfnTemplate,
  ExecutionAlreadyExists,
  InvalidName,
  LocalExecutions,
  bindStateMachine,
  extractStateMachine,
  offlineGaps,
  resolveTokens,
} from '../../local/step-functions';

const fnArn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;

function tinyTemplate(definition: object | string, extra: CfnTemplate['Resources'] = {}): CfnTemplate {
  return {
    Resources: {
      Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'worker' } },
      AnonFn: { Type: 'AWS::Lambda::Function', Properties: {} },
      SM: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: { DefinitionString: typeof definition === 'string' ? definition : JSON.stringify(definition) },
      },
      ...extra,
    },
  };
}

describe('resolveTokens', () => {
  const t = tinyTemplate({}, { Bucket: { Type: 'AWS::S3::Bucket', Properties: {} }, Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'tbl' } } });
  test('resolves pseudo parameters, GetAtt Arn by type, Ref by literal name or logical id', () => {
    expect(resolveTokens({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:::lambda:invoke']] }, t)).toBe('arn:aws:states:::lambda:invoke');
    expect(resolveTokens({ 'Fn::GetAtt': ['Fn', 'Arn'] }, t)).toBe(fnArn('worker'));
    expect(resolveTokens({ 'Fn::GetAtt': ['AnonFn', 'Arn'] }, t)).toBe(fnArn('AnonFn'));
    expect(resolveTokens({ Ref: 'Table' }, t)).toBe('tbl');
    expect(resolveTokens({ 'Fn::GetAtt': ['Table', 'Arn'] }, t)).toBe('arn:aws:dynamodb:us-east-1:123456789012:table/tbl');
    expect(resolveTokens({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Bucket}/x' }, t)).toBe('arn:aws:s3:::Bucket/x');
    expect(resolveTokens({ 'Fn::Select': [1, { 'Fn::Split': [':', 'a:b:c'] }] }, t)).toBe('b');
  });
  test('takes per-logical-id overrides (the local stack names)', () => {
    expect(resolveTokens({ Ref: 'Bucket' }, t, { refs: { Bucket: { Ref: 'local-bucket' } } })).toBe('local-bucket');
  });
  test('refuses what cannot be resolved offline', () => {
    expect(() => resolveTokens({ 'Fn::ImportValue': 'x' }, t)).toThrow(/not supported/);
    expect(() => resolveTokens({ Ref: 'Nope' }, t)).toThrow(/unknown logical id/);
  });
});

describe('binding', () => {
  const def = {
    StartAt: 'A',
    States: {
      A: { Type: 'Task', Resource: fnArn('worker'), TimeoutSeconds: 5, Next: 'B' },
      B: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: fnArn('AnonFn'), 'Payload.$': '$' },
        ResultSelector: { 'v.$': '$.Payload' },
        OutputPath: '$.v',
        TimeoutSeconds: 5,
        End: true,
      },
    },
  };
  const t = tinyTemplate(def);

  test('calls handlers by function name or logical id, unwrapping/wrapping lambda:invoke payloads', async () => {
    const seen: unknown[] = [];
    const local = bindStateMachine(extractStateMachine(t), t, {
      handlers: {
        worker: (e: { n: number }) => ({ n: e.n + 1 }),
        AnonFn: (e: unknown, ctx: { functionName: string; getRemainingTimeInMillis(): number }) => {
          seen.push(e, ctx.functionName, ctx.getRemainingTimeInMillis() > 0);
          return { got: e };
        },
      },
    });
    expect(await local.run({ n: 1 }).result).toEqual({ got: { n: 2 } });
    expect(seen).toEqual([{ n: 2 }, 'AnonFn', true]);
  });

  test('reports a function error as Lambda does (Error = errorType, Cause = error JSON)', async () => {
    const d = {
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: fnArn('worker'), TimeoutSeconds: 5, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Done' }], End: true },
        Done: { Type: 'Succeed' },
      },
    };
    const tt = tinyTemplate(d);
    const local = bindStateMachine(extractStateMachine(tt), tt, {
      handlers: {
        worker: () => {
          throw Object.assign(new Error('bad line 3'), { name: 'InputError' });
        },
      },
    });
    const out = await local.run({}).result;
    expect(out.Error).toBe('InputError');
    expect(JSON.parse(out.Cause).errorMessage).toBe('bad line 3');
  });

  test('refuses a definition with features the executor would ignore (strict by default)', () => {
    const d = {
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          ItemReader: { Resource: 'arn:aws:states:::s3:listObjectsV2', Parameters: { Bucket: 'b' } },
          ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'W', States: { W: { Type: 'Task', Resource: fnArn('worker'), End: true } } },
          End: true,
        },
      },
    };
    const tt = tinyTemplate(d);
    expect(() => bindStateMachine(extractStateMachine(tt), tt, { handlers: { worker: () => 1 } })).toThrow(/Map ItemReader[\s\S]*no TimeoutSeconds/);
  });

  test('flags JSONata, variables and .waitForTaskToken, which the executor accepts but does not evaluate', () => {
    const gaps = offlineGaps({
      QueryLanguage: 'JSONata',
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', Output: '{% $states.input %}', Assign: { k: 1 }, Next: 'B' },
        B: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', Arguments: { FunctionName: 'f' }, TimeoutSeconds: 5, End: true },
      },
    }).map((g) => `${g.state}: ${g.feature}`);
    for (const want of ['(top): QueryLanguage JSONata', 'A: Assign (variables)', 'A: Arguments/Output', 'B: waitForTaskToken']) {
      expect(gaps).toContain(want);
    }
  });

  test('enforces the 256 KiB state payload limit as a terminal error that Catch States.ALL does not catch', async () => {
    const d = {
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: fnArn('worker'), TimeoutSeconds: 5, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'C' }], End: true },
        C: { Type: 'Pass', End: true },
      },
    };
    const tt = tinyTemplate(d);
    const local = bindStateMachine(extractStateMachine(tt), tt, { handlers: { worker: () => 'x'.repeat(300_000) } });
    await expect(local.run({}).result).rejects.toMatchObject({ name: 'States.DataLimitExceeded' });
  });

  test('limits concurrent calls per function when asked (local stand-in for reserved concurrency)', async () => {
    const d = {
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          MaxConcurrency: 50,
          ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'W', States: { W: { Type: 'Task', Resource: fnArn('worker'), TimeoutSeconds: 5, End: true } } },
          End: true,
        },
      },
    };
    const tt = tinyTemplate(d);
    let active = 0;
    let peak = 0;
    const local = bindStateMachine(extractStateMachine(tt), tt, {
      concurrency: { worker: 2 },
      handlers: {
        worker: async (x: number) => {
          peak = Math.max(peak, ++active);
          await new Promise((r) => setTimeout(r, 10));
          active--;
          return x;
        },
      },
    });
    expect(await local.run([1, 2, 3, 4, 5, 6]).result).toEqual([1, 2, 3, 4, 5, 6]);
    expect(peak).toBe(2);
  });

  test('refuses two Task states of one name calling different functions', () => {
    const d = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'W', States: { W: { Type: 'Task', Resource: fnArn('worker'), TimeoutSeconds: 5, End: true } } },
            { StartAt: 'W', States: { W: { Type: 'Task', Resource: fnArn('AnonFn'), TimeoutSeconds: 5, End: true } } },
          ],
          End: true,
        },
      },
    };
    const tt = tinyTemplate(d);
    expect(() => bindStateMachine(extractStateMachine(tt), tt, { handlers: { worker: () => 1, AnonFn: () => 2 } })).toThrow(/keyed by state name/);
  });
});

describe('LocalExecutions (StartExecution on a Standard workflow)', () => {
  const d = { StartAt: 'A', States: { A: { Type: 'Task', Resource: fnArn('worker'), TimeoutSeconds: 5, End: true } } };
  const t = tinyTemplate(d);
  const make = (gate: Promise<void>) =>
    new LocalExecutions(bindStateMachine(extractStateMachine(t), t, { handlers: { worker: async (e: unknown) => (await gate, e) } }));

  test('same name + same input while running → the same execution; different input → ExecutionAlreadyExists', async () => {
    let open!: () => void;
    const ex = make(new Promise<void>((r) => (open = r)));
    const a = ex.startExecution({ name: 'model-1', input: '{"x":1}' });
    expect(ex.startExecution({ name: 'model-1', input: '{"x":1}' }).executionArn).toBe(a.executionArn);
    expect(() => ex.startExecution({ name: 'model-1', input: '{"x":2}' })).toThrow(ExecutionAlreadyExists);
    open();
    const done = await ex.settled('model-1');
    expect(done.status).toBe('SUCCEEDED');
    expect(() => ex.startExecution({ name: 'model-1', input: '{"x":1}' })).toThrow(ExecutionAlreadyExists);
  });

  test('checks names as AWS does (1–80 characters, no whitespace, brackets, wildcards, specials, controls)', () => {
    const ex = make(Promise.resolve());
    for (const bad of ['', 'a'.repeat(81), 'a b', 'a:b', 'a/b', 'a{b', 'a*b', 'a#b', 'a\u0001b']) {
      expect(() => ex.startExecution({ name: bad, input: '{}' })).toThrow(InvalidName);
    }
    ex.startExecution({ name: `model-${'f'.repeat(16)}`, input: '{}' });
  });
});
