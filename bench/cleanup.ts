/**
 * Everything the bench starts (servers, tool processes, temp stores) registers an undo here, so
 * an error, Ctrl-C or SIGTERM leaves no server listening and no multi-GB temp store behind.
 * Undos run newest first: a server stops before its data dir is removed.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';

type Undo = () => Promise<void>;

const undos = new Map<number, { what: string; undo: Undo }>();
let nextId = 0;
let installed = false;

/** Register an undo; call the returned function once the thing is gone by normal means. */
export function track(what: string, undo: Undo): () => void {
  installSignalHandlers();
  const id = nextId++;
  undos.set(id, { what, undo });
  return () => void undos.delete(id);
}

/** Run every pending undo (newest first), reporting but not stopping on failures. */
export async function cleanupAll(): Promise<void> {
  const pending = [...undos.entries()].reverse();
  undos.clear();
  for (const [, { what, undo }] of pending) {
    await undo().catch((err: unknown) => process.stderr.write(`bench: cleanup of ${what} failed: ${String(err)}\n`));
  }
}

function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up...\n`);
      void cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

const execFileP = promisify(execFile);

/**
 * `rm -rf`: Node's recursive rm starts one removal per entry at once, and the trash of a full run
 * (millions of files) took the bench process past 4 GB of memory; coreutils walks it in constant
 * memory. Node's is the fallback where there is no `rm`.
 */
export async function removeTree(path: string): Promise<void> {
  await execFileP('rm', ['-rf', '--', path]).catch(() => rm(path, { recursive: true, force: true }));
}
