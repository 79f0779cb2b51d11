// Shared helpers of the infra tests: build a stage's app without esbuild bundling, in a temporary
// cloud-assembly folder that is removed afterwards.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/stack';
import type { MovierecStack } from '../../lib/stack';

const outdirs: string[] = [];

export interface Built {
  app: App;
  stack: MovierecStack;
  outdir: string;
}

/** A fresh app for `stage` (any string, to test unknown stages) with extra context (`-c key=value` as the CLI
 * passes it: strings), bundling skipped. */
export function build(stage: unknown, options: { nag?: boolean; context?: Record<string, unknown> } = {}): Built {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'movierec-infra-'));
  outdirs.push(outdir);
  const context: Record<string, unknown> = { 'aws:cdk:bundling-stacks': [], ...options.context };
  if (stage !== undefined) context.stage = stage;
  const app = new App({ outdir, context });
  const stack = buildApp(app, options);
  return { app, stack, outdir };
}

export function templateOf(built: Built): Template {
  return Template.fromStack(built.stack);
}

/** Removes every assembly folder created so far (call from afterAll). */
export function cleanup(): void {
  for (const dir of outdirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export interface Finding {
  rule: string;
  path: string;
}

/** Synthesises with cdk-nag and returns its unacknowledged findings ([] when synthesis passes). */
export function nagFindings(built: Built): Finding[] {
  try {
    built.app.synth({ force: true });
    return [];
  } catch (err) {
    const report = path.join(built.outdir, 'validation-report.json');
    if (!fs.existsSync(report)) throw err;
    const json = JSON.parse(fs.readFileSync(report, 'utf8')) as {
      pluginReports: Array<{ violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }> }>;
    };
    return json.pluginReports.flatMap((p) =>
      p.violations.flatMap((v) => v.violatingConstructs.map((c) => ({ rule: v.ruleName, path: c.constructPath }))),
    );
  }
}

type Json = Record<string, any>;

/** Resources of one CloudFormation type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, Json> {
  return template.findResources(type) as Record<string, Json>;
}
