// The training state machine's central steps: plan, index, prepare, selection, k-means++ picks, convergence, fixClusters, the hold-out check, failures.
// Thin: the step named in the event runs (functions/app/distributed/steps.ts).
import { Logger } from '@aws-lambda-powertools/logger';
import { CENTRAL_STEPS } from '../app/distributed/steps';
import { SERVICE } from '../shared/resources';
import { makeStepHandler } from './train-steps';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || SERVICE['train-central'] });

export const handler = makeStepHandler(CENTRAL_STEPS, 'central', logger);
