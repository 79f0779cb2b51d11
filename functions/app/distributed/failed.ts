// Steps MarkFailed and ContinueAsNew (central). MarkFailed is every failure's last step: a refused upload
// (an InputError from any step: malformed, too many rejected rows, too few users, below most-popular) gets
// the very rejection report the single-function path writes; anything else is recorded as failed. Either
// way the lease is given back and the working model keeps serving (nothing was flipped).
import { InputError } from '../../core/types';
import type { SourceRef } from '../../ports';
import { executionNameOf } from '../../shared/resources';
import { rejectionReportKey } from '../upload';
import { type DistributedDeps, setStatus } from './deps';
import { getJson, putJson, runKeys } from './run-files';
import { type CentralEvent, type ExecutionInput, loadRun, saveRun } from './state';

/** What a step that refused the upload leaves for MarkFailed (Step Functions passes on only the error's
 * name and message). */
export interface Refusal {
  code: string;
  message: string;
  report: unknown;
}

export async function recordRefusal(deps: DistributedDeps, version: string, e: InputError): Promise<void> {
  const details = e.details as { report?: unknown } | undefined;
  await putJson(deps.runs, runKeys.refusal(version), { code: e.code, message: e.message, report: details?.report ?? null } satisfies Refusal);
}

export async function markFailed(event: CentralEvent & { source: SourceRef }, deps: DistributedDeps): Promise<{ status: string }> {
  const { version, source } = event;
  const name = event.error?.Error ?? 'Error';
  let refusal: Refusal | null = null;
  if (name === 'InputError') refusal = await getJson<Refusal>(deps.runs, runKeys.refusal(version)).catch(() => null);
  let status: string;
  if (refusal && deps.reports) {
    await deps.reports.putJson(rejectionReportKey(source.key), {
      status: 'rejected',
      source,
      version,
      reason: { code: refusal.code, message: refusal.message },
      report: refusal.report,
      at: new Date((deps.now ?? Date.now)()).toISOString(),
    });
    await setStatus(deps, version, { phase: 'rejected', error: refusal.message });
    deps.log?.warn('upload refused', { key: source.key, code: refusal.code, reason: refusal.message });
    status = 'rejected';
  } else {
    const cause = causeMessage(event.error?.Cause);
    await setStatus(deps, version, { phase: 'failed', error: `${name}: ${cause}`.slice(0, 1000) });
    deps.log?.warn('distributed training failed', { version, error: name, cause });
    status = 'failed';
  }
  await deps.lease?.release(executionNameOf(version));
  return { status };
}

/** Lambda's error JSON → its message; anything else as it came. */
function causeMessage(cause: string | undefined): string {
  if (!cause) return 'unknown cause';
  try {
    const c = JSON.parse(cause) as { errorMessage?: string };
    return c.errorMessage ?? cause;
  } catch {
    return cause;
  }
}

/** ContinueAsNew: the next restart in a new execution (this one's history could run out), same lease. */
export async function continueAsNew(
  event: CentralEvent & { input: Omit<ExecutionInput, 'resume'>; plan: { ranges: number[]; partitions: number[]; columnRanges: number[] } },
  deps: DistributedDeps,
): Promise<{ executionArn: string }> {
  if (!deps.starter) throw new Error('ContinueAsNew needs a state machine starter');
  const loop = { ...event.loop!, next: 'seed' as const };
  const run = await loadRun(deps.runs, event.version);
  run.history = { rounds: 0, passes: 0 };
  await saveRun(deps.runs, run);
  const input: ExecutionInput & { plan: typeof event.plan } = { ...event.input, resume: loop, plan: event.plan };
  const { executionArn } = await deps.starter.start(executionNameOf(event.version, { job: loop.job, restart: loop.restart }), JSON.stringify(input));
  deps.log?.info('distributed training continues in a new execution', { version: event.version, executionArn, job: loop.job, restart: loop.restart });
  return { executionArn };
}
