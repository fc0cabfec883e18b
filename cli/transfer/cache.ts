/**
 * The local content cache of `datactl pull`: whole files keyed by their content hash (BLAKE3, as
 * `b3sum` prints it), at `<cache>/files/<2 hex>/<hash>`. Entries are only ever used through a
 * copy that is re-hashed before it is put in place (local hashing runs at GB/s, and it turns a
 * corrupted or tampered entry into a re-download instead of wrong data). Files are copied, not
 * hard-linked, so editing a pulled file can never change the cache; on file systems with reflinks
 * (btrfs, XFS, APFS) the copy shares blocks and costs no space.
 */
import { constants, createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { Blake3Stream } from '../../src/hash/blake3.js';
import { tempPathFor } from './sinks.js';

/** `$DATACTL_CACHE_DIR`, else `$XDG_CACHE_HOME/datactl`, else `~/.cache/datactl`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['DATACTL_CACHE_DIR']) return env['DATACTL_CACHE_DIR'];
  if (env['XDG_CACHE_HOME']) return join(env['XDG_CACHE_HOME'], 'datactl');
  return join(os.homedir(), '.cache', 'datactl');
}

/** Size and BLAKE3 of a local file, streamed. */
export async function hashFile(path: string): Promise<{ size: number; hash: string }> {
  const hasher = new Blake3Stream();
  let size = 0;
  for await (const part of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hasher.update(part);
    size += part.length;
  }
  return { size, hash: hasher.digestHex() };
}

export type RestoreOutcome = 'restored' | 'missing' | 'corrupt';

export class ContentCache {
  constructor(readonly dir: string) {}

  pathFor(hash: string): string {
    return join(this.dir, 'files', hash.slice(0, 2), hash);
  }

  /**
   * Put the cached content `hash` at `target` (temp -> verify -> rename). 'corrupt' means the
   * entry did not match its name; it has been deleted and the caller should download.
   */
  async restore(content: { hash: string; size: number }, target: string): Promise<RestoreOutcome> {
    const cached = this.pathFor(content.hash);
    const info = await stat(cached).catch(() => undefined);
    if (!info?.isFile()) return 'missing';
    if (info.size !== content.size) return this.evict(cached);
    await mkdir(dirname(target), { recursive: true });
    const temp = tempPathFor(target);
    try {
      await copyFile(cached, temp, constants.COPYFILE_FICLONE);
      const copy = await hashFile(temp);
      if (copy.size !== content.size || copy.hash !== content.hash) {
        await unlink(temp);
        return this.evict(cached);
      }
      await rename(temp, target);
      return 'restored';
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }

  /** Add a verified local file under `hash` (no-op when present). Throws on I/O errors. */
  async add(hash: string, source: string): Promise<void> {
    const cached = this.pathFor(hash);
    if (await stat(cached).then(() => true, () => false)) return;
    await mkdir(dirname(cached), { recursive: true });
    const temp = tempPathFor(cached);
    try {
      await copyFile(source, temp, constants.COPYFILE_FICLONE);
      await rename(temp, cached);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }

  private async evict(cached: string): Promise<'corrupt'> {
    await unlink(cached).catch(() => undefined);
    return 'corrupt';
  }
}
