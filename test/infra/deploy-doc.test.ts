// docs/DEPLOY.md is a walk-through an operator follows on a real account, so every command in its bash blocks
// is checked here against what it refers to: `cdk` contexts synthesize with cdk-nag clean,
// stack names, outputs, log groups, alarm prefixes, tables and bucket prefixes exist in the stage's template,
// `movierec` commands and flags exist, `npm run` scripts exist (CI runs lint:cfn), curl paths are routes. A
// command no check knows fails the test, so the doc cannot grow an unchecked command.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { ROUTES } from '../../functions/api/routes';
import { S3_PREFIXES } from '../../functions/shared/resources';
import { DOCTOR_HELP } from '../../bin/cli/doctor-help';
import { STAGES, type Stage, resolveStage } from '../../lib/config';
import { stackName } from '../../lib/names';
import { build, cleanup, nagFindings, resourcesOf, templateOf } from './helpers';

afterAll(cleanup);

const ROOT = path.resolve(__dirname, '..', '..');
const DOC = fs.readFileSync(path.join(ROOT, 'docs', 'DEPLOY.md'), 'utf8');
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

/** The commands of the doc's bash blocks: continuation lines joined, comments dropped, `X=$(cmd)` unwrapped. */
function commands(): string[] {
  const out: string[] = [];
  for (const block of DOC.matchAll(/```bash\n([\s\S]*?)```/g)) {
    const joined = block[1].replace(/\\\n\s*/g, ' ');
    for (let line of joined.split('\n')) {
      line = line.replace(/\s+#\s.*$/, '').replace(/\s+/g, ' ').trim();
      if (!line || line.startsWith('#')) continue;
      const sub = /^[A-Z_]+=\$\((.*)\)$/.exec(line);
      out.push(sub ? sub[1].trim() : line);
    }
  }
  return out;
}

/** One synthesis per distinct context, with cdk-nag: its findings and its template. */
const synths = new Map<string, { findings: ReturnType<typeof nagFindings>; template: Template }>();
function synth(context: Record<string, string>) {
  const key = JSON.stringify(Object.entries(context).sort());
  if (!synths.has(key)) {
    const built = build(context.stage, { context });
    synths.set(key, { findings: nagFindings(built), template: templateOf(built) });
  }
  return synths.get(key)!;
}
const template = (stage: Stage): Template => synth({ stage }).template;
const stageOfStack = (name: string): Stage => {
  const stage = STAGES.find((s) => stackName(s) === name);
  if (!stage) throw new Error(`${name} is not a stack of this app (${STAGES.map(stackName).join(', ')})`);
  return stage;
};
const contextOf = (cmd: string): Record<string, string> =>
  Object.fromEntries([...cmd.matchAll(/-c\s+(\S+?)=(\S+)/g)].map((m) => [m[1], m[2]]));
const names = (stage: Stage, type: string, prop: string) => Object.values(resourcesOf(template(stage), type)).map((r) => r.Properties[prop]);

type Check = [RegExp, (m: RegExpExecArray, cmd: string) => void];
const CHECKS: Check[] = [
  [/^npx cdk bootstrap aws:\/\/ACCOUNT_ID\/REGION$/, () => undefined],
  [
    /^npx cdk (synth|deploy|destroy)\b/,
    (_m, cmd) => {
      const context = contextOf(cmd);
      expect(STAGES).toContain(context.stage);
      // synthesizes with these settings, cdk-nag AwsSolutions + Serverless clean
      expect(synth(context).findings).toEqual([]);
      for (const flag of cmd.match(/\s--?[a-z][\w-]*/g) ?? []) expect(['-c', '-q', '--require-approval']).toContain(flag.trim());
    },
  ],
  [
    /^npx movierec (\w+)/,
    (m, cmd) => {
      expect(m[1]).toBe('doctor');
      for (const flag of cmd.match(/\s--[a-z][\w-]*/g) ?? []) expect(DOCTOR_HELP).toContain(flag.trim());
      const context = { ...contextOf(cmd), stage: /--stage (\w+)/.exec(cmd)?.[1] };
      expect(() => resolveStage(context)).not.toThrow();
    },
  ],
  [/^npm run (\S+)$/, (m) => expect(Object.keys(PACKAGE.scripts)).toContain(m[1])],
  [
    /^aws cloudformation describe-stacks --stack-name (\S+)/,
    (m, cmd) => {
      const outputs = Object.keys(template(stageOfStack(m[1])).findOutputs('*'));
      for (const key of cmd.matchAll(/OutputKey=='(\w+)'/g)) expect(outputs).toContain(key[1]);
    },
  ],
  [/^aws apigateway get-api-key --api-key "\$KEY_ID" --include-value --query value --output text$/, () => undefined],
  [/^aws s3 (?:cp \S+|ls) "s3:\/\/\$BUCKET\/([^"]*)"/, (m) => expect([S3_PREFIXES.uploads, S3_PREFIXES.reports].some((p) => m[1].startsWith(p))).toBe(true)],
  [
    /^aws s3api (?:list-object-versions|copy-object) --bucket "\$BUCKET" --(?:prefix|key) (\S+)/,
    (m, cmd) => {
      expect(m[1].startsWith(S3_PREFIXES.uploads)).toBe(true); // a copy there is an upload event: it trains
      const source = /--copy-source "\$BUCKET\/([^?"]+)/.exec(cmd);
      if (source) expect(source[1]).toBe(m[1]);
      // rolling back relies on the uploads bucket keeping object versions
      expect(Object.values(resourcesOf(template('dev'), 'AWS::S3::Bucket')).some((b) => b.Properties.VersioningConfiguration?.Status === 'Enabled')).toBe(true);
    },
  ],
  [/^aws logs tail (\S+)/, (m) => expect(names('dev', 'AWS::Logs::LogGroup', 'LogGroupName')).toContain(m[1])],
  [
    /^aws cloudwatch describe-alarms --alarm-name-prefix (\S+)/,
    (m) => {
      const alarms = names('dev', 'AWS::CloudWatch::Alarm', 'AlarmName') as string[];
      expect(alarms.filter((a) => a.startsWith(m[1])).length).toBe(alarms.length);
      for (const row of DOC.matchAll(/^\| `movierec-<stage>-(\w+)`(?: \/ `-(\w+)`)?/gm)) {
        for (const id of [row[1], row[2]].filter(Boolean)) expect(alarms).toContain(`movierec-dev-${id}`);
      }
    },
  ],
  [
    /^aws dynamodb update-table --table-name (\S+) --no-deletion-protection-enabled$/,
    (m) => expect(names('prod', 'AWS::DynamoDB::Table', 'TableName')).toContain(m[1]),
  ],
  [
    /^curl -s (.*)"\$\{API_URL\}([^"?]*)(?:\?[^"]*)?"$/,
    (m) => {
      const method = /-X (\w+)/.exec(m[1])?.[1] ?? 'GET';
      const routePath = `/${m[2]}`.replace(/\/users\/\d+\//, '/users/{userId}/');
      expect(ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`)).toContain(`${method} ${routePath}`);
      expect(m[1]).toContain('-H "x-api-key: $API_KEY"');
    },
  ],
];

const all = commands();

test('the walk-through has its steps', () => {
  for (const step of ['Bootstrap', 'Ask the doctor', 'Deploy', 'Outputs', 'Fetch the API key', 'Upload ratings', 'Call the API', 'Read alarms', 'Roll back to an older model version', 'Tear down']) {
    expect(DOC).toMatch(new RegExp(`^### \\d+\\. ${step}`, 'm'));
  }
  expect(all.length).toBeGreaterThanOrEqual(30);
});

test.each(all)('%s', (cmd) => {
  const matches = CHECKS.map(([re, check]) => [re.exec(cmd), check] as const).filter(([m]) => m);
  if (matches.length === 0) throw new Error(`No check knows this command; add one to test/infra/deploy-doc.test.ts: ${cmd}`);
  for (const [m, check] of matches) check(m!, cmd);
});

test('the cdk.json example is valid context for prod', () => {
  const json = /```json\n([\s\S]*?)```/.exec(DOC.slice(DOC.indexOf('## Settings')))![1];
  const context = (JSON.parse(json) as { context: Record<string, unknown> }).context;
  const cfg = resolveStage({ ...context, stage: 'prod' });
  expect(cfg.training.memorySize).toBe(10240);
  expect(cfg.api.keys.map((k) => k.consumer)).toEqual(['web', 'batch']);
});

test('the settings table lists exactly the settings the config accepts', async () => {
  const { CONTEXT_KEYS } = await import('../../lib/config');
  const documented = [...DOC.slice(DOC.indexOf('## Settings'), DOC.indexOf('## Quotas')).matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
  expect(documented.sort()).toEqual(Object.keys(CONTEXT_KEYS).sort());
});
