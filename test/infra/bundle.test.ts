// Real esbuild bundling (the other infra tests skip it): each function's asset is one minified
// index.js with its source map, and the AWS SDK is inside the bundle, not required from the runtime
// (proved on a fixture handler that uses the SDK, so the test does not depend on the real handlers).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { App, Stack } from 'aws-cdk-lib';
import { STAGE_CONFIG } from '../../lib/config';
import { MovierecFunction } from '../../lib/function';
import { buildApp } from '../../lib/stack';

let outdir: string;
beforeAll(() => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'movierec-bundle-'));
});
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

test('both functions bundle locally with esbuild (no Docker): minified index.js + source map', () => {
  const app = new App({ outdir, context: { stage: 'dev' } });
  buildApp(app, { nag: false });
  const assembly = app.synth();
  const template = assembly.getStackByName('movierec-dev').template as { Resources: Record<string, any> };
  const functions = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::Lambda::Function' && /^movierec-dev-(train|api)$/.test(r.Properties.FunctionName ?? ''),
  );
  expect(functions).toHaveLength(2);
  for (const fn of functions) {
    const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    const dir = path.join(outdir, `asset.${hash}`);
    expect(fs.readdirSync(dir).sort()).toEqual(['index.js', 'index.js.map']);
    const code = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
    expect(/\/\/# sourceMappingURL=index\.js\.map\s*$/.test(code)).toBe(true);
    // minified: unminified esbuild output has a line every ~40 bytes; minified lines only break
    // inside template literals
    const lines = code.split('\n').length;
    expect(lines).toBeLessThan(Math.max(5, code.length / 1000));
  }
});

test('the AWS SDK is bundled (pinned by package-lock.json), not required from the Lambda runtime', () => {
  const app = new App({ outdir });
  const stack = new Stack(app, 'SdkProbe');
  const probe = new MovierecFunction(stack, 'Probe', {
    config: STAGE_CONFIG.dev,
    name: 'probe',
    entry: 'test/infra/fixtures/sdk-entry.ts',
    description: 'bundling probe',
    sizing: STAGE_CONFIG.dev.api,
  });
  const assembly = app.synth();
  const fn = assembly.getStackByName('SdkProbe').template.Resources[stack.getLogicalId(probe.fn.node.defaultChild as never)];
  const code = fs.readFileSync(path.join(outdir, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`, 'index.js'), 'utf8');
  // a real require call (error messages inside the SDK mention "[require(...)]" in prose)
  expect(code.match(/[=(,;]require\(["']@(aws-sdk|smithy)\/[^"']*/g)).toBeNull();
  expect(code.includes('DescribeTable')).toBe(true); // the command's code is inside
  expect(code.length).toBeGreaterThan(100_000); // an external SDK would leave a few hundred bytes
});
