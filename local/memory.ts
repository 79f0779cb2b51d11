// The memory training really has off Lambda: what this machine can give now (MemAvailable, within a cgroup's
// limit), and the budgets of the local stack's training process and of `movierec train`, whose refusals name
// the flag that gives training more (functions/core/memory.ts).
import { freemem, totalmem } from 'node:os';
import { MB, type MemoryBudget } from '../functions/core/memory';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** MB this machine can give a new process now: available memory, capped by a cgroup memory limit. */
export function machineMemoryMb(): number {
  const available = typeof process.availableMemory === 'function' ? process.availableMemory() : freemem();
  const limit = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  const cap = limit && limit > 0 && limit < totalmem() ? limit : Infinity;
  return Math.floor(Math.min(available, cap) / MB);
}

/** The local stack's training process: the stage's training memory (as the Lambda has), at most what the
 * machine has free when the stack starts. */
export function localTrainingBudget(memoryMb: number, machineMb: number): MemoryBudget {
  return {
    memoryMb,
    holder: `the local stack's training process (${fmt(memoryMb)} MB)`,
    raise: (mb) =>
      mb <= machineMb
        ? `restart the stack with --training-memory ${mb}`
        : `restart the stack with --training-memory ${mb} on a machine with that much memory free (this one has ${fmt(machineMb)} MB)`,
  };
}

/** `movierec train`: the memory free on this machine, unless --memory says otherwise. */
export function cliTrainingBudget(memoryMb: number, fromFlag: boolean): MemoryBudget {
  return {
    memoryMb,
    holder: fromFlag ? `--memory ${fmt(memoryMb)}` : `this machine (${fmt(memoryMb)} MB free)`,
    raise: (mb) => (fromFlag ? `pass --memory ${mb}` : `free memory, or pass --memory ${mb} if the machine really has that much`),
  };
}
