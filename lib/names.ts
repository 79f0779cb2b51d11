// Physical names of a stage's resources, in one place, for the stack (lib/) and `movierec doctor`, which
// looks for leftovers of an earlier deploy under exactly these names. Plain functions, no aws-cdk-lib.
//
// Where a name must be unique:
// - S3 bucket names are global across all accounts and regions → stage, account AND region;
// - IAM role names and CloudWatch dashboard names are global within an account ("All dashboards in your
//   account are global, not region-specific", AWS::CloudWatch::Dashboard) → stage and region;
// - everything else (tables, functions, queues, topics, log groups, alarms, KMS aliases) is regional →
//   stage only, so the same stage in two regions, or dev and prod side by side, never share a name.
import { bucketName, tableNames } from '../functions/shared/resources';
import type { Stage } from './config';

export const PROJECT = 'movierec';

/** The stage's stack, e.g. `movierec-prod`. */
export const stackName = (stage: Stage): string => `${PROJECT}-${stage}`;

/** The uploads bucket `movierec-<stage>-<account>-<region>` and its access-log bucket. At most
 * 8+1+4+1+12+1+14+12 = 53 characters for the longest region names (S3 allows 63). */
export function bucketNames(stage: Stage, account: string, region: string): { uploads: string; accessLogs: string } {
  const uploads = bucketName(stage, `${account}-${region}`);
  return { uploads, accessLogs: `${uploads}-access-logs` };
}

/** IAM role of one of our functions, e.g. `movierec-prod-train-eu-west-1` (≤ 64 characters). */
export const functionRoleName = (stage: Stage, fn: string, region: string): string => `${PROJECT}-${stage}-${fn}-${region}`;

/** The operator's dashboard, e.g. `movierec-prod-eu-west-1`. */
export const dashboardName = (stage: Stage, region: string): string => `${PROJECT}-${stage}-${region}`;

/** Every alarm of a stage is named `movierec-<stage>-<Id>`: the SNS topic policy and the KMS key policy let
 * CloudWatch publish on behalf of alarms matching this prefix only. */
export const alarmNamePrefix = (stage: Stage): string => `${PROJECT}-${stage}-`;

export { tableNames };

/** The CDK bootstrap version this app's templates require: the `CheckBootstrapVersion` rule that the default
 * stack synthesizer adds refuses older ones (test/infra/first-deploy.test.ts checks this against a synthesized
 * template). `movierec doctor` compares it with the account's `/cdk-bootstrap/<qualifier>/version`. */
export const MIN_BOOTSTRAP_VERSION = 6;
/** The default bootstrap qualifier (context `@aws-cdk/core:bootstrapQualifier` overrides it). */
export const DEFAULT_BOOTSTRAP_QUALIFIER = 'hnb659fds';
export const bootstrapVersionParameter = (qualifier = DEFAULT_BOOTSTRAP_QUALIFIER): string => `/cdk-bootstrap/${qualifier}/version`;
