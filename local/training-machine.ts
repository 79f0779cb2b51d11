// The training state machine, offline: the definition taken from the stack's synthesized template (the one
// `cdk deploy` would create), run by aws-local-stepfunctions with its Task states bound to the real
// handlers of the three training functions — in this process, or each role in worker processes (the bench:
// one process per concurrent invocation, its peak memory measured). The handlers get the environment the
// stack gives them, pointed at the emulators.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DistributedDeps } from '../functions/app/distributed/deps';
import { CENTRAL_STEPS, PUBLISH_STEPS, WORKER_STEPS } from '../functions/app/distributed/steps';
import { distributedDepsFromEnv, makeStepHandler, type Role } from '../functions/handlers/train-steps';
import type { TrainingStarter } from '../functions/ports/training-run';
import { DISTRIBUTED_FUNCTIONS } from '../functions/shared/resources';
import { bindStateMachine, type CfnTemplate, extractStateMachine, type LambdaHandler, LocalExecutions, type LocalStateMachine } from './step-functions';
import { CachedRunStore } from './cached-run-store';
import type { WorkerPool } from './worker-pool';

const ROOT = path.resolve(__dirname, '..');

export interface TrainingMachineOptions {
  stage: string;
  /** the functions' environment (the local stack's: tables, bucket, emulator endpoints) */
  env: NodeJS.ProcessEnv;
  /** run these roles' invocations in worker processes (the bench); others run in this process */
  pool?: WorkerPool;
  /** where the synthesized template is cached (keyed by the hash of lib/ and the shared names) */
  cacheDir?: string;
  /** Retry waits, by state name (tests: 0) */
  retryIntervalOverrides?: Record<string, number | number[]>;
  onEvent?: (e: { type: string; state?: { name: string } }) => void;
  /** override the deps of in-process handlers (tests inject failures) */
  wrapDeps?: (role: Role, deps: DistributedDeps) => DistributedDeps;
  /** keep write-once run objects in memory for in-process handlers (default true; local/cached-run-store.ts) */
  cache?: boolean;
  /** wrap a role's handler (tests count or fail invocations) */
  wrapHandler?: (role: Role, h: LambdaHandler) => LambdaHandler;
}

export interface TrainingMachine {
  local: LocalStateMachine;
  executions: LocalExecutions;
  /** StartExecution over the local executions (the router's and ContinueAsNew's port) */
  starter: TrainingStarter;
  functionName(role: Role): string;
}

/** The stack's template for a stage, synthesized without bundling (cached by its inputs' content). */
export async function trainingTemplate(stage: string, cacheDir?: string): Promise<CfnTemplate> {
  const key = createHash('sha256').update(stage).update(inputsDigest()).digest('hex').slice(0, 16);
  const cached = cacheDir ? path.join(cacheDir, `template-${stage}-${key}.json`) : null;
  if (cached && existsSync(cached)) return JSON.parse(readFileSync(cached, 'utf8')) as CfnTemplate;
  const { App } = await import('aws-cdk-lib');
  const { buildApp } = await import('../lib/stack');
  const app = new App({ context: { stage, 'aws:cdk:bundling-stacks': [] } });
  const stack = buildApp(app, { nag: false });
  const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  if (cached) {
    mkdirSync(path.dirname(cached), { recursive: true });
    writeFileSync(cached, JSON.stringify(template));
  }
  return template;
}

/** Content hash of what the template depends on. */
function inputsDigest(): string {
  const h = createHash('sha256');
  const files = [...readdirSync(path.join(ROOT, 'lib')).map((f) => path.join('lib', f)), 'functions/shared/resources.ts', 'package-lock.json'].sort();
  for (const f of files) {
    const abs = path.join(ROOT, f);
    if (statSync(abs).isFile()) h.update(f).update(readFileSync(abs));
  }
  return h.digest('hex');
}

export async function trainingMachine(opts: TrainingMachineOptions): Promise<TrainingMachine> {
  const template = await trainingTemplate(opts.stage, opts.cacheDir);
  const machine = extractStateMachine(template);
  const name = (role: Role) => `movierec-${opts.stage}-${DISTRIBUTED_FUNCTIONS[role]}`;
  const steps = { worker: WORKER_STEPS, central: CENTRAL_STEPS, publish: PUBLISH_STEPS };
  const logger = new Logger({ serviceName: 'movierec-local-training', logLevel: 'ERROR' });
  let executions: LocalExecutions | null = null;
  const starter: TrainingStarter = {
    async start(execName, input) {
      try {
        const known = executions!.list().some((e) => e.name === execName);
        const r = executions!.startExecution({ name: execName, input });
        return { executionArn: r.executionArn, existing: known };
      } catch (e) {
        if ((e as Error).name !== 'ExecutionAlreadyExists') throw e;
        return { executionArn: `arn:aws:states:us-east-1:123456789012:execution:${machine.name}:${execName}`, existing: true };
      }
    },
  };
  const handlers: Record<string, LambdaHandler> = {};
  // one cache for the roles of this process, as they share the run's objects
  let cached: CachedRunStore | null = null;
  for (const role of ['worker', 'central', 'publish'] as Role[]) {
    let deps = distributedDepsFromEnv(role, opts.env);
    // coherent only while every writer is in this process: not with worker processes
    if (opts.cache !== false && !opts.pool) deps = { ...deps, runs: (cached ??= new CachedRunStore(deps.runs)) };
    if (role === 'central') deps.starter = starter;
    if (opts.wrapDeps) deps = opts.wrapDeps(role, deps);
    const inProcess = makeStepHandler(steps[role], role, logger, deps);
    const pool = opts.pool;
    let h: LambdaHandler = pool?.runs(role)
      ? // ContinueAsNew starts an execution of this very executor: it stays in this process
        (event, context) => ((event as { step?: string }).step === 'continueAsNew' ? inProcess(event, context) : pool.invoke(role, event))
      : (event, context) => inProcess(event, context);
    if (opts.wrapHandler) h = opts.wrapHandler(role, h);
    handlers[name(role)] = h;
  }
  const local = bindStateMachine(machine, template, { handlers, onEvent: opts.onEvent });
  executions = new LocalExecutions(local, { retryIntervalOverrides: opts.retryIntervalOverrides });
  return { local, executions, starter, functionName: name };
}
