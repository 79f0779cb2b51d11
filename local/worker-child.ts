// One worker process of local/worker-pool.ts: a warm "Lambda container" of the training functions, running
// one invocation at a time with the real handler, reporting its peak memory, S3 traffic and duration.
import { readFileSync, writeFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { runIoStats } from '../functions/adapters/s3-runs';
import { CENTRAL_STEPS, PUBLISH_STEPS, WORKER_STEPS } from '../functions/app/distributed/steps';
import { distributedDepsFromEnv, makeStepHandler, type Role } from '../functions/handlers/train-steps';

const logger = new Logger({ serviceName: 'movierec-local-worker', logLevel: 'ERROR' });
const steps = { worker: WORKER_STEPS, central: CENTRAL_STEPS, publish: PUBLISH_STEPS };
const handlers = new Map<Role, (e: unknown) => Promise<unknown>>();

/** Peak resident set size (KiB) since the last reset. */
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
const resetHwm = () => {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux, or not allowed: the peak then covers the process's whole life
  }
};

process.on('message', async (m: { id: number; role: Role; event: unknown }) => {
  let h = handlers.get(m.role);
  if (!h) {
    const handler = makeStepHandler(steps[m.role], m.role, logger, distributedDepsFromEnv(m.role));
    h = (e) => handler(e as { step?: string });
    handlers.set(m.role, h);
  }
  const before = { ...runIoStats };
  resetHwm();
  const t0 = Date.now();
  let reply: Record<string, unknown>;
  try {
    reply = { ok: true, result: await h(m.event) };
  } catch (e) {
    const err = e as Error;
    // as Lambda would log it: the bench's report carries only the message
    process.stderr.write(`worker ${process.pid}: ${(m.event as { step?: string }).step ?? m.role} failed: ${err.stack ?? err.message}\n`);
    reply = { ok: false, error: { name: err.name, message: err.message, stack: err.stack } };
  }
  const io = { gets: runIoStats.gets - before.gets, getBytes: runIoStats.getBytes - before.getBytes, puts: runIoStats.puts - before.puts, putBytes: runIoStats.putBytes - before.putBytes };
  process.send!({ id: m.id, ...reply, rssKiB: hwm(), ms: Date.now() - t0, io });
});
