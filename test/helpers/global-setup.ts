/**
 * Once per test run: the CLI keeps caches (pull content, put indexes) under $DATACTL_CACHE_DIR, so
 * the run gets a throwaway one, never the developer's ~/.cache, removed when the run ends. Tests
 * that need their own set it explicitly. A DATACTL_CACHE_DIR set by the caller is left alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): (() => void) | undefined {
  if (process.env.DATACTL_CACHE_DIR) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'datactl-test-cache-'));
  process.env.DATACTL_CACHE_DIR = dir; // inherited by the forked test workers
  return () => rmSync(dir, { recursive: true, force: true });
}
