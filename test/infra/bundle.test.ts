// Real esbuild bundling through MovierecFunction (the other infra tests skip bundling): a probe handler
// that uses the AWS SDK becomes one minified index.js with its source map, bundled by the local esbuild
// (no Docker), with the SDK inside. The real handlers are bundled by `cdk synth` in .ci/run.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { STAGE_CONFIG } from '../../lib/config';
import { MovierecFunction } from '../../lib/function';

let outdir: string;
let files: string[];
let code: string;

beforeAll(() => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'movierec-bundle-'));
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
  const dir = path.join(outdir, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
  files = fs.readdirSync(dir).sort();
  code = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
});
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

test('the asset is one minified index.js with its source map', () => {
  expect(files).toEqual(['index.js', 'index.js.map']);
  expect(/\/\/# sourceMappingURL=index\.js\.map\s*$/.test(code)).toBe(true);
  // unminified esbuild output has a line every ~40 bytes; minified lines only break inside template literals
  expect(code.split('\n').length).toBeLessThan(code.length / 1000);
});

test('the AWS SDK is bundled (pinned by package-lock.json), not required from the Lambda runtime', () => {
  // a real require call (error messages inside the SDK mention "[require(...)]" in prose)
  expect(code.match(/[=(,;]require\(["']@(aws-sdk|smithy)\/[^"']*/g)).toBeNull();
  expect(code.includes('DescribeTable')).toBe(true); // the command's code is inside
  expect(code.length).toBeGreaterThan(100_000); // an external SDK would leave a few hundred bytes
});
