// movierec command-line interface. Every failure exits non-zero with one clear sentence.
import { InputError } from '../functions/core/types';
import { DOCTOR_HELP, DOCTOR_SUMMARY } from './cli/doctor-help';
import { LOCAL_HELP, LOCAL_SUMMARY, UPLOAD_HELP, UPLOAD_SUMMARY } from './cli/local-help';
import { elbowCommand, generateCommand, HELP, inspectCommand, recommendCommand, trainCommand } from './cli/commands';
import { EVALUATE_HELP, evaluateCommand } from './cli/evaluate';
import { SIMILAR_HELP, SIMILAR_SUMMARY } from './cli/similar';

HELP.evaluate = EVALUATE_HELP;

type Command = (argv: string[]) => Promise<void>;

const COMMANDS: Record<string, { run: () => Promise<Command>; summary: string }> = {
  train: { run: async () => trainCommand, summary: 'cluster users from a ratings file and write a model' },
  recommend: { run: async () => recommendCommand, summary: "a user's (or every user's) recommendations from a model" },
  inspect: { run: async () => inspectCommand, summary: 'data-quality report and a window of the user × movie matrix' },
  generate: { run: async () => generateCommand, summary: 'write a deterministic synthetic ratings file' },
  elbow: { run: async () => elbowCommand, summary: 'inertia by k (elbow method), table and SVG chart' },
  evaluate: {
    run: async () => evaluateCommand,
    summary: 'offline quality (protocol v1): most popular, seed, item-kNN, default model',
  },
};

export function registerCommand(name: string, summary: string, run: () => Promise<Command>, help: string): void {
  COMMANDS[name] = { run, summary };
  HELP[name] = help;
}

// the local stack: loaded only when run
registerCommand('local', LOCAL_SUMMARY, async () => (await import('./cli/local')).localCommand, LOCAL_HELP);
registerCommand('upload', UPLOAD_SUMMARY, async () => (await import('./cli/upload')).uploadCommand, UPLOAD_HELP);
registerCommand('similar', SIMILAR_SUMMARY, async () => (await import('./cli/similar')).similarCommand, SIMILAR_HELP);
// before a deploy to AWS: loaded only when run
registerCommand('doctor', DOCTOR_SUMMARY, async () => (await import('./cli/doctor')).doctorCommand, DOCTOR_HELP);

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: movierec <command> [options]   (movierec <command> --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`movierec: unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(HELP[name] ?? cmd.summary);
    return 0;
  }
  try {
    await (await cmd.run())(rest);
    return 0;
  } catch (e) {
    if (e instanceof InputError) {
      console.error(`movierec ${name}: ${e.message}`);
      return 1;
    }
    console.error(`movierec ${name}: unexpected error: ${(e as Error)?.message ?? e}`);
    if (process.env.MOVIEREC_DEBUG) console.error((e as Error)?.stack);
    else console.error('(set MOVIEREC_DEBUG=1 for the stack trace)');
    return 1;
  }
}
