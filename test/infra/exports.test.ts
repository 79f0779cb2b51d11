// The batch export is a stage setting (lib/config.ts `exports.topN`, `-c exportTopN=N`): off in dev, on in prod.
// Only a stage that exports lets the training role write under exports/ (PutObject, AbortMultipartUpload,
// DeleteObject; nothing else, nowhere else), tells the function its N, and alarms on failed exports.
import { Template } from 'aws-cdk-lib/assertions';
import { applyOverrides, ConfigError, STAGE_CONFIG, type Stage } from '../../lib/config';
import { EXPORT_S3_ACTIONS } from '../../lib/training';
import { HANDLER_METRICS, SERVICE, metricsNamespace } from '../../lib/metrics';
import { build, cleanup, resourcesOf, templateOf } from './helpers';

afterAll(cleanup);

type Json = Record<string, any>;

function synth(stage: Stage, context: Record<string, string> = {}) {
  const tpl = templateOf(build(stage, { nag: false, context }));
  const train = Object.values(resourcesOf(tpl, 'AWS::Lambda::Function')).find((r) => r.Properties.FunctionName === `movierec-${stage}-train`)!;
  const roleId = train.Properties.Role['Fn::GetAtt'][0];
  const statements: Json[] = Object.values(resourcesOf(tpl, 'AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
  const onExports = statements.filter((s) => JSON.stringify(s.Resource).includes('/exports/'));
  const alarms = Object.values(resourcesOf(tpl, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties).filter((a) => a.MetricName === HANDLER_METRICS.exportsFailed);
  return { tpl, env: train.Properties.Environment.Variables as Json, onExports, alarms };
}

const exportsArn = (tpl: Template) => {
  const bucket = Object.entries(resourcesOf(tpl, 'AWS::S3::Bucket')).find(([, r]) => r.Properties.VersioningConfiguration)![0];
  return { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/exports/*']] };
};

test('defaults: dev exports nothing, prod every user’s top 10', () => {
  expect(STAGE_CONFIG.dev.exports.topN).toBe(0);
  expect(STAGE_CONFIG.prod.exports.topN).toBe(10);
});

test.each([
  ['dev', {}, 0],
  ['prod', { exportTopN: '0' }, 0],
] as const)('%s %j: no exports/* permission, no alarm, EXPORT_TOP_N=0', (stage, context, n) => {
  const { env, onExports, alarms } = synth(stage, context);
  expect(env.EXPORT_TOP_N).toBe(String(n));
  expect(onExports).toEqual([]);
  expect(alarms).toEqual([]);
});

test.each([
  ['prod', {}, 10],
  ['dev', { 'dev:exportTopN': '25' }, 25],
] as const)('%s %j: exactly PutObject, AbortMultipartUpload, DeleteObject on exports/*, the N, and an alarm on failed exports', (stage, context, n) => {
  const { tpl, env, onExports, alarms } = synth(stage, context);
  expect(env.EXPORT_TOP_N).toBe(String(n));
  expect(onExports).toEqual([{ Sid: 'WriteExports', Effect: 'Allow', Action: [...EXPORT_S3_ACTIONS], Resource: exportsArn(tpl) }]);
  expect(EXPORT_S3_ACTIONS).toEqual(['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject']);
  expect(alarms).toEqual([
    expect.objectContaining({
      AlarmName: `movierec-${stage}-ExportsFailed`,
      Namespace: metricsNamespace(stage),
      Dimensions: [{ Name: 'service', Value: SERVICE.train }],
      Threshold: 1,
    }),
  ]);
});

test.each([
  [{ exportTopN: '-1' }, 'exportTopN must be an integer from 0 to 1000, got "-1".'],
  [{ exportTopN: '1001' }, 'exportTopN must be an integer from 0 to 1000, got "1001".'],
  [{ exportTopN: 'ten' }, 'exportTopN must be an integer from 0 to 1000, got "ten".'],
  [{ exportTopn: '5' }, /^Unknown setting "exportTopn"/],
])('a bad setting %j is one sentence', (context, message) => {
  expect(() => applyOverrides(STAGE_CONFIG.prod, context)).toThrow(ConfigError);
  expect(() => applyOverrides(STAGE_CONFIG.prod, context)).toThrow(message);
});
