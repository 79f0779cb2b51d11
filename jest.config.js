/** Unit tests (pure core, handlers with fakes), integration tests (real SDK against dynalite/s3rver),
 * infra tests (CDK Template assertions + cdk-nag). `npm test` runs all three. */
const common = {
  testEnvironment: 'node',
  transform: { '\\.[jt]s$': '<rootDir>/test/esbuild-jest-transform.js' },
  // ESM-only packages to transform: ml-kmeans, middy, and vega/vega-lite (elbow chart) with their deps
  transformIgnorePatterns: [
    '/node_modules/(?!(ml-[^/]+|is-any-array|@middy|vega[^/]*|d3-[^/]+|internmap|delaunator|robust-predicates|json-stringify-pretty-compact)/)',
  ],
  // d3's package entry is an .mjs file, which jest always treats as native ESM: use its UMD build
  // and vega-canvas's browser build (its node build has a top-level await, which CommonJS cannot hold;
  // the chart renders with renderer 'none', no canvas needed)
  moduleNameMapper: {
    '^(d3-[a-z-]+)$': '<rootDir>/node_modules/$1/dist/$1.js',
    '^vega-canvas$': '<rootDir>/node_modules/vega-canvas/build/vega-canvas.browser.js',
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
module.exports = {
  testTimeout: 120000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
  ],
};
