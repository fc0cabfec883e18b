/**
 * Writes that bypass the page cache (O_DIRECT), for pack files. A pack is fsynced as soon as it
 * is written and is not read back by the put, so a buffered write only adds a copy of every byte
 * into the page cache (and that cache's pages) ahead of the flush. Measured on the benchmarks'
 * 2-vCPU VM, whose page cache is slow to grow, 1 GiB in 16 MiB writes plus a flush after 10 s
 * idle: buffered 17.9 s, 15 s of it kernel time copying into newly faulted pages; O_DIRECT
 * 0.84 s, 0.15 s kernel.
 *
 * O_DIRECT wants the memory, the file offset and the length aligned to the device's block size.
 * Node has no aligned allocation, but WebAssembly memories are page-aligned, so `alignedBuffer`
 * hands out Buffers over one. The length is padded to a block with whatever the buffer holds past
 * the data, then the file is truncated back. Anything else (other memory, a filesystem that
 * refuses O_DIRECT, as tmpfs did before Linux 6.6) is written the ordinary way.
 */
import { constants, promises as fs } from 'node:fs';

/** Block alignment asked of O_DIRECT memory, offsets and lengths: 4096 covers 512-byte and 4 KiB devices. */
export const DIRECT_ALIGN = 4096;
const WASM_PAGE = 65536;

/** The one constructor used here (the project's lib settings do not declare the WebAssembly API). */
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly.Memory;

/** ArrayBuffers handed out by alignedBuffer (their memory starts on a page). */
const alignedMemory = new WeakSet<ArrayBufferLike>();

/**
 * A Buffer of `size` bytes whose memory starts page-aligned. Falls back to an ordinary Buffer
 * (written without O_DIRECT) when a WebAssembly memory cannot be had: each reserves address
 * space, of which V8 allows a bounded total.
 */
export function alignedBuffer(size: number): Buffer {
  try {
    const memory = new WasmMemory({ initial: Math.ceil(size / WASM_PAGE) });
    alignedMemory.add(memory.buffer);
    return Buffer.from(memory.buffer, 0, size);
  } catch {
    return Buffer.allocUnsafeSlow(size);
  }
}

/**
 * Whether `part` can be written with O_DIRECT: alignedBuffer's memory, from a block boundary. Its
 * length needs no check: the memory is whole WebAssembly pages, so padding to a block always fits.
 */
export function directWritable(part: Uint8Array): boolean {
  return alignedMemory.has(part.buffer) && part.byteOffset % DIRECT_ALIGN === 0;
}

/**
 * Write `part` (directWritable) to a new file with O_DIRECT. Returns false, leaving no file
 * behind, when the filesystem or the kernel refuses it (EINVAL); the caller then writes it the
 * ordinary way. Not synced: O_DIRECT skips the page cache, not the device's cache or the
 * file's metadata, so the caller still fsyncs.
 */
export async function writeDirect(file: string, part: Uint8Array): Promise<boolean> {
  const fh = await createDirect(file);
  if (!fh) return false;
  let ok = false;
  try {
    const padded = new Uint8Array(part.buffer, part.byteOffset, roundUp(part.byteLength));
    let written = 0;
    while (written < padded.byteLength) {
      // A short write leaves an unaligned offset; the next write then fails with EINVAL (or
      // writes nothing) and the caller starts over the ordinary way.
      const { bytesWritten } = await fh.write(padded, written, padded.byteLength - written, written);
      if (bytesWritten === 0) break;
      written += bytesWritten;
    }
    if (written === padded.byteLength) {
      if (padded.byteLength !== part.byteLength) await fh.truncate(part.byteLength);
      ok = true;
    }
  } catch (err) {
    if (!isEinval(err)) throw err;
  } finally {
    await fh.close();
    if (!ok) await fs.rm(file, { force: true });
  }
  return ok;
}

/**
 * Create `file` (which must not exist) for writing with O_DIRECT; undefined, creating nothing,
 * when the filesystem refuses O_DIRECT (EINVAL). `mode` as for open(2), before the umask.
 */
export async function createDirect(file: string, mode = 0o644): Promise<fs.FileHandle | undefined> {
  try {
    return await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT, mode);
  } catch (err) {
    if (!isEinval(err)) throw err;
    // Linux creates the file before it checks for direct I/O (ramfs, tmpfs before 6.6), so the
    // refused open leaves it behind, and the caller's ordinary O_EXCL open of the same name then
    // failed with EEXIST. O_EXCL means no one else's file was there.
    await fs.rm(file, { force: true });
    return undefined;
  }
}

export function roundUp(n: number): number {
  return Math.ceil(n / DIRECT_ALIGN) * DIRECT_ALIGN;
}

export function isEinval(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EINVAL';
}
