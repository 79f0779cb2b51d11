// The metrics contract lives with the handlers (functions/shared/resources.ts), which emit what the alarms
// and the dashboard read.
export { HANDLER_METRICS, metricsNamespace, SERVICE } from '../functions/shared/resources';
