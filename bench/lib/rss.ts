// Resident memory of another process, sampled from /proc/<pid>/status (Linux): VmRSS now and VmHWM, the
// kernel's own high-water mark of RSS, which no sampling interval can miss.
import { readFileSync } from 'node:fs';

export interface RssSample {
  /** highest VmRSS seen by sampling, MiB */
  sampledMaxMiB: number;
  /** highest VmHWM seen (the process's peak RSS), MiB */
  peakMiB: number;
  /** last VmRSS read, MiB */
  lastMiB: number;
  samples: number;
}

function readKb(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

/** Starts sampling `pid` every `everyMs`; stop() returns what was seen (the process may have exited). */
export function sampleRss(pid: number, everyMs = 20): { stop(): RssSample; now(): number } {
  const s: RssSample = { sampledMaxMiB: 0, peakMiB: 0, lastMiB: 0, samples: 0 };
  const read = () => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const rss = readKb(status, 'VmRSS') / 1024;
      s.lastMiB = rss;
      s.sampledMaxMiB = Math.max(s.sampledMaxMiB, rss);
      s.peakMiB = Math.max(s.peakMiB, readKb(status, 'VmHWM') / 1024);
      s.samples++;
    } catch {
      // exited
    }
  };
  read();
  const timer = setInterval(read, everyMs);
  return {
    now: () => (read(), s.lastMiB),
    stop() {
      clearInterval(timer);
      read();
      return { ...s };
    },
  };
}
