// `movierec local` as a user runs it, in a child process: start it, read what it prints, find its training
// process, kill it. For the tests that crash the stack or watch it train.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root above this file (bench/hostile.ts runs it bundled from .build/, not from test/support). */
function findRoot(from: string): string {
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'bin', 'movierec.js'))) return d;
    if (dirname(d) === d) throw new Error(`cannot find the movierec repository above ${from}`);
  }
}

export const ROOT = findRoot(__dirname);
const CLI = join(ROOT, 'bin', 'movierec.js');

export interface Running {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startLocal(args: string[], extraEnv: Record<string, string> = {}): Running {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extraEnv };
  delete env.MOVIEREC_API_KEY;
  delete env.PORT;
  if (!extraEnv.TRAINING_PARAMS) delete env.TRAINING_PARAMS;
  const child = spawn(process.execPath, [CLI, 'local', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, out: () => out, err: () => err, exited };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 100): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits for `ready:`; the stack's stack.json and api key. */
export async function ready(s: Running, dataDir: string, timeoutMs = 180_000) {
  await waitFor('ready:', () => {
    if (s.child.exitCode !== null || s.child.signalCode !== null) throw new Error(`movierec local ended before it was ready (${s.child.exitCode ?? s.child.signalCode})`);
    return /^ready: /m.test(s.out()) ? true : undefined;
  }, timeoutMs).catch((e) => {
    throw new Error(`${e.message}\nstdout:\n${s.out()}\nstderr:\n${s.err()}`);
  });
  const info = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { pid: number; apiUrl: string; s3Endpoint: string; dynamoEndpoint: string; bucket: string };
  const key = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
  return { ...info, apiUrl: info.apiUrl.replace('localhost', '127.0.0.1'), s3Endpoint: info.s3Endpoint.replace('localhost', '127.0.0.1'), key };
}

/** Pids of the training processes a stack with this data folder started (they carry it on their command line). */
export function trainingPids(dataDir: string): number[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .filter((l) => l.includes('train-child') && l.includes(`--stack ${dataDir}`))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

export async function kill9(s: Running): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill('SIGKILL');
  await s.exited;
}

/** PUT a file to the local S3 as curl -T does; returns the ETag. */
export async function putObject(s3Endpoint: string, bucket: string, key: string, body: Buffer, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${s3Endpoint}/${bucket}/${key}`, { method: 'PUT', body, headers });
  if (res.status !== 200) throw new Error(`PUT ${key}: ${res.status} ${await res.text()}`);
  return (res.headers.get('etag') ?? '').replace(/"/g, '');
}

/** The active model of a running stack (null: none yet or not answering). */
export async function activeModel(apiUrl: string, key: string): Promise<{ version: string; source: { key: string }; favourites?: { carriedOver: number } } | null> {
  try {
    const res = await fetch(`${apiUrl}/models/active`, { headers: { 'x-api-key': key } });
    return res.status === 200 ? ((await res.json()) as never) : null;
  } catch {
    return null;
  }
}
