// What the numbers were measured on: written next to every run in BENCHMARKS.md.
import { cpus, loadavg, totalmem, availableParallelism } from 'node:os';

export interface Machine {
  cores: number;
  cpuModel: string;
  ramGiB: number;
  node: string;
  platform: string;
}

export function machine(): Machine {
  const c = cpus();
  return {
    cores: availableParallelism(),
    cpuModel: (c[0]?.model ?? 'unknown').trim(),
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** The 1-minute load average, to say how busy the shared machine was. */
export function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

export function describeMachine(m: Machine): string {
  return `${m.cores} vCPU (${m.cpuModel}), ${m.ramGiB} GiB RAM, Node ${m.node}, ${m.platform}`;
}
