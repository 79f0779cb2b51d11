// Help text of `movierec doctor`, apart from the command so that registering it in bin/cli.ts loads nothing else.
export const DOCTOR_SUMMARY = 'before `cdk deploy`: what the stage would hit in your AWS account, and how to fix it';

export const DOCTOR_HELP = `movierec doctor [--stage dev|prod] [-c key=value ...] [--region R] [--profile P] [--cdk-json FILE]
  Run with your AWS credentials before \`npx cdk deploy -c stage=<stage>\`. Reads (never changes) the account:
  Lambda's concurrency and the Service Quotas record of it, function memory in use, the CDK bootstrap version,
  the stage's stack, and resources an earlier deploy left behind; then says in plain sentences what the deploy
  would hit and how to fix it. Exit code 1 when something must be fixed first.
  --stage S         dev or prod (default: -c stage=…, else cdk.json's "stage")
  -c key=value      the same settings \`cdk deploy -c\` takes (trainingMemory, apiProvisioned, …; see docs/DEPLOY.md);
                    cdk.json's "context" is read first, as the CDK does
  --region R        default: AWS_REGION or your profile's region
  --profile P       an AWS CLI profile (default: AWS_PROFILE or the default chain)
  --cdk-json FILE   default: ./cdk.json
  --qualifier Q     CDK bootstrap qualifier (default: cdk.json's @aws-cdk/core:bootstrapQualifier, else hnb659fds)
  Reads need: sts:GetCallerIdentity, lambda:GetAccountSettings, lambda:ListFunctions, servicequotas:GetServiceQuota,
  servicequotas:ListRequestedServiceQuotaChangeHistoryByQuota, ssm:GetParameter, cloudformation:DescribeStacks,
  dynamodb:DescribeTable, s3:ListBucket (HeadBucket), logs:DescribeLogGroups, sqs:GetQueueUrl. A check it cannot make is reported as such, never as passed.`;
