// Child process of the training benchmark: runs the real `movierec train` command (bin/cli/commands.ts)
// once, in a fresh process, so its peak RSS is this run's alone. Prints one JSON line prefixed with
// RESULT_MARK: the phase seconds, iterations and inertia from the command's own summary, wall seconds
// and process.resourceUsage().maxRSS, and CPU seconds (all threads) per stretch: run without --quiet, the
// command announces each phase on stderr ("cluster…", and "write…" once training (clustering, counts and,
// unless skipped, the hold-out check) is over and the model file is streamed); process.cpuUsage() is read there.
import { trainCommand } from '../../bin/cli/commands';
import { ChildResult, parseSummary, RESULT_MARK } from './train-summary';

async function main(): Promise<void> {
  const captured: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => {
    captured.push(...args.map(String).join(' ').split('\n'));
  };
  const marks: Array<[string, number]> = [];
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const mark = (name: string) => {
    if (!marks.some(([n]) => n === name)) marks.push([name, cpu()]);
  };
  const errWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const m = /^(parse|matrix|cluster|write)…$/m.exec(String(chunk));
    if (m) mark(m[1]);
    return (errWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  const t = performance.now();
  try {
    await trainCommand(process.argv.slice(2).filter((a) => a !== '--quiet'));
  } finally {
    console.log = log;
    process.stderr.write = errWrite;
  }
  const wallSeconds = (performance.now() - t) / 1000;
  marks.push(['end', cpu()]);
  const cpuSeconds: Record<string, number> = {};
  // 'cluster' runs from "cluster…" to the model's serialisation: clustering plus counts (and the check)
  for (let i = 0; i + 1 < marks.length; i++) cpuSeconds[marks[i][0]] = marks[i + 1][1] - marks[i][1];
  const maxRssBytes = process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
  const result: ChildResult = { wallSeconds, maxRssBytes, cpuSeconds, ...parseSummary(captured) };
  process.stdout.write(RESULT_MARK + JSON.stringify(result) + '\n');
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
