// SDK client factories. In AWS only the region comes from the environment; against the emulators the caller
// passes an endpoint plus explicit region and credentials (the machine has none).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';

export interface AwsConfig {
  region?: string;
  /** emulator endpoint (dynalite / s3rver); omit in AWS */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** SDK retry attempts (default 3, the SDK default) */
  maxAttempts?: number;
}

export function makeDynamoClient(cfg: AwsConfig = {}): DynamoDBClient {
  return new DynamoDBClient({
    region: cfg.region,
    endpoint: cfg.endpoint,
    credentials: cfg.credentials,
    maxAttempts: cfg.maxAttempts,
  });
}

export function makeDocClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function makeS3Client(cfg: AwsConfig = {}): S3Client {
  // Loaded here rather than at the top: the API Lambda imports this module but never uses S3, and it takes
  // the SDK from the Lambda runtime, where a top-level import would load the S3 client on every cold start
  // (30-90 ms on the dev machine). Bundlers still resolve this require (the training bundle includes it).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { S3Client } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
  return new S3Client({
    region: cfg.region,
    endpoint: cfg.endpoint,
    credentials: cfg.credentials,
    maxAttempts: cfg.maxAttempts,
    // s3rver: path-style addressing, and no default checksums (with them a streamed PutObject is stored
    // with its aws-chunked framing). Harmless in AWS, where checksums are still used when required.
    ...(cfg.endpoint
      ? {
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
}

/** AWS config from the environment: region from AWS_REGION; an endpoint only for the local stack. */
export function awsConfigFromEnv(endpointVar: string, env: NodeJS.ProcessEnv = process.env): AwsConfig {
  const endpoint = env[endpointVar];
  if (!endpoint) return { region: env.AWS_REGION };
  return {
    region: env.AWS_REGION ?? 'us-east-1',
    endpoint,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'S3RVER',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'S3RVER',
    },
  };
}

export { isConditionalFailure, isThrottle } from '../shared/aws-errors';
