import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// The CLI keeps caches (pull content, put indexes) under $DATACTL_CACHE_DIR: one throwaway dir per
// test run, never the developer's ~/.cache. Tests that need their own set it explicitly.
process.env.DATACTL_CACHE_DIR ??= mkdtempSync(join(tmpdir(), 'datactl-test-cache-'));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons (LevelDB, BLAKE3) and child processes are happiest in forked workers.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // CI reads the JSON report for its "N passed, N failed" line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
  },
});
