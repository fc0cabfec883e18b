/**
 * Before a scenario of 100k small files, make sure the file system creates files at its usual
 * speed, and wait until it does.
 *
 * ext4 without a journal (this machine's disk) does not hand out an inode freed in the last 60 s
 * (5 minutes more while its inode table block is unwritten): each allocation probes past every such
 * inode in the group, so creating many files soon after many were deleted is an order of magnitude
 * slower, for every tool alike, and creating files dirties those inode table blocks again.
 * Measured here, creating 10k files after deleting 100k and a sync: 2.53 s at once, 2.08 s a
 * minute later, 0.34-0.98 s two to five minutes later, 0.21 s after six. A deletion just before a
 * bench (the leftovers of an earlier run, a test suite's temp trees) then showed up as datactl's
 * 100k-file get taking 8.19 s in the first run against 2.49 s in the third, and `cp -r` 3.47
 * against 1.57 s.
 *
 * The probe creates PROBE_DIRS x PROBE_FILES empty files (directories spread over the file
 * system's groups as an output tree's do) and keeps them: deleting them would free inodes of its
 * own. Slower than SLOW_US per file, the disk is flushed and the probe repeats after a pause,
 * for at most MAX_WAIT_MS; then the scenario runs anyway, and the report says so. A file system
 * still slow after a whole wait is taken to be slow by nature (a network mount, say): later probes
 * of the same bench only measure, so it waits once, not before every run. Tried after
 * deleting 100k files: the probe read 93 us per file, waited 363 s until it read 8, and `cp -r` of
 * the 100k-file tree then took 2.01 s.
 */
import { execFile } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const PROBE_DIRS = 20;
const PROBE_FILES = 100;
/** A quiet disk here: ~8 us per empty file; 68 just after deleting 100k files (when cp -r of 10k took 2-2.5 s against 0.2). */
const SLOW_US = 30;
const PAUSE_MS = 20_000;
const MAX_WAIT_MS = 7 * 60_000;

const execFileP = promisify(execFile);

export interface CreateProbe {
  /** Microseconds per file created, first probe and last. */
  firstUs: number;
  lastUs: number;
  /** How long the scenario waited for the file system. */
  waitedMs: number;
  /** Slower than SLOW_US at the end: the wait ran out, or there was none (slow by nature). */
  slow: boolean;
}

/** A wait ran out with the file system still slow: it is slow by nature, and later probes do not wait. */
let slowByNature = false;

export async function waitForFastCreates(dir: string, log: (message: string) => void): Promise<CreateProbe> {
  const firstUs = createUs(dir);
  if (firstUs <= SLOW_US || slowByNature) return { firstUs, lastUs: firstUs, waitedMs: 0, slow: firstUs > SLOW_US };
  log(`creating files takes ${firstUs.toFixed(0)} us each (~8 on a quiet disk here): waiting for inodes freed recently to age (see bench/create-probe.ts)`);
  const started = Date.now();
  let lastUs = firstUs;
  while (lastUs > SLOW_US && Date.now() - started < MAX_WAIT_MS) {
    await execFileP('sync').catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    lastUs = createUs(dir);
  }
  const waitedMs = Date.now() - started;
  slowByNature = lastUs > SLOW_US;
  log(`creating files takes ${lastUs.toFixed(0)} us each after waiting ${(waitedMs / 1000).toFixed(0)} s${lastUs > SLOW_US ? ': measuring anyway' : ''}`);
  return { firstUs, lastUs, waitedMs, slow: lastUs > SLOW_US };
}

/** Create the probe's files (synchronously: the timing is of the file system, not of an event loop); us per file. */
function createUs(dir: string): number {
  mkdirSync(dir, { recursive: true });
  const root = mkdtempSync(join(dir, 'create-probe-'));
  const t0 = performance.now();
  for (let d = 0; d < PROBE_DIRS; d++) {
    const sub = join(root, String(d));
    mkdirSync(sub);
    for (let f = 0; f < PROBE_FILES; f++) closeSync(openSync(join(sub, String(f)), 'wx'));
  }
  return ((performance.now() - t0) * 1000) / (PROBE_DIRS * PROBE_FILES);
}
