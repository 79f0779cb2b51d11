/** Unit tests (pure core, handlers with fakes), integration tests (real SDK against dynalite/s3rver),
 * infra tests (CDK Template assertions + cdk-nag). `npm test` runs all three. */
const common = {
  testEnvironment: 'node',
  transform: { '\\.[jt]s$': '<rootDir>/test/esbuild-jest-transform.js' },
  transformIgnorePatterns: ['/node_modules/(?!(ml-[^/]+|is-any-array|@middy)/)'],
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
