// Child process of the training benchmark: runs the real `movierec train` command (bin/cli/commands.ts)
// once, in a fresh process, so its peak RSS is this run's alone. Prints one JSON line prefixed with
// RESULT_MARK: the phase seconds, iterations and inertia from the command's own summary, wall seconds
// and process.resourceUsage().maxRSS.
//   node bin/run-ts.js bench/lib/train-child.ts <movierec train arguments>
import { trainCommand } from '../../bin/cli/commands';
import { ChildResult, parseSummary, RESULT_MARK } from './train-summary';

async function main(): Promise<void> {
  const captured: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => {
    captured.push(...args.map(String).join(' ').split('\n'));
  };
  const t = performance.now();
  try {
    await trainCommand(process.argv.slice(2));
  } finally {
    console.log = log;
  }
  const wallSeconds = (performance.now() - t) / 1000;
  const maxRssBytes = process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
  const result: ChildResult = { wallSeconds, maxRssBytes, ...parseSummary(captured) };
  process.stdout.write(RESULT_MARK + JSON.stringify(result) + '\n');
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
