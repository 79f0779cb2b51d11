// Jest transform: esbuild turns TypeScript and ESM-only packages (ml-kmeans, @middy/*) into CommonJS.
// It does not type-check; `npm run typecheck` (tsc --noEmit) does, and .ci/run runs both.
const { transformSync } = require('esbuild');

module.exports = {
  process(source, filename) {
    const loader = filename.endsWith('.ts') ? 'ts' : 'js';
    const { code, map } = transformSync(source, {
      loader,
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      sourcefile: filename,
      supported: { 'dynamic-import': false },
    });
    return { code, map };
  },
};
