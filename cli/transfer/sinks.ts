/**
 * Where downloaded bytes go. A file sink writes a temp file next to the target
 * (`.<name>.datactl-tmp-<random>`) and renames it into place only after verification, so a
 * failed or corrupt download never leaves a partial target behind.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface Sink {
  write(data: Uint8Array): Promise<void>;
  /** Make the bytes final (for files: flush, fsync, rename). */
  commit(): Promise<void>;
  /** Discard whatever was written. Never throws. */
  abort(): Promise<void>;
  /** Written bytes cannot be taken back (a stream such as stdout): write only verified ones. */
  readonly irreversible?: boolean;
}

export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.datactl-tmp-${randomBytes(6).toString('hex')}`);
}

const FLUSH_BYTES = 1024 * 1024;

export interface FileSinkOptions {
  /**
   * fsync the file and its directory before the rename (default false: downloads are verified
   * before the rename either way, and a crash only costs re-downloading; see TreeDownloadTuning).
   */
  fsync?: boolean;
}

export async function openFileSink(target: string, options: FileSinkOptions = {}): Promise<Sink> {
  const temp = tempPathFor(target);
  const handle = await open(temp, 'wx');
  return new FileSink(target, temp, handle, options.fsync ?? false);
}

class FileSink implements Sink {
  /**
   * Network reads are gathered here into ~1 MiB writes. One buffer for the sink's life: a fresh
   * Buffer.concat per write cost a 1 GB get ~0.39 s of its main thread, most of it first-touch
   * page faults.
   */
  private readonly buffer = Buffer.allocUnsafeSlow(FLUSH_BYTES);
  private used = 0;
  private closed = false;

  constructor(
    private readonly target: string,
    private readonly temp: string,
    private readonly handle: FileHandle,
    private readonly fsync: boolean,
  ) {}

  async write(data: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < data.byteLength) {
      // A write at least as large as the buffer, with nothing gathered before it, goes out as it is.
      if (this.used === 0 && data.byteLength - offset >= FLUSH_BYTES) {
        await this.writeAll(data.subarray(offset));
        return;
      }
      const take = Math.min(FLUSH_BYTES - this.used, data.byteLength - offset);
      this.buffer.set(data.subarray(offset, offset + take), this.used);
      this.used += take;
      offset += take;
      if (this.used === FLUSH_BYTES) await this.flush();
    }
  }

  async commit(): Promise<void> {
    await this.flush();
    if (this.fsync) await this.handle.sync();
    this.closed = true;
    await this.handle.close();
    await rename(this.temp, this.target);
    if (this.fsync) await syncDir(dirname(this.target));
  }

  async abort(): Promise<void> {
    if (!this.closed) await this.handle.close().catch(() => undefined);
    this.closed = true;
    await unlink(this.temp).catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (this.used === 0) return;
    await this.writeAll(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  private async writeAll(data: Uint8Array): Promise<void> {
    for (let offset = 0; offset < data.byteLength; ) {
      const { bytesWritten } = await this.handle.write(data, offset);
      offset += bytesWritten;
    }
  }
}

/** fsync a directory so a rename inside it is durable; not every platform allows it. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // EINVAL/EISDIR on some file systems and platforms: nothing more we can do
  } finally {
    await handle.close();
  }
}

/** A sink over a writable stream (stdout), honouring backpressure. Commit and abort do nothing. */
export function streamSink(stream: NodeJS.WritableStream): Sink {
  return {
    irreversible: true,
    async write(data) {
      if (!stream.write(data)) await once(stream, 'drain');
    },
    async commit() {},
    async abort() {},
  };
}
