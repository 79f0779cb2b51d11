// Drift guards: a regression made through CDK escape hatches (the way drift usually sneaks in) must
// make a guard report it. Each test first checks the guard is clean on the unmodified stack of the
// same app, so a failing assertion can only come from the injected change.
import type { CfnResource } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { MovierecStack } from '../../lib/stack';
import { publicBuckets, tablesWithoutPitr, unauthenticatedMethods, wildcardStatements } from './guards';
import { build, cleanup, templateOf } from './helpers';
import type { Template } from 'aws-cdk-lib/assertions';

afterAll(cleanup);

const cfn = (c: { node: { defaultChild?: unknown } }) => c.node.defaultChild as CfnResource;
const ourRoles = (stack: MovierecStack) => [stack.training.function.role, stack.api.function.role].map((r) => stack.getLogicalId(cfn(r)));

/** The stage's template before and after `mutate`. */
function drift(stage: string, mutate: (stack: MovierecStack) => void): { stack: MovierecStack; before: Template; after: Template } {
  const before = templateOf(build(stage, { nag: false }));
  const built = build(stage, { nag: false });
  mutate(built.stack);
  return { stack: built.stack, before, after: templateOf(built) };
}

test('a bucket opened to the public is caught', () => {
  const { before, after } = drift('prod', (s) => {
    cfn(s.uploads.bucket).addPropertyOverride('PublicAccessBlockConfiguration.BlockPublicPolicy', false);
    s.uploads.bucket.addToResourcePolicy(
      new iam.PolicyStatement({ principals: [new iam.AnyPrincipal()], actions: ['s3:GetObject'], resources: [s.uploads.bucket.arnForObjects('reports/*')] }),
    );
  });
  expect(publicBuckets(before)).toEqual([]);
  const found = publicBuckets(after);
  expect(found).toEqual(expect.arrayContaining([expect.stringMatching(/BlockPublicPolicy is not true/), expect.stringMatching(/allows Principal "\*"/)]));
});

test('a wildcard action on a function role is caught', () => {
  const { stack, before, after } = drift('dev', (s) =>
    s.api.function.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:Get*'], resources: [s.uploads.bucket.arnForObjects('uploads/*')] })),
  );
  expect(wildcardStatements(before, ourRoles(stack))).toEqual([]);
  expect(wildcardStatements(after, ourRoles(stack))).toEqual([expect.stringMatching(/wildcard action s3:Get\*/)]);
});

test('Resource "*" for anything but X-Ray on a function role is caught', () => {
  const { stack, after } = drift('prod', (s) =>
    s.training.function.role.addToPolicy(new iam.PolicyStatement({ actions: ['dynamodb:Scan'], resources: ['*'] })),
  );
  expect(wildcardStatements(after, ourRoles(stack))).toEqual([expect.stringMatching(/dynamodb:Scan on Resource "\*"/)]);
});

test('a managed policy attached to a function role is caught', () => {
  const { stack, after } = drift('prod', (s) =>
    s.api.function.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonDynamoDBFullAccess')),
  );
  expect(wildcardStatements(after, ourRoles(stack))).toEqual([expect.stringMatching(/managed policy/)]);
});

test('a method without an API key is caught', () => {
  const { before, after } = drift('prod', (s) =>
    s.api.restApi.root.addResource('debug').addMethod('GET', new apigw.MockIntegration(), { apiKeyRequired: false }),
  );
  expect(unauthenticatedMethods(before)).toEqual([]);
  expect(unauthenticatedMethods(after)).toEqual([expect.stringMatching(/GET needs no API key/)]);
});

test('an existing method losing its API key requirement is caught', () => {
  const { after } = drift('dev', (s) => {
    const method = s.api.restApi.root.resourceForPath('/users/{userId}/movies').node.findChild('POST');
    cfn(method).addPropertyOverride('ApiKeyRequired', false);
  });
  expect(unauthenticatedMethods(after)).toEqual([expect.stringMatching(/POST needs no API key/)]);
});

test('a prod table without point-in-time recovery is caught', () => {
  const { before, after } = drift('prod', (s) =>
    cfn(s.tables.clusters).addPropertyOverride('PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled', false),
  );
  expect(tablesWithoutPitr(before)).toEqual([]);
  expect(tablesWithoutPitr(after)).toEqual([expect.stringMatching(/^TablesClusters.*no point-in-time recovery$/)]);
});
