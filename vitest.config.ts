import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A throwaway $DATACTL_CACHE_DIR for the run, removed at its end.
    globalSetup: ['test/helpers/global-setup.ts'],
    // Native addons (LevelDB, BLAKE3) and child processes are happiest in forked workers.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // CI reads the JSON report for its "N passed, N failed" line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
  },
});
