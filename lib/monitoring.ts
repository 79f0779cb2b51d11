// Alarms, all publishing to one encrypted SNS topic per stage (optionally with an e-mail subscription).
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { type StageConfig, resourceName } from './config';
import type { Api } from './api';
import type { Training } from './training';

export interface MonitoringProps {
  config: StageConfig;
  training: Training;
  api: Api;
}

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly stage: StageConfig['stage'];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config, training, api } = props;
    const stage = config.stage;
    this.stage = stage;
    const period = Duration.minutes(5);

    // CloudWatch cannot publish to a topic encrypted with the AWS-managed aws/sns key, so the topic
    // gets its own rotating key whose policy lets CloudWatch use it.
    const key = new kms.Key(this, 'TopicKey', {
      alias: `alias/${resourceName(stage, 'alarms')}`,
      description: `movierec ${stage} alarm topic encryption`,
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy,
    });
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: resourceName(stage, 'alarms'),
      masterKey: key,
      enforceSSL: true,
    });
    if (config.alarms.email) this.topic.addSubscription(new subs.EmailSubscription(config.alarms.email));

    const train = training.function.fn;
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
    this.add('ApiThrottles', `${stage}: the API Lambda was throttled`, {
      metric: api.function.fn.metricThrottles({ period, statistic: 'Sum' }),
      threshold: config.alarms.apiThrottlesPer5Min,
    });
  }

  private add(
    id: string,
    description: string,
    opts: { metric: cloudwatch.IMetric; threshold: number; evaluationPeriods?: number; datapointsToAlarm?: number },
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: resourceName(this.stage, id),
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
