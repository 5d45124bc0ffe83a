import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['{src,s3,mesh,accounts,conformance,scripts}/**/*.test.ts'],
    setupFiles: [fileURLToPath(new URL('./src/core/polyfill.ts', import.meta.url))],
    // DATAMESH_TEST_CATALOG=postgres: a throwaway PostgreSQL for the run (the catalog tests' switch)
    globalSetup: [fileURLToPath(new URL('./src/core/sql/testing/pg-global-setup.ts', import.meta.url))],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
