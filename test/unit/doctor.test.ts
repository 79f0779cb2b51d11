// `movierec doctor` against mocked AWS accounts (aws-sdk-client-mock): a default new account (concurrency 10,
// 3,008 MB), an account ready for prod, a missing or old bootstrap, a failed first create, leftovers, missing
// credentials, and a read it is not allowed to make. Each test checks the sentences an operator reads.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { GetAccountSettingsCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetServiceQuotaCommand, ListRequestedServiceQuotaChangeHistoryByQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { GetQueueUrlCommand, QueueDoesNotExist, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { doctorCommand } from '../../bin/cli/doctor';
import { InputError } from '../../functions/core/types';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

const sts = mockClient(STSClient);
const lambda = mockClient(LambdaClient);
const quotas = mockClient(ServiceQuotasClient);
const ssm = mockClient(SSMClient);
const cfn = mockClient(CloudFormationClient);
const dynamo = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
const logs = mockClient(CloudWatchLogsClient);
const sqs = mockClient(SQSClient);
const mocks = [sts, lambda, quotas, ssm, cfn, dynamo, s3, logs, sqs];

const awsError = (name: string, message: string, status: number) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
const stackMissing = (name: string) => awsError('ValidationError', `Stack with id ${name} does not exist`, 400);

interface Account {
  quota: number;
  unreserved?: number;
  /** Service Quotas' value (default: the quota) */
  recorded?: number;
  pendingRequest?: number;
  functionsMb?: number[];
  /** undefined = not bootstrapped */
  bootstrap?: string;
  stack?: string;
  tables?: string[];
  logGroups?: string[];
  queues?: string[];
}

/** One AWS account, as the doctor's reads see it. */
function account(a: Account) {
  for (const m of mocks) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/ops` });
  lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: a.quota, UnreservedConcurrentExecutions: a.unreserved ?? a.quota } });
  lambda.on(ListFunctionsCommand).resolves({ Functions: (a.functionsMb ?? []).map((mb, i) => ({ FunctionName: `fn-${i}`, MemorySize: mb })) });
  quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: a.recorded ?? a.quota } });
  quotas.on(ListRequestedServiceQuotaChangeHistoryByQuotaCommand).resolves({
    RequestedQuotas: a.pendingRequest ? [{ DesiredValue: a.pendingRequest, Status: 'PENDING', Created: new Date('2026-12-01T10:00:00Z') }] : [],
  });
  if (a.bootstrap === undefined) ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
  else ssm.on(GetParameterCommand, { Name: '/cdk-bootstrap/hnb659fds/version' }).resolves({ Parameter: { Value: a.bootstrap } });
  cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
    if (input.StackName === 'CDKToolkit' && a.bootstrap !== undefined) return { Stacks: [{ StackName: 'CDKToolkit', StackStatus: 'UPDATE_COMPLETE' }] };
    if (input.StackName !== 'CDKToolkit' && a.stack) return { Stacks: [{ StackName: input.StackName, StackStatus: a.stack }] };
    throw stackMissing(input.StackName);
  });
  dynamo.on(DescribeTableCommand).callsFake((input: { TableName: string }) => {
    if ((a.tables ?? []).includes(input.TableName)) return { Table: { TableName: input.TableName } };
    throw new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} });
  });
  s3.on(HeadBucketCommand).rejects(awsError('NotFound', 'NotFound', 404));
  logs.on(DescribeLogGroupsCommand).callsFake((input: { logGroupNamePrefix: string }) => ({
    logGroups: (a.logGroups ?? []).filter((g) => g.startsWith(input.logGroupNamePrefix)).map((logGroupName) => ({ logGroupName })),
  }));
  sqs.on(GetQueueUrlCommand).callsFake((input: { QueueName: string }) => {
    if ((a.queues ?? []).includes(input.QueueName)) return { QueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${input.QueueName}` };
    throw new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: {} });
  });
}

/** Runs the doctor; returns what it printed and the one-sentence error it ended with (if any). */
async function doctor(...args: string[]): Promise<{ out: string; error?: string }> {
  const lines: string[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    await doctorCommand([...args, '--region', REGION]);
    return { out: lines.join('\n') };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { out: lines.join('\n'), error: e.message };
  } finally {
    spy.mockRestore();
  }
}

describe('a default new account: concurrency 10, no function over 3,008 MB, bootstrapped', () => {
  const newAccount: Account = { quota: 10, bootstrap: '28', functionsMb: [128, 3008] };

  test.each(['dev', 'prod'])('stage %s with its defaults is ready, with a note on the small concurrency', async (stage) => {
    account(newAccount);
    const { out, error } = await doctor('--stage', stage);
    expect(error).toBeUndefined();
    expect(out).toContain(`movierec doctor: stage ${stage} (stack movierec-${stage}) in account ${ACCOUNT}, region ${REGION}`);
    expect(out).toContain('the stage asks for: training 3,008 MB');
    expect(out).toContain('✓ Lambda concurrency: quota 10, 10 unreserved; the stage reserves none and provisions none.');
    expect(out).toContain('! Lambda concurrency: a quota of 10 deploys, but the API and training share 10 concurrent executions');
    expect(out).toContain('✓ Lambda memory: the largest function asks for 3,008 MB, within the 3,008 MB every account allows.');
    expect(out).toContain('✓ CDK bootstrap: version 28 (/cdk-bootstrap/hnb659fds/version); the templates need 6 or later.');
    expect(out).toContain(`✓ stack movierec-${stage}: does not exist yet: this is a first deploy.`);
    expect(out).toContain('✓ left behind: no table, bucket, log group or queue of this stage exists without the stack.');
    expect(out).toContain(`Ready: nothing found that stops \`npx cdk deploy -c stage=${stage}\` in ${ACCOUNT}/${REGION}.`);
  });

  test('prod with -c apiProvisioned=2 -c trainingMemory=10240: provisioned concurrency must wait for a quota increase; memory cannot be told', async () => {
    account({ ...newAccount, pendingRequest: 1000 });
    const { out, error } = await doctor('--stage', 'prod', '-c', 'apiProvisioned=2', '-c', 'trainingMemory=10240');
    expect(out).toContain('the stage asks for: training 10,240 MB, API 1,024 MB, API provisioned concurrency 2, reserved concurrency none');
    expect(out).toContain(
      '✗ Lambda concurrency: API provisioned concurrency 2 needs 2 unreserved executions, but the account\'s quota is 10 with 10 unreserved, and Lambda keeps at least 10 of them unreserved. ' +
        `Ask for a quota of at least 102 (aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value 1000 --region ${REGION}) ` +
        'or deploy without -c apiProvisioned. An increase is already requested: 1,000 (PENDING, asked 2026-12-01).',
    );
    expect(out).toContain('? Lambda memory: training asks for 10,240 MB. New accounts are capped at 3,008 MB per function and no AWS API shows the cap (the largest function here uses 3,008 MB), so this cannot be checked.');
    expect(out).toContain('ask AWS Support to raise the memory limit (it is not in Service Quotas) or deploy without -c trainingMemory.');
    expect(error).toBe(
      `1 problem (✗ above) would stop \`npx cdk deploy -c stage=prod\` in ${ACCOUNT}/${REGION}; fix them and run movierec doctor again (1 check could not be made: see "?" above).`,
    );
  });
});

describe('an account ready for prod', () => {
  test('quota 1,000, a 10,240 MB function in the region, the stack deployed: every opt-in fits', async () => {
    account({ quota: 1000, unreserved: 950, bootstrap: '30', functionsMb: [512, 10240], stack: 'UPDATE_COMPLETE' });
    // the opt-ins committed in cdk.json's context for prod, as a team would keep them
    const dir = mkdtempSync(join(tmpdir(), 'movierec-doctor-'));
    try {
      const cdkJson = join(dir, 'cdk.json');
      writeFileSync(cdkJson, JSON.stringify({ app: 'x', context: { stage: 'dev', 'prod:trainingMemory': 10240, 'prod:apiProvisioned': 2 } }));
      const { out, error } = await doctor('--cdk-json', cdkJson, '-c', 'stage=prod');
      expect(error).toBeUndefined();
      expect(out).toContain('the stage asks for: training 10,240 MB, API 1,024 MB, API provisioned concurrency 2');
      expect(out).toContain('✓ Lambda concurrency: quota 1,000, 950 unreserved; the stage reserves none and provisions 2 of the 850 it may.');
      expect(out).not.toContain('a quota of 1,000 deploys'); // no small-quota note
      expect(out).toContain('✓ Lambda memory: training asks for 10,240 MB; fn-1 already runs with 10,240 MB in this region, so no memory cap below that applies.');
      expect(out).toContain('✓ stack movierec-prod: exists (UPDATE_COMPLETE): the deploy updates it.');
      expect(out).toContain('! stack movierec-prod: now that the stack exists, turn on the tables\' deletion protection: add "prod:tableDeletionProtection": true');
      expect(out).toContain(`Ready: nothing found that stops \`npx cdk deploy -c stage=prod\` in ${ACCOUNT}/${REGION}.`);
      // an existing stack is updated, so no leftover check is made
      expect(dynamo.commandCalls(DescribeTableCommand)).toHaveLength(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bootstrap', () => {
  test('a missing bootstrap: the exact cdk bootstrap command', async () => {
    account({ quota: 1000 });
    const { out, error } = await doctor('--stage', 'dev');
    expect(out).toContain(`✗ CDK bootstrap: this account and region are not bootstrapped for the CDK (no /cdk-bootstrap/hnb659fds/version): run npx cdk bootstrap aws://${ACCOUNT}/${REGION}.`);
    expect(error).toMatch(/^1 problem \(✗ above\) would stop `npx cdk deploy -c stage=dev`/);
  });

  test('an old bootstrap version', async () => {
    account({ quota: 1000, bootstrap: '5' });
    const { out, error } = await doctor('--stage', 'dev');
    expect(out).toContain(`✗ CDK bootstrap: version 5 is older than the 6 the templates need: run npx cdk bootstrap aws://${ACCOUNT}/${REGION}.`);
    expect(error).toBeDefined();
  });

  test('a custom qualifier from cdk.json context is the one read', async () => {
    account({ quota: 1000, bootstrap: '28' });
    ssm.on(GetParameterCommand, { Name: '/cdk-bootstrap/abc123xyz/version' }).resolves({ Parameter: { Value: '21' } });
    const { out } = await doctor('--stage', 'dev', '-c', '@aws-cdk/core:bootstrapQualifier=abc123xyz');
    expect(out).toContain('✓ CDK bootstrap: version 21 (/cdk-bootstrap/abc123xyz/version)');
  });
});

describe('what a failed or earlier deploy left', () => {
  test('a stack in ROLLBACK_COMPLETE must be deleted first', async () => {
    account({ quota: 1000, bootstrap: '28', stack: 'ROLLBACK_COMPLETE' });
    const { out, error } = await doctor('--stage', 'prod');
    expect(out).toContain(
      `✗ stack movierec-prod: is ROLLBACK_COMPLETE (a first create that failed): it cannot be updated; delete it (aws cloudformation delete-stack --stack-name movierec-prod --region ${REGION}) and deploy again.`,
    );
    expect(error).toBeDefined();
  });

  test('a table, a log group and the DLQ kept from an earlier prod would make the create fail with "already exists"', async () => {
    account({
      quota: 1000,
      bootstrap: '28',
      tables: ['movierec-prod-users'],
      logGroups: ['/aws/lambda/movierec-prod-train', '/aws/lambda/movierec-prod-train-old'],
      queues: ['movierec-prod-train-dlq'],
    });
    const { out, error } = await doctor('--stage', 'prod');
    expect(out).toContain(
      '✗ left behind: table movierec-prod-users, log group /aws/lambda/movierec-prod-train, queue movierec-prod-train-dlq exist without the stack (kept by an earlier deploy or a destroyed prod stack), so the create would fail with "already exists".',
    );
    expect(s3.commandCalls(HeadBucketCommand).map((c) => c.args[0].input.Bucket)).toEqual([
      `movierec-prod-${ACCOUNT}-${REGION}`,
      `movierec-prod-${ACCOUNT}-${REGION}-access-logs`,
    ]);
    expect(error).toBeDefined();
  });
});

describe('what the doctor cannot do is said, never passed', () => {
  test('a Service Quotas read that is refused is a "?" line and named in the verdict', async () => {
    account({ quota: 10, bootstrap: '28' });
    quotas.on(GetServiceQuotaCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform servicequotas:GetServiceQuota', 400));
    const { out, error } = await doctor('--stage', 'dev');
    expect(error).toBeUndefined();
    expect(out).toContain('? Service Quotas: could not read the concurrency quota record (AccessDeniedException: not authorized to perform servicequotas:GetServiceQuota)');
    expect(out).toContain(`Ready: nothing found that stops \`npx cdk deploy -c stage=dev\` in ${ACCOUNT}/${REGION} (1 check could not be made: see "?" above).`);
  });

  test('Service Quotas and Lambda disagreeing: Lambda’s figure applies and the record is shown', async () => {
    account({ quota: 10, recorded: 1000, bootstrap: '28' });
    const { out } = await doctor('--stage', 'dev');
    expect(out).toContain("✓ Lambda concurrency: quota 10 (Service Quotas records 1,000; Lambda's 10 is what applies), 10 unreserved;");
  });

  test('no credentials: one sentence, nothing else asked', async () => {
    account({ quota: 10, bootstrap: '28' });
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const { out, error } = await doctor('--stage', 'dev');
    expect(error).toBe('No AWS credentials found (CredentialsProviderError: Could not load credentials from any providers): sign in (aws sso login, or aws configure) and run movierec doctor again.');
    expect(out).toBe('');
    expect(lambda.calls()).toHaveLength(0);
  });

  test('a bad setting is refused before any AWS call', async () => {
    account({ quota: 10, bootstrap: '28' });
    const { error } = await doctor('--stage', 'prod', '-c', 'trainingMemory=99999');
    expect(error).toBe('trainingMemory must be an integer from 128 to 10240, got "99999".');
    expect(sts.calls()).toHaveLength(0);
  });
});
