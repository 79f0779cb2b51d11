// cdk-nag AwsSolutions + Serverless: zero unacknowledged findings per stage, every acknowledgement specific
// and reasoned, and a new finding of either pack anywhere makes synthesis fail.
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { VARIANTS } from '../../tools/lint-variants';
import { build, cleanup, nagFindings } from './helpers';

afterAll(cleanup);

function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
  );
}

describe.each(['dev', 'prod'])('%s', (stage) => {
  test('AwsSolutions and Serverless report zero unacknowledged findings', () => {
    expect(nagFindings(build(stage))).toEqual([]);
  });

  test('every acknowledgement is scoped below the stack and carries a specific reason', () => {
    const { app } = build(stage);
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(5);
    for (const a of acks) {
      expect(a.path).toMatch(new RegExp(`^movierec-${stage}/.+`)); // never the whole app or stack
      expect(a.reason.length).toBeGreaterThanOrEqual(60);
    }
    // wildcard acknowledgements name the exact resource pattern, never the bare rule
    expect(acks.filter((a) => /IAM5$/.test(a.id))).toEqual([]);
    // a reason is written for its finding, not pasted across different rules
    const reasonsByRule = new Map<string, Set<string>>();
    for (const a of acks) {
      const rule = a.id.replace(/\[.*$/, '');
      for (const [other, reasons] of reasonsByRule) if (other !== rule) expect(reasons.has(a.reason)).toBe(false);
      reasonsByRule.set(rule, (reasonsByRule.get(rule) ?? new Set()).add(a.reason));
    }
  });
});

test('prod with every opt-in (memory, provisioned concurrency, e-mail, CORS, keys, quota, protection) has zero findings too', () => {
  const { stage: _stage, ...context } = VARIANTS['prod-opted-in']; // the variant CI lints with cfn-lint
  expect(nagFindings(build('prod', { context }))).toEqual([]);
});

test('PITR is only acknowledged where it is off (dev), never in prod', () => {
  const ids = (stage: string) => acknowledgements(build(stage).app).map((a) => a.id);
  expect(ids('dev').filter((id) => id.includes('DDB3'))).toHaveLength(3);
  expect(ids('prod').filter((id) => id.includes('DDB3'))).toEqual([]);
});

test('a new non-compliant resource makes synthesis fail with its findings', () => {
  const built = build('dev');
  new sqs.Queue(built.stack, 'Unacknowledged'); // no SSL enforcement, no DLQ
  const findings = nagFindings(built);
  expect(findings).toEqual(
    expect.arrayContaining([
      { rule: 'AwsSolutions-SQS3', path: 'movierec-dev/Unacknowledged/Resource' },
      { rule: 'AwsSolutions-SQS4', path: 'movierec-dev/Unacknowledged/Resource' },
    ]),
  );
  expect(findings.every((f) => f.path.startsWith('movierec-dev/Unacknowledged'))).toBe(true);
});

test('a new wildcard action on an already-acknowledged policy still fails (acknowledgements are granular)', () => {
  const built = build('prod');
  built.stack.api.function.role.addToPolicy(
    new iam.PolicyStatement({ actions: ['dynamodb:*'], resources: [built.stack.tables.users.tableArn] }),
  );
  expect(nagFindings(built)).toEqual([{ rule: 'AwsSolutions-IAM5[Action::dynamodb:*]', path: 'movierec-prod/Api/Handler/Role/DefaultPolicy/Resource' }]);
});

test('the Serverless pack runs too: a new function without tracing, DLQ or log retention fails synthesis', () => {
  const built = build('dev');
  new lambda.Function(built.stack, 'Unchecked', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => 1;'),
  });
  const rules = nagFindings(built).filter((f) => f.path.startsWith('movierec-dev/Unchecked/')).map((f) => f.rule);
  expect(rules).toEqual(expect.arrayContaining(['Serverless-LambdaTracing', 'Serverless-LambdaDLQ']));
});

test('the Serverless acknowledgements are the DLQ ones, each on its own construct', () => {
  const acks = acknowledgements(build('prod').app).filter((a) => a.id.includes('Serverless-'));
  expect(acks.map((a) => `${a.id.replace(/^Annotation::/, '')} ${a.path}`).sort()).toEqual([
    'Serverless-LambdaDLQ movierec-prod/Api/Handler/Fn',
    'Serverless-LambdaDLQ movierec-prod/DistributedTraining/Central/Fn',
    'Serverless-LambdaDLQ movierec-prod/DistributedTraining/Publish/Fn',
    'Serverless-LambdaDLQ movierec-prod/DistributedTraining/Worker/Fn',
    'Serverless-LambdaDLQ movierec-prod/Training/Train/Fn',
    'Serverless-SQSRedrivePolicy movierec-prod/Training/Dlq',
  ]);
});
