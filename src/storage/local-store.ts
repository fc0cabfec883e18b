import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DatactlError, fail, isNoSpace } from '../errors.js';
import { directWritable, writeDirect } from './direct-io.js';
import type { ObjectStore, StagedObject } from './object-store.js';

const KEY_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const TMP_DIR = 'tmp';
/** Temp files older than this are leftovers of a crashed put; younger ones may belong to a live put. */
const STALE_TMP_MS = 60 * 60 * 1000;
const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

/**
 * Throw E_BAD_REQUEST unless `key` is a relative '/'-separated key from [A-Za-z0-9._-] with no
 * empty, '.' or '..' segments. Every adapter applies the same rule so keys behave alike everywhere.
 */
export function assertObjectKey(key: string): void {
  const ok = KEY_PATTERN.test(key) && !key.split('/').some((s) => s === '.' || s === '..');
  if (!ok) throw fail('E_BAD_REQUEST', `invalid object key ${JSON.stringify(key)}`, { key });
}

/** Throw E_BAD_REQUEST unless offset and length are non-negative safe integers. */
export function assertRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw fail('E_BAD_REQUEST', `invalid byte range: offset ${offset}, length ${length}`);
  }
}

/**
 * Objects as files under one root directory; a key maps to the same relative path (keys carry
 * their own fan-out, e.g. `packs/ab/abcdef...`). `<root>/tmp/` holds in-flight writes and is
 * reserved: keys under `tmp/` are rejected and never listed.
 */
export class LocalObjectStore implements ObjectStore {
  readonly description: string;
  private readonly root: string;
  private ready: Promise<void> | undefined;
  /** Whether to try O_DIRECT for aligned bodies (direct-io.ts); turned off once the filesystem refuses it. */
  private directIo: boolean;

  constructor(rootDir: string, opts: { directIo?: boolean } = {}) {
    this.root = path.resolve(rootDir);
    this.description = pathToFileURL(this.root).href;
    this.directIo = opts.directIo ?? true;
  }

  /**
   * Create the root and tmp/ and remove stale temp files; called lazily by every method that
   * writes. Reads do without: a store being checked against the metadata (store-match.ts) and
   * refused is left as it was, not created at a mistyped path.
   */
  init(): Promise<void> {
    this.ready ??= this.prepare().catch((err: unknown) => {
      this.ready = undefined; // let a later call retry, e.g. once the disk is mounted
      throw this.translate(err, 'open');
    });
    return this.ready;
  }

  async put(key: string, body: readonly Uint8Array[]): Promise<void> {
    await (await this.stage(key, body)).publish();
  }

  /**
   * Writes the bytes to a temp file; `publish` fsyncs it, renames it into place and fsyncs the
   * directories. Split so that an upload can be answered once its bytes are written while the
   * flush (~15-90 ms per pack on the disks measured) overlaps the next request.
   */
  async stage(key: string, body: readonly Uint8Array[]): Promise<StagedObject> {
    const file = this.pathOf(key);
    await this.init();
    // Write-once: content-addressed keys never change, so an existing object is already right.
    if (await this.exists(file)) return { publish: async () => {}, discard: async () => {} };
    const tmp = this.tmpPath();
    const discard = () => fs.rm(tmp, { force: true }).catch(() => undefined);
    try {
      await this.write(tmp, body);
    } catch (err) {
      await discard();
      throw this.translate(err, `put ${key}`);
    }
    return {
      publish: async () => {
        try {
          await syncFile(tmp);
          const created = await fs.mkdir(path.dirname(file), { recursive: true });
          await fs.rename(tmp, file);
          await syncDirs(this.dirsToSync(file, created));
        } catch (err) {
          await discard();
          throw this.translate(err, `put ${key}`);
        }
      },
      discard,
    };
  }

  async getRange(key: string, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    const file = this.pathOf(key);
    assertRange(offset, length);
    let fh: FileHandle | undefined;
    try {
      fh = await fs.open(file, 'r');
      const buf = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
      const got = await readFully(fh, buf, offset);
      if (got < length || (length === 0 && (await fh.stat()).size < offset)) {
        throw fail('E_CORRUPT_OBJECT', `object ${key} is shorter than ${offset + length} bytes`, { key });
      }
      return buf;
    } catch (err) {
      throw this.translate(err, `read ${key}`, key);
    } finally {
      await fh?.close();
    }
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    const file = this.pathOf(key);
    try {
      const st = await fs.stat(file);
      return st.isFile() ? { size: st.size } : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.translate(err, `stat ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    await this.init();
    try {
      await fs.unlink(file);
    } catch (err) {
      if (!isNotFound(err)) throw this.translate(err, `delete ${key}`);
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    const dirKey = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    if (dirKey !== '') assertObjectKey(dirKey);
    for await (const key of this.walk(dirKey)) {
      if (key.startsWith(prefix)) yield key;
    }
  }

  async check(): Promise<void> {
    await this.init();
    const probe = this.tmpPath();
    const text = `datactl probe ${path.basename(probe)}`;
    try {
      await fs.writeFile(probe, text);
      if ((await fs.readFile(probe, 'utf8')) !== text) throw new Error('probe read back different bytes');
    } catch (err) {
      throw fail('E_STORE_UNAVAILABLE', `object store ${this.description} failed its probe: ${describe(err)}`);
    } finally {
      await fs.rm(probe, { force: true });
    }
  }

  async close(): Promise<void> {}

  private async prepare(): Promise<void> {
    const tmpDir = path.join(this.root, TMP_DIR);
    await fs.mkdir(tmpDir, { recursive: true });
    const cutoff = Date.now() - STALE_TMP_MS;
    for (const name of await fs.readdir(tmpDir)) {
      const file = path.join(tmpDir, name);
      const st = await fs.lstat(file).catch(() => undefined);
      if (st && st.mtimeMs < cutoff) await fs.rm(file, { recursive: true, force: true });
    }
  }

  /** Yield every key in the directory `dirKey` ('' = root) and below, skipping the reserved tmp/. */
  private async *walk(dirKey: string): AsyncGenerator<string> {
    let entries;
    try {
      entries = await fs.readdir(dirKey === '' ? this.root : this.pathOf(dirKey), { withFileTypes: true });
    } catch (err) {
      if (isNotFound(err)) return;
      throw this.translate(err, `list ${dirKey}`);
    }
    for (const entry of entries) {
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (key === TMP_DIR) continue;
      if (entry.isDirectory()) yield* this.walk(key);
      else if (entry.isFile()) yield key;
    }
  }

  private pathOf(key: string): string {
    assertObjectKey(key);
    if (key === TMP_DIR || key.startsWith(`${TMP_DIR}/`)) {
      throw fail('E_BAD_REQUEST', `object key ${JSON.stringify(key)} is under the reserved tmp/`, { key });
    }
    return path.join(this.root, ...key.split('/'));
  }

  /** Write a new file: a pack buffer with O_DIRECT where the filesystem takes it, else through the page cache. */
  private async write(file: string, body: readonly Uint8Array[]): Promise<void> {
    if (this.directIo && body.length === 1 && directWritable(body[0]!)) {
      if (await writeDirect(file, body[0]!)) return;
      this.directIo = false;
    }
    await writeAll(file, body);
  }

  private tmpPath(): string {
    return path.join(this.root, TMP_DIR, `${randomBytes(12).toString('hex')}.tmp`);
  }

  /** The directory holding `file`, plus every directory mkdir just created and the one above them. */
  private dirsToSync(file: string, firstCreated: string | undefined): string[] {
    const dirs = [path.dirname(file)];
    if (firstCreated === undefined) return dirs;
    for (let d = path.dirname(dirs[0]!); d.length >= firstCreated.length; d = path.dirname(d)) dirs.push(d);
    dirs.push(path.dirname(firstCreated));
    return dirs;
  }

  private async exists(file: string): Promise<boolean> {
    return fs.stat(file).then(
      () => true,
      () => false,
    );
  }

  private translate(err: unknown, what: string, missingKey?: string): Error {
    if (err instanceof DatactlError) return err;
    if (missingKey !== undefined && isNotFound(err)) {
      return fail('E_OBJECT_NOT_FOUND', `object ${missingKey} not found in ${this.description}`, { key: missingKey });
    }
    if (isNoSpace(err)) return fail('E_STORAGE_FULL', `object store ${this.description}: ${what} failed: ${describe(err)}`);
    return fail('E_STORE_UNAVAILABLE', `object store ${this.description}: ${what} failed: ${describe(err)}`);
  }
}

/** Write the parts to a new file through one fd (not synced: see syncFile). */
async function writeAll(file: string, parts: readonly Uint8Array[]): Promise<void> {
  const fh = await fs.open(file, 'wx');
  try {
    // Gathered writes: a pack of small-file chunks has thousands of parts, one write() each was
    // the largest cost of ingesting them.
    for (let i = 0; i < parts.length; i += IOV_MAX) await writevFully(fh, parts.slice(i, i + IOV_MAX));
  } finally {
    await fh.close();
  }
}

/** fsync a written file (through a new fd: fsync flushes the file, whichever fd asks), so a rename publishes whole bytes. */
async function syncFile(file: string): Promise<void> {
  const fh = await fs.open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Linux's IOV_MAX: the most buffers one writev takes. */
const IOV_MAX = 1024;

/** writev until every byte is written (a short write resumes inside the part it stopped in). */
async function writevFully(fh: FileHandle, parts: readonly Uint8Array[]): Promise<void> {
  let pending = parts.filter((p) => p.byteLength > 0);
  while (pending.length > 0) {
    let { bytesWritten } = await fh.writev(pending as Uint8Array[]);
    let i = 0;
    while (i < pending.length && bytesWritten >= pending[i]!.byteLength) bytesWritten -= pending[i++]!.byteLength;
    pending = pending.slice(i);
    if (bytesWritten > 0) pending[0] = pending[0]!.subarray(bytesWritten);
  }
}

/** Read into `buf` from `offset` until it is full or the file ends; returns the bytes read. */
async function readFully(fh: FileHandle, buf: Buffer, offset: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** fsync directories so renames and new entries survive a crash (a file fsync does not cover them). */
async function syncDirs(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    const fh = await fs.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

function isNotFound(err: unknown): boolean {
  return NOT_FOUND_CODES.has((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
