// The training state machine's per-partition workers: parse a byte range, build a shard, k-means++ trials, Lloyd assignment, centre update by column range, counts, memberships.
// Thin: the step named in the event runs (functions/app/distributed/steps.ts).
import { Logger } from '@aws-lambda-powertools/logger';
import { WORKER_STEPS } from '../app/distributed/steps';
import { SERVICE } from '../shared/resources';
import { makeStepHandler } from './train-steps';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || SERVICE['train-worker'] });

export const handler = makeStepHandler(WORKER_STEPS, 'worker', logger);
