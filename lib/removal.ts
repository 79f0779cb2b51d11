// The stage's `removal` and log retention as CDK values.
import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { StageConfig } from './config';

/** `destroy` → DeletionPolicy/UpdateReplacePolicy Delete. `retain` → DeletionPolicy RetainExceptOnCreate and
 * UpdateReplacePolicy Retain: kept when the stack is deleted or the resource replaced, but deleted by the
 * rollback of the create that made it, so a failed first deploy leaves no named resource behind
 * (CloudFormation DeletionPolicy attribute, "RetainExceptOnCreate";
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html). */
export function removalPolicy(config: StageConfig): RemovalPolicy {
  return config.removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
}

export function logRetention(config: StageConfig): RetentionDays {
  const valid = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!valid.includes(config.logRetentionDays)) {
    throw new Error(`logRetentionDays ${config.logRetentionDays} is not a CloudWatch Logs retention (${valid.join(', ')}).`);
  }
  return config.logRetentionDays as RetentionDays;
}
