// Section 4: cold start. Each Lambda entry is bundled as the CDK stack bundles it (lib/function.ts:
// NodejsFunction with minify, source maps without sources content, target node24, AWS SDK bundled, cjs),
// then fresh Node processes load the bundle and answer one event, interleaved with a minimal handler's.
import { mkdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ENV } from '../../functions/shared/resources';
import { apiEvent } from '../../test/unit/handlers-fakes';
import { DATA_DIR } from './datasets';
import { lastJson, ROOT, run } from './proc';
import { median } from './stats';

/** An entry constant of the CDK stack (e.g. API_ENTRY in lib/api.ts), read from the source so that this
 * script follows the stack without loading aws-cdk-lib. */
export function stackEntry(file: string, name: string): string {
  const src = readFileSync(path.join(ROOT, file), 'utf8');
  const m = new RegExp(`export const ${name} = '([^']+)'`).exec(src);
  if (!m) throw new Error(`${file} no longer declares ${name} = '...'; update bench/lib/coldstart.ts`);
  return m[1];
}

/** Where a function's AWS SDK comes from, as its construct in lib/ declares it (`awsSdk: 'runtime' | 'bundled'`):
 * the deployed bundle leaves `@aws-sdk/*` external when the Lambda runtime provides it. */
export function stackSdk(file: string): 'runtime' | 'bundled' {
  const m = /awsSdk: '(runtime|bundled)'/.exec(readFileSync(path.join(ROOT, file), 'utf8'));
  if (!m) throw new Error(`${file} no longer declares awsSdk: 'runtime' | 'bundled'; update bench/lib/coldstart.ts`);
  return m[1] as 'runtime' | 'bundled';
}

export interface Bundle {
  name: string;
  entry: string;
  file: string;
  bytes: number;
  gzipBytes: number;
  event: unknown;
  eventNote: string;
  /** the biggest contributors to the minified output: package (or source folder) → bytes */
  topInputs: Array<[string, number]>;
  /** minified size with the other SDK choice (bundled when deployed with the runtime's SDK, else external), for comparison */
  sdkExternalBytes: number;
  /** the deployed choice (lib/): 'runtime' = SDK external, as measured in `bytes` and the cold start */
  sdk: 'runtime' | 'bundled' | 'none';
}

export interface ColdRow {
  name: string;
  entry: string;
  bytes: number;
  gzipBytes: number;
  eventNote: string;
  topInputs: Array<[string, number]>;
  sdkExternalBytes: number;
  sdk: Bundle['sdk'];
  runs: number;
  /** medians, ms */
  bootMs: number;
  requireMs: number;
  firstMs: number;
  totalMs: number;
  totalP25: number;
  totalP75: number;
  status: string;
}

/** The esbuild options NodejsFunction derives from lib/function.ts's `bundling` block. */
export function cdkLikeOptions(entry: string, outfile: string): Record<string, unknown> {
  return {
    entryPoints: [path.join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'warning',
  };
}

interface Metafile {
  outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
}

/** Output bytes grouped by npm package (node_modules/<pkg> or <@scope/pkg>) or, for our code, its top folder. */
export function topInputs(meta: Metafile, n = 5): Array<[string, number]> {
  const by = new Map<string, number>();
  for (const [file, o] of Object.entries(meta.outputs)) {
    if (file.endsWith('.map')) continue;
    for (const [input, { bytesInOutput }] of Object.entries(o.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const group = m ? (m[1].startsWith('@aws-sdk/') || m[1].startsWith('@smithy/') || m[1].startsWith('@aws-crypto/') ? '@aws-sdk + @smithy' : m[1]) : input.split('/').slice(0, 2).join('/');
      by.set(group, (by.get(group) ?? 0) + bytesInOutput);
    }
  }
  return [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
}

export async function buildBundles(knownUser: number): Promise<Bundle[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as { build(o: Record<string, unknown>): Promise<{ metafile: Metafile }> };
  const dir = path.join(DATA_DIR, 'bundles');
  mkdirSync(dir, { recursive: true });
  const specs = [
    {
      name: 'api',
      entry: stackEntry('lib/api.ts', 'API_ENTRY'),
      sdk: stackSdk('lib/api.ts'),
      event: apiEvent('GET', `/users/${knownUser}/recommendations`),
      eventNote: `GET /users/${knownUser}/recommendations (reads dynalite)`,
    },
    {
      name: 'train',
      entry: stackEntry('lib/training.ts', 'TRAIN_ENTRY'),
      sdk: stackSdk('lib/training.ts'),
      event: { Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'elsewhere/x.csv', size: 1 } } }] },
      eventNote: 'S3 event outside uploads/ (ignored: load + dispatch only)',
    },
    { name: 'minimal', entry: 'bench/lib/minimal-handler.ts', sdk: 'none' as const, event: {}, eventNote: 'returns 200 at once' },
  ];
  const out: Bundle[] = [];
  for (const s of specs) {
    const file = path.join(dir, s.name, 'index.js');
    // the deployed bundle: the runtime's SDK stays external (resolved from node_modules here, as the runtime provides it)
    const deployed = s.sdk === 'runtime' ? { external: ['@aws-sdk/*'] } : {};
    const { metafile } = await esbuild.build({ ...cdkLikeOptions(s.entry, file), ...deployed, metafile: true });
    const bytes = statSync(file).size;
    // for comparison, the other choice: SDK external when it is deployed bundled, and vice versa
    const extFile = path.join(dir, `${s.name}-sdk-other`, 'index.js');
    await esbuild.build({ ...cdkLikeOptions(s.entry, extFile), ...(s.sdk === 'runtime' ? {} : { external: ['@aws-sdk/*'] }) });
    const sdkExternalBytes = statSync(extFile).size;
    out.push({ ...s, file, bytes, gzipBytes: gzipSync(readFileSync(file)).length, topInputs: topInputs(metafile), sdkExternalBytes });
  }
  return out;
}

interface ColdSample {
  bootMs: number;
  requireMs: number;
  firstMs: number;
  totalMs: number;
  status: number | string;
}

export async function benchColdStart(bundles: Bundle[], rounds: number, dynamoEndpoint: string, stage: string): Promise<ColdRow[]> {
  const env = {
    ...process.env,
    [ENV.stage]: stage,
    [ENV.dynamoEndpoint]: dynamoEndpoint,
    AWS_REGION: 'us-east-1',
    NODE_OPTIONS: '--enable-source-maps', // as lib/function.ts sets it in Lambda
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const samples = new Map<string, ColdSample[]>(bundles.map((b) => [b.name, []]));
  const events = new Map<string, string>();
  for (const b of bundles) {
    const f = path.join(path.dirname(b.file), 'event.json');
    writeFileSync(f, JSON.stringify(b.event));
    events.set(b.name, f);
  }
  for (let r = 0; r < rounds; r++) {
    for (const b of bundles) {
      const { stdout } = await run(process.execPath, [path.join(ROOT, 'bench', 'lib', 'cold-child.js'), b.file, events.get(b.name)!], { env });
      samples.get(b.name)!.push(lastJson<ColdSample>(stdout));
    }
  }
  return bundles.map((b) => {
    const s = samples.get(b.name)!;
    const totals = s.map((x) => x.totalMs).sort((x, y) => x - y);
    return {
      name: b.name,
      entry: b.entry,
      bytes: b.bytes,
      gzipBytes: b.gzipBytes,
      eventNote: b.eventNote,
      topInputs: b.topInputs,
      sdkExternalBytes: b.sdkExternalBytes,
      sdk: b.sdk,
      runs: s.length,
      bootMs: median(s.map((x) => x.bootMs)),
      requireMs: median(s.map((x) => x.requireMs)),
      firstMs: median(s.map((x) => x.firstMs)),
      totalMs: median(totals),
      totalP25: totals[Math.floor((totals.length - 1) / 4)],
      totalP75: totals[Math.ceil(((totals.length - 1) * 3) / 4)],
      status: [...new Set(s.map((x) => String(x.status)))].join('/'),
    };
  });
}
