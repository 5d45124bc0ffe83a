import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['{src,s3,mesh,accounts,conformance,scripts}/**/*.test.ts'],
    setupFiles: [fileURLToPath(new URL('./src/core/polyfill.ts', import.meta.url))],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
