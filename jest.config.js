/** Two projects: unit specs beside the code (pure logic), e2e specs under test/ (real Postgres, Redis, server). */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
module.exports = {
  testTimeout: 60000,
  // Safety net: every test file closes its apps and clients (each file exits cleanly on its
  // own), but a full in-band run of ~45 files has been seen to leave one handle behind;
  // CI must never hang on that. Run with --detectOpenHandles to investigate.
  forceExit: true,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
      // @fastify/static 10 (used by @bull-board/fastify) requires the ESM-only content-disposition 3;
      // Node >= 20.19 loads it natively but Jest's CommonJS runtime cannot. Only its download()
      // uses it, never called here: the CommonJS copy at the top level stands in under Jest.
      moduleNameMapper: { '^content-disposition$': '<rootDir>/node_modules/content-disposition' },
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
    },
  ],
};
