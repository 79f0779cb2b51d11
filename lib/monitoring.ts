// Alarms, all publishing to one encrypted SNS topic per stage (optionally with an e-mail subscription), and
// the operator's dashboard.
import { Duration, Stack, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { type StageConfig, resourceName } from './config';
import { HANDLER_METRICS, SERVICE, metricsNamespace } from './metrics';
import { alarmNamePrefix, dashboardName } from './names';
import { removalPolicy } from './removal';
import type { Api } from './api';
import type { DistributedTraining } from './distributed-training';
import type { Training } from './training';

export interface MonitoringProps {
  config: StageConfig;
  training: Training;
  api: Api;
  distributed?: DistributedTraining;
}

/** A custom metric the handlers emit (lib/metrics.ts), with the exact dimension set Powertools gives it. */
export function handlerMetric(
  stage: StageConfig['stage'],
  service: keyof typeof SERVICE,
  metricName: string,
  opts: { statistic: string; period: Duration; label?: string },
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: metricsNamespace(stage),
    metricName,
    dimensionsMap: { service: SERVICE[service] },
    statistic: opts.statistic,
    period: opts.period,
    label: opts.label,
  });
}

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  readonly emailSubscription?: sns.Subscription;
  private readonly stage: StageConfig['stage'];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config, training, api } = props;
    const stage = config.stage;
    this.stage = stage;
    const period = Duration.minutes(5);
    const { account, region, partition } = Stack.of(this);

    // CloudWatch may act for alarms of this stage, in this account and region, and nothing else (the
    // confused-deputy conditions of "Amazon SNS access control: aws:SourceAccount and aws:SourceArn",
    // https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html).
    const cloudwatchPrincipal = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': account },
      ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:${alarmNamePrefix(stage)}*` },
    };

    // CloudWatch cannot publish to a topic encrypted with the AWS-managed aws/sns key, so the topic gets its
    // own rotating key whose policy lets CloudWatch use it ("Enable compatibility between event sources from
    // AWS services and encrypted topics", https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
    this.key = new kms.Key(this, 'TopicKey', {
      alias: `alias/${resourceName(stage, 'alarms')}`,
      description: `movierec ${stage} alarm topic encryption`,
      enableKeyRotation: true,
      removalPolicy: removalPolicy(config),
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisStage',
        principals: [cloudwatchPrincipal],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'], // in a key policy, "*" is this key
        conditions: fromOurAlarms,
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: resourceName(stage, 'alarms'),
      masterKey: this.key,
      enforceSSL: true,
    });
    // `enforceSSL` makes CDK write a topic policy holding only its Deny, and a topic policy replaces SNS's
    // default one: without this Allow, CloudWatch's publish would be refused and alarms would reach nobody.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisStagePublish',
        principals: [cloudwatchPrincipal],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOurAlarms,
      }),
    );
    if (config.alarms.email) this.emailSubscription = this.topic.addSubscription(new subs.EmailSubscription(config.alarms.email));

    const train = training.function.fn;
    const uploadsRejected = handlerMetric(stage, 'train', HANDLER_METRICS.uploadsRejected, { statistic: 'Sum', period });
    this.add('TrainingErrors', `${stage}: a training run failed (see the train log group and reports/)`, {
      metric: train.metricErrors({ period, statistic: 'Sum' }),
      threshold: 1,
    });
    this.add('TrainingDlq', `${stage}: an upload exhausted its retries and is in the training DLQ`, {
      metric: training.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      threshold: 1,
    });
    // 90% of the timeout: the next larger upload will time out; raise memory or the timeout first
    this.add('TrainingNearTimeout', `${stage}: a training run used over 90% of its timeout`, {
      metric: train.metricDuration({ period, statistic: 'Maximum' }),
      threshold: config.training.timeoutSeconds * 1000 * 0.9,
    });
    // A refused upload ends the invocation normally (a report under reports/, no retry), so no Lambda error
    // alarm sees it: the handler's own metric does (malformed, too large for the function's memory, …).
    this.add('UploadsRejected', `${stage}: an upload was refused (malformed or too large); the reason is in reports/uploads/<key>.json`, {
      metric: uploadsRejected,
      threshold: config.alarms.uploadsRejectedPer5Min,
    });
    if (props.distributed) {
      // a distributed training that did not end well (a refused upload ends the workflow in success)
      const sm = props.distributed.stateMachine;
      this.add('DistributedTrainingFailed', `${stage}: a distributed training failed; its cause is in the status item and the state machine's log group`, {
        metric: sm.metricFailed({ period, statistic: 'Sum' }),
        threshold: 1,
      });
      this.add('DistributedTrainingTimedOut', `${stage}: a distributed training ran past its timeout`, { metric: sm.metricTimedOut({ period, statistic: 'Sum' }), threshold: 1 });
      this.add('DistributedTrainingAborted', `${stage}: a distributed training was stopped`, { metric: sm.metricAborted({ period, statistic: 'Sum' }), threshold: 1 });
      this.add('DistributedTrainingThrottled', `${stage}: Step Functions throttled the training state machine`, { metric: sm.metricThrottled({ period, statistic: 'Sum' }), threshold: 1 });
    }
    // like a refusal, a failed export ends the invocation normally (the model is live; no retry would redo it)
    if (config.exports.topN > 0) {
      this.add('ExportsFailed', `${stage}: a batch export under exports/ failed; the model stays live (reason in GET /models/active, export.message)`, {
        metric: handlerMetric(stage, 'train', HANDLER_METRICS.exportsFailed, { statistic: 'Sum', period }),
        threshold: 1,
      });
    }
    this.add('Api5xx', `${stage}: the API returned 5xx responses`, {
      metric: api.restApi.metricServerError({ period, statistic: 'Sum' }),
      threshold: config.alarms.api5xxPer5Min,
    });
    this.add('ApiLatencyP99', `${stage}: API p99 latency above ${config.alarms.apiP99LatencyMs} ms`, {
      metric: api.restApi.metricLatency({ period, statistic: 'p99' }),
      threshold: config.alarms.apiP99LatencyMs,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
    this.add('ApiThrottles', `${stage}: the API Lambda was throttled (account concurrency exhausted?)`, {
      metric: api.function.fn.metricThrottles({ period, statistic: 'Sum' }),
      threshold: config.alarms.apiThrottlesPer5Min,
    });

    this.dashboard = this.buildDashboard(config, training, api, uploadsRejected);
    // CloudFormation accepts Tags on a dashboard since 2025, but cfn-lint 1.51's schema does not (E3002), and a
    // dashboard costs nothing to find by name: untagged rather than a lint exception.
    for (const key of ['Project', 'Stage']) Tags.of(this.dashboard).remove(key);
  }

  /** The few figures an operator watches: traffic, latency, errors, training runs and their outcome, model age. */
  private buildDashboard(config: StageConfig, training: Training, api: Api, uploadsRejected: cloudwatch.Metric): cloudwatch.Dashboard {
    const stage = config.stage;
    const period = Duration.minutes(5);
    const rest = api.restApi;
    const train = training.function.fn;
    const publishes = handlerMetric(stage, 'train', HANDLER_METRICS.publishSeconds, { statistic: 'SampleCount', period, label: 'models published' });
    const modelAge = handlerMetric(stage, 'api', HANDLER_METRICS.modelAgeSeconds, { statistic: 'Maximum', period, label: 'model age (s)' });
    const width = 8;
    return new cloudwatch.Dashboard(this, 'Dashboard', {
      // dashboards are global in an account: the region keeps one stage in two regions apart
      dashboardName: dashboardName(stage, Stack.of(this).region),
      defaultInterval: Duration.days(1),
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'API requests', width, left: [rest.metricCount({ period, statistic: 'Sum', label: 'requests' })] }),
          new cloudwatch.GraphWidget({
            title: 'API latency p99 (ms)',
            width,
            left: [rest.metricLatency({ period, statistic: 'p99', label: 'p99 API Gateway' }), rest.metricIntegrationLatency({ period, statistic: 'p99', label: 'p99 Lambda' })],
            leftAnnotations: [{ value: config.alarms.apiP99LatencyMs, label: 'alarm' }],
          }),
          new cloudwatch.GraphWidget({
            title: 'API errors',
            width,
            left: [rest.metricServerError({ period, statistic: 'Sum', label: '5xx' }), rest.metricClientError({ period, statistic: 'Sum', label: '4xx (incl. 403 key, 429 throttled)' })],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Training duration (s)',
            width,
            left: [new cloudwatch.MathExpression({ expression: 'd / 1000', usingMetrics: { d: train.metricDuration({ period, statistic: 'Maximum' }) }, label: 'longest run', period })],
            leftAnnotations: [{ value: config.training.timeoutSeconds, label: 'timeout' }],
          }),
          new cloudwatch.GraphWidget({
            title: 'Training outcome',
            width,
            left: [
              train.metricInvocations({ period, statistic: 'Sum', label: 'runs' }),
              publishes,
              uploadsRejected.with({ label: 'uploads refused' }),
              train.metricErrors({ period, statistic: 'Sum', label: 'failed (retried, then DLQ)' }),
            ],
          }),
          new cloudwatch.SingleValueWidget({ title: 'Active model age (s)', width, metrics: [modelAge] }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, alarms: this.alarms })],
      ],
    });
  }

  private add(
    id: string,
    description: string,
    opts: { metric: cloudwatch.IMetric; threshold: number; evaluationPeriods?: number; datapointsToAlarm?: number },
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `${alarmNamePrefix(this.stage)}${id}`,
      alarmDescription: description,
      metric: opts.metric,
      threshold: opts.threshold,
      evaluationPeriods: opts.evaluationPeriods ?? 1,
      datapointsToAlarm: opts.datapointsToAlarm,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
