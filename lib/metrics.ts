// The metrics contract between the handlers (functions/) and the alarms and dashboard (lib/monitoring.ts).
// The handlers emit with Powertools Metrics (CloudWatch embedded metric format): the namespace comes from
// POWERTOOLS_METRICS_NAMESPACE and the one default dimension `service` from POWERTOOLS_SERVICE_NAME, both set by
// lib/function.ts from the constants below. An alarm only fires on a metric whose namespace, name and full
// dimension set match exactly, so both sides take them from here.
import type { Stage } from './config';

/** Per stage, so dev and prod metrics never mix. */
export const metricsNamespace = (stage: Stage): string => `movierec-${stage}`;

/** Powertools `service` (the default dimension of every custom metric), per function. Not stage-qualified:
 * the namespace already is. */
export const SERVICE = { train: 'movierec-train', api: 'movierec-api' } as const;

/** Custom metrics the handlers emit (Powertools `addMetric` names). */
export const HANDLER_METRICS = {
  /** training: one per refused upload (malformed, too large, fewer users than k, …), Count */
  uploadsRejected: 'uploadsRejected',
  /** training: one per published model version, Seconds */
  publishSeconds: 'publishSeconds',
  /** API: age of the active model when a request read the pointer, Seconds — not emitted yet (see docs/DEPLOY.md) */
  modelAgeSeconds: 'modelAgeSeconds',
} as const;
