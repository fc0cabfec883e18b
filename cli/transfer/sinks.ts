/**
 * Where downloaded bytes go. A file sink writes a temp file next to the target
 * (`.<name>.datactl-tmp-<random>`) and renames it into place only after verification, so a
 * failed or corrupt download never leaves a partial target behind.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { alignedBuffer, createDirect, isEinval, roundUp } from '../../src/storage/direct-io.js';

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
  /** The size the file will have, when known: from DIRECT_FROM_BYTES it is written with O_DIRECT, unless `directIo` is false. */
  size?: number;
  /** Allow O_DIRECT for large files (default true); false writes every file through the page cache. */
  directIo?: boolean;
}

/**
 * Files this large are written with O_DIRECT, past the page cache, where the filesystem allows it.
 * A buffered write only copies the bytes into cache pages and leaves them dirty for the kernel to
 * write back later, while the command has already reported success: on the benchmarks' 2-vCPU VM,
 * whose page cache is slow to grow, a 1 GB get spent 0.8-7.6 s of kernel time on that copy, and
 * the write-back then slowed whatever ran next. Written direct, the get pays for its own disk
 * writes and leaves the page cache to the data the machine was using (the downloaded file is read
 * from disk when next opened, as any file evicted from the cache is).
 */
const DIRECT_FROM_BYTES = 64 * 1024 * 1024;

export async function openFileSink(target: string, options: FileSinkOptions = {}): Promise<Sink> {
  const temp = tempPathFor(target);
  const wantDirect = options.directIo !== false && (options.size ?? 0) >= DIRECT_FROM_BYTES;
  // 0o666 (less the umask), as open(temp, 'wx') creates the file.
  const direct = wantDirect ? await createDirect(temp, 0o666) : undefined;
  const handle = direct ?? (await open(temp, 'wx'));
  return new FileSink(target, temp, handle, options.fsync ?? false, direct !== undefined);
}

/**
 * Full buffers being written while the next one fills. The disk write of one buffer (on libuv's
 * thread pool) then overlaps receiving and hashing the next: written one at a time, the main
 * thread of a 1 GB get sat idle on its writes. Two in flight keep the disk busy.
 */
const WRITES_IN_FLIGHT = 2;
/** With O_DIRECT each write goes to the device before it completes: fewer, larger ones. */
const DIRECT_FLUSH_BYTES = 4 * FLUSH_BYTES;

class FileSink implements Sink {
  /** Network reads are gathered here into `flushBytes` writes (a fresh Buffer.concat per write cost a 1 GB get ~0.39 s of page faults). */
  private buffer: Buffer;
  private used = 0;
  private readonly flushBytes: number;
  /** File offset of `buffer`'s first byte: writes in flight go to explicit positions. */
  private position = 0;
  private readonly inFlight: Array<{ buffer: Buffer; settled: Promise<void> }> = [];
  /** Buffers whose write has completed, for reuse. */
  private readonly spare: Buffer[] = [];
  /** The first failed write; every later write, and commit, throws it. */
  private failure: { error: unknown } | undefined;
  /** Set once the direct handle was refused a write and the file reopened buffered. */
  private buffered: Promise<void> | undefined;
  /** The O_DIRECT handle the sink was opened with (the only one whose EINVAL means "reopen buffered"). */
  private readonly directHandle: FileHandle | undefined;
  private closed = false;

  constructor(
    private readonly target: string,
    private readonly temp: string,
    private handle: FileHandle,
    private readonly fsync: boolean,
    /** `handle` has O_DIRECT: writes are block-aligned, from block-aligned memory. */
    private readonly direct: boolean,
  ) {
    this.flushBytes = direct ? DIRECT_FLUSH_BYTES : FLUSH_BYTES;
    this.buffer = this.newBuffer();
    this.directHandle = direct ? handle : undefined;
  }

  async write(data: Uint8Array): Promise<void> {
    this.throwIfFailed();
    let offset = 0;
    while (offset < data.byteLength) {
      // A write at least as large as the buffer, with nothing gathered before it, goes out as it
      // is, and is awaited: the caller may reuse its bytes once this resolves. (Not with O_DIRECT,
      // which needs aligned memory.)
      if (!this.direct && this.used === 0 && data.byteLength - offset >= this.flushBytes) {
        const rest = data.subarray(offset);
        const at = this.position;
        this.position += rest.byteLength;
        await this.writeAt(rest, at);
        return;
      }
      const take = Math.min(this.flushBytes - this.used, data.byteLength - offset);
      this.buffer.set(data.subarray(offset, offset + take), this.used);
      this.used += take;
      offset += take;
      if (this.used === this.flushBytes) await this.flush();
    }
  }

  async commit(): Promise<void> {
    const size = this.position + this.used;
    await this.flush();
    await this.drain();
    this.throwIfFailed();
    // The last direct write was padded to a whole block.
    if (this.direct) await this.handle.truncate(size);
    if (this.fsync) await this.handle.sync();
    this.closed = true;
    await this.handle.close();
    await rename(this.temp, this.target);
    if (this.fsync) await syncDir(dirname(this.target));
  }

  async abort(): Promise<void> {
    await this.drain(); // the handle outlives every write that uses it
    if (!this.closed) await this.handle.close().catch(() => undefined);
    this.closed = true;
    await unlink(this.temp).catch(() => undefined);
  }

  /** Start writing the gathered bytes and gather into another buffer; waits only while WRITES_IN_FLIGHT are out. */
  private async flush(): Promise<void> {
    if (this.used === 0) return;
    const buffer = this.buffer;
    const at = this.position;
    this.position += this.used;
    const length = this.direct ? roundUp(this.used) : this.used;
    // Never rejects: a failure is kept and thrown from the next write or commit, so a write no
    // one is awaiting yet cannot surface as an unhandled rejection.
    const settled = this.writeAt(buffer.subarray(0, length), at).then(
      () => undefined,
      (error: unknown) => void (this.failure ??= { error }),
    );
    this.inFlight.push({ buffer, settled });
    this.used = 0;
    if (this.inFlight.length >= WRITES_IN_FLIGHT) await this.settleOldest();
    this.buffer = this.spare.pop() ?? this.newBuffer();
    this.throwIfFailed();
  }

  private newBuffer(): Buffer {
    return this.direct ? alignedBuffer(this.flushBytes) : Buffer.allocUnsafeSlow(this.flushBytes);
  }

  private async settleOldest(): Promise<void> {
    const oldest = this.inFlight.shift()!;
    await oldest.settled;
    this.spare.push(oldest.buffer);
  }

  private async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.settleOldest();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  private async writeAt(data: Uint8Array, position: number): Promise<void> {
    for (let offset = 0; offset < data.byteLength; ) {
      const handle = this.handle;
      let bytesWritten: number;
      try {
        ({ bytesWritten } = await handle.write(data, offset, data.byteLength - offset, position + offset));
      } catch (err) {
        // A filesystem that opens with O_DIRECT but refuses the write: on through the page cache,
        // once. An EINVAL from any other handle is a real error.
        if (handle !== this.directHandle || !isEinval(err)) throw err;
        await (this.buffered ??= this.reopenBuffered());
        continue;
      }
      if (bytesWritten === 0) throw new Error(`writing ${this.temp}: the disk took no bytes at offset ${position + offset}`);
      offset += bytesWritten;
    }
  }

  private async reopenBuffered(): Promise<void> {
    this.handle = await open(this.temp, 'r+');
    await this.directHandle?.close().catch(() => undefined);
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
