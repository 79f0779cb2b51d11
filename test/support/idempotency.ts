// Powertools' DynamoDB persistence layer for the API handler in integration tests, on an emulator's table.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';

export const idempotencyLayer = (table: string, client: DynamoDBClient) =>
  new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: client });
