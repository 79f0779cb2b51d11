// Real esbuild bundling of the real handlers, exactly as `cdk synth` does it (the other infra tests skip
// bundling): the dev stack is synthesised with bundling on, and each function's asset is read back.
// - the API function takes the AWS SDK from the Lambda runtime and stays within issue 7's 300 KB budget,
//   without the OpenAPI generator or zod's locales;
// - the training function bundles the SDK pinned by package-lock.json.
// See docs/DEPLOY.md ("Bundle") for the reasoning and the measured sizes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../../lib/stack';

/** Issue 7: "API bundle ≤ 300 KB minified" (bytes of index.js, source map not counted). */
const API_BUNDLE_LIMIT = 300 * 1000;

interface Asset {
  files: string[];
  code: string;
}

let outdir: string;
const assets: Record<'api' | 'train', Asset> = {} as never;

beforeAll(() => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'movierec-bundle-'));
  const app = new App({ outdir, context: { stage: 'dev' } }); // no 'aws:cdk:bundling-stacks': bundle everything
  const stack = buildApp(app, { nag: false });
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, { Type: string; Properties: { FunctionName?: string; Code?: { S3Key?: string } } }>;
  };
  for (const name of ['api', 'train'] as const) {
    const fn = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === `movierec-dev-${name}`,
    );
    if (!fn?.Properties.Code?.S3Key) throw new Error(`no bundled asset for movierec-dev-${name}`);
    const dir = path.join(outdir, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
    assets[name] = { files: fs.readdirSync(dir).sort(), code: fs.readFileSync(path.join(dir, 'index.js'), 'utf8') };
  }
});
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

/** Module names the bundle loads with a real require call (prose inside the SDK mentions "[require(...)]"). */
const requiredSdkModules = (code: string) =>
  [...new Set([...code.matchAll(/[=(,;]require\(["'](@(?:aws-sdk|smithy)\/[^"']*)["']\)/g)].map((m) => m[1]))].sort();

test.each(['api', 'train'] as const)('the %s asset is one minified index.js with its source map', (name) => {
  const { files, code } = assets[name];
  expect(files).toEqual(['index.js', 'index.js.map']);
  expect(/\/\/# sourceMappingURL=index\.js\.map\s*$/.test(code)).toBe(true);
  // unminified esbuild output has a line every ~40 bytes; minified lines only break inside template literals
  expect(code.split('\n').length).toBeLessThan(code.length / 1000);
});

test(`the API bundle is at most ${API_BUNDLE_LIMIT / 1000} KB minified`, () => {
  const size = Buffer.byteLength(assets.api.code);
  if (size > API_BUNDLE_LIMIT) {
    throw new Error(
      `API bundle is ${(size / 1000).toFixed(1)} KB, over the ${API_BUNDLE_LIMIT / 1000} KB budget of issue 7; ` +
        'check for a heavy import (`import { z } from "zod"`, the OpenAPI generator, the bundled SDK).',
    );
  }
  expect(size).toBeLessThanOrEqual(API_BUNDLE_LIMIT);
});

test('the API function takes DynamoDB from the runtime SDK and never loads S3', () => {
  // exactly the SDK modules the API uses, required at load from the runtime's copy (util-dynamodb: Powertools'
  // idempotency persistence layer marshals its records with it)
  expect(requiredSdkModules(assets.api.code)).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/util-dynamodb']);
  expect(assets.api.code.includes('DescribeTable')).toBe(false); // no SDK command code inside
});

test('the API bundle has neither the OpenAPI generator nor zod locales (it serves the committed openapi.json)', () => {
  const { code } = assets.api;
  expect(code.includes('Enum has mixed string and number values')).toBe(false); // a zod-to-openapi message
  // zod's German locale ("Ungültige Eingabe: erwartet …"), kept alive by `import { z }`; esbuild escapes the ü
  expect(code.includes('ltige Eingabe: erwartet')).toBe(false);
  expect(code.includes('Movie recommendations from K-means user clusters')).toBe(true); // openapi.json's description
});

test('the training function bundles the SDK pinned by package-lock.json', () => {
  const { code } = assets.train;
  expect(requiredSdkModules(code)).toEqual([]);
  expect(code.includes('GetObject')).toBe(true); // S3 command code is inside
  expect(code.length).toBeGreaterThan(500_000); // an external SDK would leave ~200 KB (docs/DEPLOY.md)
});
