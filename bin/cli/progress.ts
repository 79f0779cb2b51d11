// Progress output for long runs: a cli-progress bar on an interactive terminal, a line every few
// seconds otherwise (CI logs, Lambda-like environments).
import { SingleBar, Presets } from 'cli-progress';
import type { TrainProgress } from '../../functions/core/train';

export function trainProgress(enabled: boolean): { onProgress: (p: TrainProgress) => void; stop: () => void } {
  if (!enabled) return { onProgress: () => {}, stop: () => {} };
  const tty = process.stderr.isTTY;
  let bar: SingleBar | null = null;
  let lastPhase = '';
  let lastStep = '';
  let lastLine = 0;
  const onProgress = (p: TrainProgress) => {
    if (p.phase !== 'cluster' || !p.kmeans) {
      if (p.phase !== lastPhase) {
        bar?.stop();
        bar = null;
        process.stderr.write(`${p.phase}…\n`);
        lastPhase = p.phase;
      }
      // the steps between clusterings (validation settings, passes over every user), one line each
      if (p.step && p.step !== lastStep) {
        bar?.stop();
        bar = null;
        process.stderr.write(`  ${p.step}\n`);
        lastStep = p.step;
      }
      return;
    }
    lastPhase = 'cluster';
    const { init, nInit, iteration, inertia } = p.kmeans;
    const step = p.step ?? 'cluster';
    if (tty) {
      if (!bar) {
        bar = new SingleBar(
          { format: '{step} [{bar}] init {value}/{total} · iteration {iteration} · inertia {inertia}', stream: process.stderr, clearOnComplete: true, hideCursor: true },
          Presets.shades_classic,
        );
        bar.start(nInit, 0, { step, iteration: 0, inertia: '-' });
      }
      bar.setTotal(nInit);
      bar.update(init + 1, { step, iteration, inertia: inertia.toFixed(1) });
    } else if (Date.now() - lastLine > 2000) {
      lastLine = Date.now();
      process.stderr.write(`${step}: init ${init + 1}/${nInit}, iteration ${iteration}, inertia ${inertia.toFixed(1)}\n`);
    }
  };
  return {
    onProgress,
    stop: () => {
      bar?.stop();
      bar = null;
    },
  };
}
