// The training state machine's publish steps: the favourites fold, metadata and lists, each partition's users, the pointer flip.
// Thin: the step named in the event runs (functions/app/distributed/steps.ts).
import { Logger } from '@aws-lambda-powertools/logger';
import { PUBLISH_STEPS } from '../app/distributed/steps';
import { SERVICE } from '../shared/resources';
import { makeStepHandler } from './train-steps';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || SERVICE['train-publish'] });

export const handler = makeStepHandler(PUBLISH_STEPS, 'publish', logger);
