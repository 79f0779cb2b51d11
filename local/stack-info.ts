// Where a running local stack says how to reach it (DATA_DIR/stack.json) and keeps its API key, read by
// `movierec upload` without loading the stack itself.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { S3_PREFIXES } from '../functions/shared/resources';

export interface StackInfo {
  pid: number;
  apiUrl: string;
  s3Endpoint: string;
  /** internal (the handlers use it); listed so tools and tests can see every port the stack holds */
  dynamoEndpoint: string;
  bucket: string;
  stage: string;
}

export const STACK_FILE = 'stack.json';
export const API_KEY_FILE = 'api-key';

export function readStackInfo(dataDir: string): StackInfo | null {
  try {
    return JSON.parse(readFileSync(path.join(dataDir, STACK_FILE), 'utf8')) as StackInfo;
  } catch {
    return null;
  }
}

export function readSavedApiKey(dataDir: string): string | undefined {
  try {
    return readFileSync(path.join(dataDir, API_KEY_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** uploads/<file name>: the key a file is uploaded under by default. */
export const uploadKeyFor = (file: string) => `${S3_PREFIXES.uploads}${path.basename(file)}`;
