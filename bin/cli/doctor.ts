// `movierec doctor`: run by the operator, with their AWS credentials, before `cdk deploy -c stage=<stage>`.
// It only reads. For the stage's effective settings (lib/config.ts, with cdk.json's context and -c overrides,
// exactly as the CDK app resolves them) it checks what a first deploy on a fresh account hits:
// - Lambda concurrency (GetAccountSettings, and the Service Quotas record with pending increase requests):
//   provisioned concurrency must leave min(100, quota) unreserved ("You can reserve up to the Unreserved account
//   concurrency value that is shown, minus 100 for functions that don't have reserved concurrency",
//   https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html; a quota-10 account refuses
//   "below its minimum value of [10]");
// - function memory over 3,008 MB: new accounts are capped there ("New AWS accounts have reduced concurrency
//   and memory quotas", https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html) and no API
//   reads the cap, so the doctor can only find evidence (a function already over 3,008 MB in the region) and
//   otherwise says it cannot tell;
// - the CDK bootstrap version the templates require (SSM /cdk-bootstrap/<qualifier>/version) and the
//   toolkit stack's state;
// - the stage's stack state (a ROLLBACK_COMPLETE stack must be deleted first) and, before a first create,
//   tables, buckets, log groups and the DLQ under the stage's names that an earlier deploy kept ("already exists").
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetAccountSettingsCommand, LambdaClient, paginateListFunctions } from '@aws-sdk/client-lambda';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetServiceQuotaCommand, ListRequestedServiceQuotaChangeHistoryByQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { InputError } from '../../functions/core/types';
import { ConfigError, QUOTA_SAFE_MEMORY_MB, type StageConfig, resolveStage, resourceName } from '../../lib/config';
import {
  DEFAULT_BOOTSTRAP_QUALIFIER,
  MIN_BOOTSTRAP_VERSION,
  bootstrapVersionParameter,
  bucketNames,
  stackName,
  tableNames,
} from '../../lib/names';

/** Service Quotas' code of Lambda's "Concurrent executions" quota. */
export const LAMBDA_CONCURRENCY_QUOTA = 'L-B99A9384';
/** Lambda keeps this many executions unreserved once the quota is at least this large (below, the whole quota). */
const MIN_UNRESERVED = 100;

export type Level = 'ok' | 'fix' | 'warn' | 'unknown';
export interface Finding {
  level: Level;
  check: string;
  text: string;
}

const MARK: Record<Level, string> = { ok: '✓', fix: '✗', warn: '!', unknown: '?' };
const fmt = (n: number) => n.toLocaleString('en-US');

interface Clients {
  sts: STSClient;
  lambda: LambdaClient;
  quotas: ServiceQuotasClient;
  ssm: SSMClient;
  cfn: CloudFormationClient;
  dynamo: DynamoDBClient;
  s3: S3Client;
  logs: CloudWatchLogsClient;
  sqs: SQSClient;
}

const errName = (e: unknown) => (e as { name?: string })?.name ?? 'Error';
const errStatus = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
const errText = (e: unknown) => `${errName(e)}: ${((e as Error)?.message ?? String(e)).split('\n')[0]}`;

export async function doctorCommand(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        stage: { type: 'string' },
        context: { type: 'string', short: 'c', multiple: true },
        region: { type: 'string' },
        profile: { type: 'string' },
        'cdk-json': { type: 'string' },
        qualifier: { type: 'string' },
      },
    }));
  } catch (e) {
    throw new InputError('bad_args', `${(e as Error).message.split('\n')[0]} (see: movierec doctor --help).`);
  }

  // the context the CDK app would see: cdk.json's, then -c (which wins), then --stage
  const cdkJson = values['cdk-json'] ?? 'cdk.json';
  const context: Record<string, unknown> = {};
  if (existsSync(cdkJson)) {
    try {
      Object.assign(context, (JSON.parse(readFileSync(cdkJson, 'utf8')) as { context?: object }).context ?? {});
    } catch (e) {
      throw new InputError('bad_json', `${cdkJson} is not valid JSON (${(e as Error).message}).`);
    }
  } else if (values['cdk-json']) {
    throw new InputError('no_such_file', `${cdkJson} does not exist; pass the project's cdk.json with --cdk-json.`);
  }
  for (const kv of values.context ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new InputError('bad_arg', `-c takes key=value, got "${kv}".`);
    context[kv.slice(0, i)] = kv.slice(i + 1);
  }
  if (values.stage) context.stage = values.stage;
  let config: StageConfig;
  try {
    config = resolveStage(context);
  } catch (e) {
    if (e instanceof ConfigError) throw new InputError('bad_config', e.message);
    throw e;
  }
  const qualifier = values.qualifier ?? (context['@aws-cdk/core:bootstrapQualifier'] as string | undefined) ?? DEFAULT_BOOTSTRAP_QUALIFIER;

  if (values.profile) process.env.AWS_PROFILE = values.profile;
  const opts = { region: values.region, maxAttempts: 2 };
  const clients: Clients = {
    sts: new STSClient(opts),
    lambda: new LambdaClient(opts),
    quotas: new ServiceQuotasClient(opts),
    ssm: new SSMClient(opts),
    cfn: new CloudFormationClient(opts),
    dynamo: new DynamoDBClient(opts),
    s3: new S3Client(opts),
    logs: new CloudWatchLogsClient(opts),
    sqs: new SQSClient(opts),
  };
  try {
    let region: string;
    try {
      region = await clients.sts.config.region();
    } catch {
      throw new InputError('no_region', 'No AWS region: pass --region, or set AWS_REGION or a region in your AWS profile.');
    }
    let account: string;
    let arn: string;
    try {
      const id = await clients.sts.send(new GetCallerIdentityCommand({}));
      account = id.Account!;
      arn = id.Arn ?? '?';
    } catch (e) {
      if (errName(e) === 'CredentialsProviderError') {
        throw new InputError('no_credentials', `No AWS credentials found (${errText(e)}): sign in (aws sso login, or aws configure) and run movierec doctor again.`);
      }
      if (errStatus(e) !== undefined) {
        throw new InputError('bad_credentials', `AWS refused the credentials (${errText(e)}): sign in again (aws sso login, or aws configure) and run movierec doctor again.`);
      }
      throw new InputError('no_network', `Could not reach AWS STS in ${region} (${errText(e)}): check the network and the region.`);
    }

    const deployCmd = `npx cdk deploy -c stage=${config.stage}`;
    console.log(`movierec doctor: stage ${config.stage} (stack ${stackName(config.stage)}) in account ${account}, region ${region}`);
    console.log(`  as ${arn}`);
    console.log(
      `  the stage asks for: training ${fmt(config.training.memorySize)} MB, API ${fmt(config.api.memorySize)} MB, ` +
        `API provisioned concurrency ${config.api.provisionedConcurrency}, reserved concurrency none`,
    );
    console.log('');

    const findings = [
      ...(await checkConcurrency(clients, config, region)),
      ...(await checkMemory(clients, config)),
      ...(await checkBootstrap(clients, account, region, qualifier)),
      ...(await checkStack(clients, config, account, region)),
    ];
    for (const f of findings) console.log(`${MARK[f.level]} ${f.check}: ${f.text}`);
    console.log('');
    const fixes = findings.filter((f) => f.level === 'fix').length;
    const unknown = findings.filter((f) => f.level === 'unknown').length;
    const caveat = unknown ? ` (${unknown} check${unknown > 1 ? 's' : ''} could not be made: see "?" above)` : '';
    if (fixes) {
      throw new InputError('not_ready', `${fixes} problem${fixes > 1 ? 's' : ''} (✗ above) would stop \`${deployCmd}\` in ${account}/${region}; fix them and run movierec doctor again${caveat}.`);
    }
    console.log(`Ready: nothing found that stops \`${deployCmd}\` in ${account}/${region}${caveat}.`);
  } finally {
    for (const c of Object.values(clients)) c.destroy();
  }
}

// ------------------------------------------------------------------------------------------------ checks

async function checkConcurrency(c: Clients, config: StageConfig, region: string): Promise<Finding[]> {
  const check = 'Lambda concurrency';
  const out: Finding[] = [];
  let quota: number;
  let unreserved: number;
  try {
    const s = await c.lambda.send(new GetAccountSettingsCommand({}));
    quota = s.AccountLimit?.ConcurrentExecutions ?? NaN;
    unreserved = s.AccountLimit?.UnreservedConcurrentExecutions ?? NaN;
  } catch (e) {
    return [{ level: 'unknown', check, text: `could not read Lambda's account settings (${errText(e)}), so provisioned concurrency is unchecked.` }];
  }
  const request = (value: number) =>
    `aws service-quotas request-service-quota-increase --service-code lambda --quota-code ${LAMBDA_CONCURRENCY_QUOTA} --desired-value ${value} --region ${region}`;

  // Service Quotas' record (and any increase already asked for)
  let recorded: number | undefined;
  let pending: string | undefined;
  try {
    recorded = (await c.quotas.send(new GetServiceQuotaCommand({ ServiceCode: 'lambda', QuotaCode: LAMBDA_CONCURRENCY_QUOTA }))).Quota?.Value;
    const history = await c.quotas.send(new ListRequestedServiceQuotaChangeHistoryByQuotaCommand({ ServiceCode: 'lambda', QuotaCode: LAMBDA_CONCURRENCY_QUOTA }));
    const open = (history.RequestedQuotas ?? []).filter((r) => r.Status === 'PENDING' || r.Status === 'CASE_OPENED');
    if (open.length) pending = open.map((r) => `${fmt(r.DesiredValue ?? 0)} (${r.Status}${r.Created ? `, asked ${r.Created.toISOString().slice(0, 10)}` : ''})`).join(', ');
  } catch (e) {
    out.push({ level: 'unknown', check: 'Service Quotas', text: `could not read the concurrency quota record (${errText(e)}); Lambda's own figure below is what deploys are checked against.` });
  }

  const keep = Math.min(MIN_UNRESERVED, quota);
  const available = Math.max(0, unreserved - keep);
  const want = config.api.provisionedConcurrency;
  const record = recorded !== undefined && recorded !== quota ? ` (Service Quotas records ${fmt(recorded)}; Lambda's ${fmt(quota)} is what applies)` : '';
  const asked = pending ? ` An increase is already requested: ${pending}.` : '';
  if (want > available) {
    const needed = want + MIN_UNRESERVED + (quota - unreserved);
    out.push({
      level: 'fix',
      check,
      text:
        `API provisioned concurrency ${want} needs ${want} unreserved executions, but the account's quota is ${fmt(quota)}${record} with ${fmt(unreserved)} unreserved, ` +
        `and Lambda keeps at least ${fmt(keep)} of them unreserved. Ask for a quota of at least ${fmt(needed)} (${request(Math.max(1000, needed))}) ` +
        `or deploy without -c apiProvisioned.${asked}`,
    });
  } else {
    out.push({
      level: 'ok',
      check,
      text:
        `quota ${fmt(quota)}${record}, ${fmt(unreserved)} unreserved; the stage reserves none` +
        (want ? ` and provisions ${want} of the ${fmt(available)} it may.` : ' and provisions none.') +
        asked,
    });
  }
  if (quota < MIN_UNRESERVED) {
    out.push({
      level: 'warn',
      check,
      text:
        `a quota of ${fmt(quota)} deploys, but the API and training share ${fmt(quota)} concurrent executions: at the stage's ${fmt(config.api.throttle.rateLimit)} requests/s ` +
        `a burst can be throttled (the ApiThrottles alarm says so). AWS raises new accounts' quotas with use; to ask now: ${request(1000)}.`,
    });
  }
  return out;
}

async function checkMemory(c: Clients, config: StageConfig): Promise<Finding[]> {
  const check = 'Lambda memory';
  const want = Math.max(config.training.memorySize, config.api.memorySize);
  if (want <= QUOTA_SAFE_MEMORY_MB) {
    return [{ level: 'ok', check, text: `the largest function asks for ${fmt(want)} MB, within the ${fmt(QUOTA_SAFE_MEMORY_MB)} MB every account allows.` }];
  }
  // No API reads the cap; a function already above it in this region is proof that it does not apply.
  let largest: { name: string; mb: number } | undefined;
  try {
    for await (const page of paginateListFunctions({ client: c.lambda, pageSize: 50 }, {})) {
      for (const f of page.Functions ?? []) {
        if ((f.MemorySize ?? 0) > (largest?.mb ?? 0)) largest = { name: f.FunctionName ?? '?', mb: f.MemorySize ?? 0 };
      }
    }
  } catch (e) {
    return [{ level: 'unknown', check, text: `training asks for ${fmt(want)} MB and the functions of this region could not be listed (${errText(e)}); see below for what that means.` }];
  }
  if (largest && largest.mb >= want) {
    return [{ level: 'ok', check, text: `training asks for ${fmt(want)} MB; ${largest.name} already runs with ${fmt(largest.mb)} MB in this region, so no memory cap below that applies.` }];
  }
  return [
    {
      level: 'unknown',
      check,
      text:
        `training asks for ${fmt(want)} MB. New accounts are capped at ${fmt(QUOTA_SAFE_MEMORY_MB)} MB per function and no AWS API shows the cap ` +
        `(the largest function here uses ${largest ? `${fmt(largest.mb)} MB` : 'none: there are no functions'}), so this cannot be checked. If the deploy fails with ` +
        `"'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 3008", ask AWS Support to raise the memory limit ` +
        `(it is not in Service Quotas) or deploy without -c trainingMemory.`,
    },
  ];
}

async function checkBootstrap(c: Clients, account: string, region: string, qualifier: string): Promise<Finding[]> {
  const check = 'CDK bootstrap';
  const bootstrap = `npx cdk bootstrap aws://${account}/${region}`;
  const out: Finding[] = [];
  try {
    const p = await c.ssm.send(new GetParameterCommand({ Name: bootstrapVersionParameter(qualifier) }));
    const version = Number(p.Parameter?.Value);
    out.push(
      version >= MIN_BOOTSTRAP_VERSION
        ? { level: 'ok', check, text: `version ${version} (${bootstrapVersionParameter(qualifier)}); the templates need ${MIN_BOOTSTRAP_VERSION} or later.` }
        : { level: 'fix', check, text: `version ${p.Parameter?.Value} is older than the ${MIN_BOOTSTRAP_VERSION} the templates need: run ${bootstrap}.` },
    );
  } catch (e) {
    if (errName(e) === 'ParameterNotFound') {
      return [{ level: 'fix', check, text: `this account and region are not bootstrapped for the CDK (no ${bootstrapVersionParameter(qualifier)}): run ${bootstrap}.` }];
    }
    return [{ level: 'unknown', check, text: `could not read ${bootstrapVersionParameter(qualifier)} (${errText(e)}).` }];
  }
  try {
    const st = (await c.cfn.send(new DescribeStacksCommand({ StackName: 'CDKToolkit' }))).Stacks?.[0]?.StackStatus;
    if (st && (!/_COMPLETE$/.test(st) || st === 'ROLLBACK_COMPLETE')) {
      out.push({ level: 'fix', check, text: `the CDKToolkit stack is ${st}: fix it (see its events in the CloudFormation console), then run ${bootstrap}.` });
    }
  } catch (e) {
    if (!isStackMissing(e)) out.push({ level: 'unknown', check, text: `could not read the CDKToolkit stack (${errText(e)}).` });
    // missing: bootstrapped under another toolkit stack name, which the version parameter already vouches for
  }
  return out;
}

const isStackMissing = (e: unknown) => errName(e) === 'ValidationError' && /does not exist/.test((e as Error).message ?? '');

async function checkStack(c: Clients, config: StageConfig, account: string, region: string): Promise<Finding[]> {
  const check = `stack ${stackName(config.stage)}`;
  let status: string | undefined;
  try {
    status = (await c.cfn.send(new DescribeStacksCommand({ StackName: stackName(config.stage) }))).Stacks?.[0]?.StackStatus;
  } catch (e) {
    if (!isStackMissing(e)) return [{ level: 'unknown', check, text: `could not read it (${errText(e)}).` }];
  }
  const del = `aws cloudformation delete-stack --stack-name ${stackName(config.stage)} --region ${region}`;
  if (status === 'ROLLBACK_COMPLETE' || status === 'ROLLBACK_FAILED') {
    return [{ level: 'fix', check, text: `is ${status} (a first create that failed): it cannot be updated; delete it (${del}) and deploy again.` }];
  }
  if (status && /_IN_PROGRESS$/.test(status)) {
    return [{ level: 'fix', check, text: `is ${status}: wait until the operation in progress ends.` }];
  }
  if (status === 'UPDATE_ROLLBACK_FAILED') {
    return [{ level: 'fix', check, text: `is UPDATE_ROLLBACK_FAILED: finish the rollback first (aws cloudformation continue-update-rollback --stack-name ${stackName(config.stage)} --region ${region}).` }];
  }
  if (status === 'DELETE_FAILED') {
    return [{ level: 'fix', check, text: `is DELETE_FAILED: see its events for the resource that could not be deleted, then ${del}.` }];
  }
  if (status) {
    const out: Finding[] = [{ level: 'ok', check, text: `exists (${status}): the deploy updates it.` }];
    if (config.removal === 'retain' && !config.tableDeletionProtection) {
      out.push({
        level: 'warn',
        check,
        text: `now that the stack exists, turn on the tables' deletion protection: add "${config.stage}:tableDeletionProtection": true to cdk.json's context (or -c ${config.stage}:tableDeletionProtection=true).`,
      });
    }
    return out;
  }
  return [{ level: 'ok', check, text: 'does not exist yet: this is a first deploy.' }, ...(await leftovers(c, config, account, region))];
}

/** Resources under the stage's names without a stack: CloudFormation would stop with "already exists". */
async function leftovers(c: Clients, config: StageConfig, account: string, region: string): Promise<Finding[]> {
  const check = 'left behind';
  const found: string[] = [];
  const unknown: string[] = [];
  const tables = tableNames(config.stage);
  for (const name of [tables.users, tables.clusters]) {
    try {
      await c.dynamo.send(new DescribeTableCommand({ TableName: name }));
      found.push(`table ${name}`);
    } catch (e) {
      if (errName(e) !== 'ResourceNotFoundException') unknown.push(`table ${name} (${errName(e)})`);
    }
  }
  const buckets = bucketNames(config.stage, account, region);
  for (const name of [buckets.uploads, buckets.accessLogs]) {
    try {
      await c.s3.send(new HeadBucketCommand({ Bucket: name }));
      found.push(`bucket ${name}`);
    } catch (e) {
      const status = errStatus(e);
      if (status === 404) continue;
      if (status === 301 || status === 403) found.push(`bucket ${name} (${status === 403 ? 'owned by another account' : 'in another region'})`);
      else unknown.push(`bucket ${name} (${errName(e)})`);
    }
  }
  const groups = [`/aws/lambda/${resourceName(config.stage, 'train')}`, `/aws/lambda/${resourceName(config.stage, 'api')}`, `/aws/apigateway/${resourceName(config.stage, 'api')}`];
  for (const name of groups) {
    try {
      const res = await c.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
      if ((res.logGroups ?? []).some((g) => g.logGroupName === name)) found.push(`log group ${name}`);
    } catch (e) {
      unknown.push(`log group ${name} (${errName(e)})`);
    }
  }
  const dlq = resourceName(config.stage, 'train-dlq');
  try {
    await c.sqs.send(new GetQueueUrlCommand({ QueueName: dlq }));
    found.push(`queue ${dlq}`);
  } catch (e) {
    if (!/NonExistentQueue|QueueDoesNotExist/.test(errName(e))) unknown.push(`queue ${dlq} (${errName(e)})`);
  }
  const out: Finding[] = [];
  if (found.length) {
    out.push({
      level: 'fix',
      check,
      text:
        `${found.join(', ')} exist${found.length === 1 ? 's' : ''} without the stack (kept by an earlier deploy or a destroyed prod stack), so the create would fail with ` +
        `"already exists". Back up what you need, then delete ${found.length === 1 ? 'it' : 'them'} (tables: turn off deletion protection first), or adopt ${found.length === 1 ? 'it' : 'them'} with npx cdk import.`,
    });
  } else if (!unknown.length) {
    out.push({ level: 'ok', check, text: 'no table, bucket, log group or queue of this stage exists without the stack.' });
  }
  if (unknown.length) out.push({ level: 'unknown', check, text: `could not check ${unknown.join(', ')}.` });
  return out;
}
