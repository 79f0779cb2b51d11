// cdk-nag (AwsSolutions) acknowledgements. Each one is scoped to the construct it concerns and, for
// wildcard findings, to the exact resource pattern, so a new finding anywhere still fails synthesis.
import { type CfnResource, Stack, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { S3_PREFIXES, S3_PREFIXES_DISTRIBUTED } from '../functions/shared/resources';
import type { StageConfig } from './config';
import type { MovierecFunction } from './function';
import type { MovierecStack } from './stack';

const ack = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });

/** `<LogicalId.Arn>` as cdk-nag prints it inside IAM5 finding ids. */
function arnRef(resource: IConstruct): string {
  const cfn = resource.node.defaultChild as CfnResource;
  return `<${Stack.of(resource).getLogicalId(cfn)}.Arn>`;
}

function acknowledgeFunctionRole(f: MovierecFunction): void {
  const policy = f.role.node.findChild('DefaultPolicy');
  ack(
    policy,
    `AwsSolutions-IAM5[Resource::${arnRef(f.logGroup)}:log-stream:*]`,
    'Lambda names its log streams at run time; the grant is limited to this function’s own log group.',
  );
  ack(
    policy,
    'AwsSolutions-IAM5[Resource::*]',
    'Only xray:PutTraceSegments/PutTelemetryRecords (added by tracing: ACTIVE) use "*": X-Ray has no resource-level permissions. The infra tests fail if any other action gets "*".',
  );
}

export function acknowledgeFindings(stack: MovierecStack, config: StageConfig): void {
  const { uploads, tables, training, api } = stack;

  // --- our own functions
  acknowledgeFunctionRole(training.function);
  acknowledgeFunctionRole(api.function);
  const trainPolicy = training.function.role.node.findChild('DefaultPolicy');
  const bucketArn = arnRef(uploads.bucket);
  const prefixReasons: Array<[string, string]> = [
    [S3_PREFIXES.uploads, 'Training reads whichever ratings file was uploaded; keys are chosen by the uploader, so the grant is the uploads/ prefix (GetObject, GetObjectVersion only).'],
    [S3_PREFIXES.reports, 'Training writes one report per upload/model version under reports/ (PutObject, AbortMultipartUpload only); report keys derive from the upload key.'],
    [S3_PREFIXES.models, 'Training may write model artefacts keyed by model version under models/ (PutObject, AbortMultipartUpload only).'],
  ];
  if (config.exports.topN > 0) {
    prefixReasons.push([
      S3_PREFIXES.exports,
      "Training writes each published version's batch export under exports/<version>/ and deletes those of versions it deleted (PutObject, AbortMultipartUpload, DeleteObject only); only when the stage exports.",
    ]);
  }
  for (const [prefix, reason] of prefixReasons) {
    ack(trainPolicy, `AwsSolutions-IAM5[Resource::${bucketArn}/${prefix}*]`, reason);
  }

  acknowledgeDistributed(stack);

  // --- the training dead-letter queue
  ack(
    training.deadLetterQueue,
    'AwsSolutions-SQS3',
    'This queue IS the on-failure destination (DLQ) of the training Lambda; a DLQ of a DLQ would only hide failed uploads further. Its depth raises an alarm.',
  );
  ack(
    training.deadLetterQueue,
    'Serverless-SQSRedrivePolicy',
    'Nothing consumes this queue: it holds failed upload events for an operator (alarm on depth, 14 days retention), so there is no consumer whose failures a redrive policy would catch.',
  );
  ack(
    training.function.fn,
    'Serverless-LambdaDLQ',
    'Failed asynchronous runs go to an SQS on-failure destination (EventInvokeConfig), which records the event with the error and retry count; a DeadLetterConfig as well would deliver each failure twice.',
  );
  ack(
    api.function.fn,
    'Serverless-LambdaDLQ',
    'Invoked synchronously by API Gateway only: Lambda never queues these events, so a dead-letter target could never receive one; the caller gets the error response.',
  );

  // --- the alarm topic's e-mail subscription (-c alarmEmail)
  if (stack.monitoring.emailSubscription) {
    ack(
      stack.monitoring.emailSubscription,
      'Serverless-SNSRedrivePolicy',
      'An alarm e-mail that SNS cannot deliver is not worth keeping in a queue nobody reads: the alarm state and its history stay in CloudWatch, and the dashboard shows them.',
    );
  }

  // --- CDK's own S3 notification custom resource (a singleton Lambda at stack level)
  const notifications = stack.node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
  if (notifications) {
    ack(
      notifications,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'CDK-provided custom resource that configures the bucket notification at deploy time; its role and managed logging policy are not configurable.',
    );
  }

  // --- API Gateway
  ack(
    api.restApi,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    'The account-level API Gateway logging role needs exactly this AWS-maintained policy to write execution and access logs.',
  );
  const apiAuthReason =
    'Machine-to-machine API with no end-user identity: every method requires an API key bound to a usage plan (rate, burst, daily quota), checked by API Gateway before the Lambda runs.';
  ack(api.restApi, 'AwsSolutions-APIG4', apiAuthReason);
  ack(api.restApi, 'AwsSolutions-COG4', `${apiAuthReason} There are no Cognito users to authorise.`);
  ack(
    api.restApi.deploymentStage,
    'AwsSolutions-APIG3',
    'No WAF web ACL by default (about $6/month per stage): the API is read-mostly, keyed and throttled per key and per stage; attach a web ACL to this stage if the key is ever shared publicly.',
  );

  // --- tables
  if (!config.pointInTimeRecovery) {
    for (const table of tables.all) {
      ack(
        table,
        'AwsSolutions-DDB3',
        `Stage ${config.stage} holds disposable data rebuilt by re-uploading a ratings file; point-in-time recovery is enabled in prod.`,
      );
    }
    ack(
      tables.idempotency,
      'AwsSolutions-DDB3',
      `Stage ${config.stage} keeps idempotency records for 24 hours only; restoring them from a backup would serve nothing; prod enables it anyway.`,
    );
  }
}

/** The training state machine, its three functions and CDK's Distributed Map policy. */
function acknowledgeDistributed(stack: MovierecStack): void {
  const { distributed, uploads } = stack;
  const bucketArn = arnRef(uploads.bucket);
  const prefixes: Record<string, string> = {
    [S3_PREFIXES_DISTRIBUTED.runs]: 'Intermediate objects of a training run are keyed per run (version, clustering, restart, iteration, partition); the grant is that prefix, GetObject/PutObject only, and a lifecycle rule expires it.',
    [S3_PREFIXES.uploads]: 'The upload being trained is read in byte ranges; its key is chosen by the uploader, so the grant is the uploads/ prefix (GetObject, GetObjectVersion only).',
    [S3_PREFIXES.reports]: 'A refused upload\'s report and the version\'s training report go under reports/, keys derived from the upload key and the version (PutObject, AbortMultipartUpload only).',
  };
  for (const f of Object.values(distributed.functions)) {
    acknowledgeFunctionRole(f);
    const policy = f.role.node.findChild('DefaultPolicy');
    const statements = JSON.stringify(Stack.of(f).resolve((policy.node.defaultChild as CfnResource & { policyDocument: unknown }).policyDocument));
    for (const [prefix, reason] of Object.entries(prefixes)) {
      if (statements.includes(`/${prefix}*`)) ack(policy, `AwsSolutions-IAM5[Resource::${bucketArn}/${prefix}*]`, reason);
    }
    ack(
      f.fn,
      'Serverless-LambdaDLQ',
      'Invoked synchronously by the training state machine only: Lambda never queues its events, so a dead-letter target could never receive one; failures are retried and caught by the workflow (MarkFailed), and failed executions raise an alarm.',
    );
  }
  const sm = distributed.stateMachine;
  const smPolicy = sm.role.node.findChild('DefaultPolicy');
  for (const f of Object.values(distributed.functions)) {
    ack(smPolicy, `AwsSolutions-IAM5[Resource::${arnRef(f.fn)}:*]`, 'CDK\'s LambdaInvoke grant covers the function and its versions and aliases (ARN:*), so a task may name a qualifier.');
  }
  ack(
    smPolicy,
    'AwsSolutions-IAM5[Resource::*]',
    'Log delivery (logs:CreateLogDelivery and the like) and X-Ray (xray:PutTraceSegments and the like) accept only "*" (Step Functions documentation, "IAM policies for logging" and "for X-Ray").',
  );
  // Distributed Map child executions and map runs are named by Step Functions at run time
  const s = Stack.of(sm);
  const region = Token.isUnresolved(s.region) ? '<AWS::Region>' : s.region;
  const account = Token.isUnresolved(s.account) ? '<AWS::AccountId>' : s.account;
  const name = `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${s.getLogicalId(sm.node.defaultChild as CfnResource)}"}]}]}`;
  const executions = `arn:<AWS::Partition>:states:${region}:${account}:execution:${name}`;
  const dmPolicy = sm.node.findChild('DistributedMapPolicy');
  const labels = ['ParseRanges', 'BuildShards', 'TrySeeds', 'Assign', 'UpdateCentres', 'CountClusters', 'PlaceUsers', 'PublishUsers'];
  for (const suffix of [':*', ...labels.map((l) => `/${l}:*`)]) {
    ack(
      dmPolicy,
      `AwsSolutions-IAM5[Resource::${executions}${suffix}]`,
      'Distributed Map child executions and map runs are named by Step Functions at run time; CDK\'s grant (DescribeExecution, StopExecution, RedriveExecution of the labelled map runs) is limited to this state machine\'s own executions.',
    );
  }
}
