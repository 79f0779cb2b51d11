// Logger and metrics of a handler, from the environment the stack gives every function
// (POWERTOOLS_SERVICE_NAME = the function's name, POWERTOOLS_METRICS_NAMESPACE = the stage's namespace), with
// the same per-stage names as fallbacks where that environment is absent (the local stack, tests).
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ENV, metricsNamespace, SERVICE } from '../shared/resources';

export function observability(fn: keyof typeof SERVICE, env: NodeJS.ProcessEnv = process.env): { logger: Logger; metrics: Metrics } {
  const stage = env[ENV.stage] ?? 'dev';
  const service = env.POWERTOOLS_SERVICE_NAME || SERVICE[fn];
  const logger = new Logger({ serviceName: service });
  const metrics = new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE || metricsNamespace(stage), serviceName: service, logger });
  return { logger, metrics };
}
