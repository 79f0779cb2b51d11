// `functions/` holds what is deployed to Lambda and nothing else: every file under it is an input of at
// least one Lambda bundle. The entries are the ones the stacks of both stages really declare, bundled with
// esbuild as NodejsFunction does; a file no bundle reaches (a CLI helper, a build script, a local-only
// adapter) belongs in bin/, local/, offline/, tools/ or bench/ instead.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync, transformSync } from 'esbuild';
import { MovierecFunction, PROJECT_ROOT } from '../../lib/function';
import { build, cleanup } from './helpers';

afterAll(cleanup);

function filesUnder(dir: string): string[] {
  return fs.readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((d) => {
    const rel = path.posix.join(dir, d.name);
    return d.isDirectory() ? filesUnder(rel) : [rel];
  });
}

const entries = [
  ...new Set(
    ['dev', 'prod'].flatMap((stage) =>
      build(stage, { nag: false })
        .app.node.findAll()
        .filter((c): c is MovierecFunction => c instanceof MovierecFunction)
        .map((f) => f.entry),
    ),
  ),
].sort();

/** Every source file esbuild reads for this entry (the metafile's inputs), relative to the root. */
function bundleInputs(entry: string): string[] {
  const result = buildSync({
    entryPoints: [path.join(PROJECT_ROOT, entry)],
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: 'node',
    target: 'node24',
    write: false,
    metafile: true,
    outfile: 'index.js',
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

test('the stacks declare the training and API functions', () => {
  expect(entries).toEqual(expect.arrayContaining(['functions/handlers/api.ts', 'functions/handlers/train.ts']));
});

const source = (file: string) => fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8');

/** Files a module imports by relative path (type-only imports included: esbuild erases those). */
function relativeImports(file: string): string[] {
  return [...source(file).matchAll(/from '(\.[^']+)'/g)].flatMap(([, spec]) => {
    const base = path.posix.join(path.posix.dirname(file), spec);
    return [`${base}.ts`, `${base}/index.ts`].filter((f) => fs.existsSync(path.join(PROJECT_ROOT, f)));
  });
}

test('every file under functions/ is part of at least one Lambda bundle', () => {
  const bundled = new Set(entries.flatMap(bundleInputs));
  // a module of types only (the ports) compiles to nothing, so no bundle lists it: it counts when a bundled
  // file imports it
  const typesOnly = (f: string) => f.endsWith('.ts') && transformSync(source(f), { loader: 'ts' }).code.trim() === '';
  const typeImports = new Set([...bundled].filter((f) => f.startsWith('functions/')).flatMap(relativeImports));
  const stray = filesUnder('functions').filter((f) => !bundled.has(f) && !(typesOnly(f) && typeImports.has(f)));
  expect(stray).toEqual([]);
});
