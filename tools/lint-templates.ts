// Validates the CloudFormation templates offline as CloudFormation would: synthesizes each stage (and prod with
// every opt-in, so the opted-in properties are checked too) without bundling, and runs cfn-lint on each
// template. Templates given as arguments (e.g. cdk.out/prod/movierec-prod.template.json, from `cdk synth -o`)
// are linted as they are. Exit 1 on any cfn-lint error (warnings are listed, not fatal: today only W3005,
// which CDK generates). `npm run lint:cfn`; .ci/run runs it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/stack';
import { type CfnTemplate, extractStateMachine } from '../local/step-functions';
import { VARIANTS } from './lint-variants';


interface LintResult {
  template: string;
  errors: string[];
  warnings: string[];
}

function lint(template: string): LintResult {
  const res = spawnSync('cfn-lint', ['--format', 'parseable', template], { encoding: 'utf8' });
  if (res.error) throw new Error(`cfn-lint could not run (${(res.error as Error).message}); install it with pip install cfn-lint.`);
  const lines = res.stdout.split('\n').filter((l) => l.trim() !== '');
  // parseable: file:line:col:endline:endcol:RULE:message
  const rule = (l: string) => l.split(':')[5] ?? '';
  const errors = lines.filter((l) => rule(l).startsWith('E'));
  // exit code bit 2 = errors; anything else non-zero besides warnings (4) and info (8) is a failed run
  if ((res.status ?? 1) & 3 && errors.length === 0) {
    errors.push(`cfn-lint exited ${res.status}: ${res.stderr.trim() || res.stdout.trim()}`);
  }
  return { template, errors, warnings: lines.filter((l) => rule(l).startsWith('W')) };
}

function synthVariant(name: string, context: Record<string, string>, dir: string): string[] {
  const app = new App({ outdir: mkdtempSync(path.join(dir, `${name}-`)), context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const stack = buildApp(app);
  const file = path.join(dir, `${name}.template.json`);
  const template = app.synth().getStackByName(stack.stackName).template;
  writeFileSync(file, JSON.stringify(template, null, 1));
  return [file, definitionTemplate(name, template, dir)];
}

/**
 * cfn-lint checks a state machine's definition only when it is a literal `Definition`; CDK writes a
 * DefinitionString joined from tokens, which it leaves unchecked. So the definition is also linted resolved
 * (tokens replaced by placeholder ARNs, as the offline executor resolves them) in a template of its own.
 */
function definitionTemplate(name: string, template: CfnTemplate, dir: string): string {
  const machine = extractStateMachine(template);
  const file = path.join(dir, `${name}.state-machine.template.json`);
  const doc = {
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      StateMachine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: { RoleArn: 'arn:aws:iam::123456789012:role/placeholder', StateMachineType: machine.type, Definition: machine.definition },
      },
    },
  };
  writeFileSync(file, JSON.stringify(doc, null, 1));
  return file;
}

function main(): number {
  const dir = mkdtempSync(path.join(tmpdir(), 'movierec-lint-'));
  try {
    const templates = [...process.argv.slice(2), ...Object.entries(VARIANTS).flatMap(([name, ctx]) => synthVariant(name, ctx, dir))];
    let errors = 0;
    for (const t of templates) {
      const r = lint(t);
      errors += r.errors.length;
      const rules = [...new Set(r.warnings.map((w) => w.split(':')[5]))].join(', ');
      console.log(`cfn-lint ${path.basename(t)}: ${r.errors.length} errors, ${r.warnings.length} warnings${rules ? ` (${rules})` : ''}`);
      for (const e of r.errors) console.log(`  ${e}`);
    }
    return errors === 0 ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
