// Running child processes for the benchmark: output captured, a clear error when one fails.
import { spawn } from 'node:child_process';
import path from 'node:path';

import { ROOT } from './root';

export { ROOT };
export const RUN_TS = path.join(ROOT, 'bin', 'run-ts.js');

export interface Finished {
  stdout: string;
  stderr: string;
  wallSeconds: number;
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      const wallSeconds = (performance.now() - t) / 1000;
      if (code === 0) resolve({ stdout, stderr, wallSeconds });
      else reject(new Error(`${path.basename(cmd)} ${args.join(' ')} exited with ${code ?? signal}:\n${stderr.slice(-2000)}`));
    });
  });
}

/** The JSON of the last stdout line starting with `mark` (or the last line when mark is ''). */
export function lastJson<T>(stdout: string, mark = ''): T {
  const lines = stdout.split('\n').filter((l) => l.startsWith(mark) && l.trim() !== '');
  if (lines.length === 0) throw new Error(`no result line${mark ? ` "${mark}"` : ''} in:\n${stdout.slice(-2000)}`);
  return JSON.parse(lines[lines.length - 1].slice(mark.length)) as T;
}
