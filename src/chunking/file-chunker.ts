/**
 * One file's byte stream -> chunks, each hashed with BLAKE3, plus the whole-file BLAKE3.
 *
 * Zero-copy where possible: a chunk that lies inside one pushed buffer is a subarray of it. Only a
 * chunk that spans pushes is assembled in one reusable maxSize buffer (`carry`). To keep that a
 * single buffer, the unchunked tail of a push is not copied right away: it is referenced until the
 * next push()/finish(), when the chunks returned earlier (which may live in `carry`) have expired.
 * So memory is bounded by maxSize + one pushed buffer, and callers must not overwrite a buffer they
 * pushed until their next push()/finish() call (fresh buffers from fs/net streams are fine).
 */
import { fail } from '../errors.js';
import { Blake3Stream, blake3Hex } from '../hash/blake3.js';
import type { ChunkHash } from '../types.js';
import { CdcScanner } from './cdc-scanner.js';
import { DEFAULT_CHUNKER_PARAMS, validateChunkerParams, type ChunkerParams } from './params.js';

export interface Chunk {
  hash: ChunkHash;
  size: number;
  /** Offset of the chunk's first byte in the file. */
  offset: number;
  /** Valid only until the next push()/finish() call; copy to keep. */
  bytes: Uint8Array;
}

/** Splits one file's byte stream into chunks, hashes each chunk (BLAKE3) and the whole file. */
export class FileChunker {
  private readonly scanner: CdcScanner;
  private readonly maxSize: number;
  /** Absent when the caller hashes (options.hash false): chunk hashes are then ''. */
  private readonly fileHasher: Blake3Stream | undefined;
  /** Bytes of the current chunk that came from earlier pushes; allocated on first need. */
  private carry: Uint8Array | undefined;
  private carryLen = 0;
  /** Unchunked tail of the last push, still owned by the caller; moved into `carry` lazily. */
  private tail: Uint8Array | undefined;
  private nextOffset = 0;
  private pushed = 0;
  private fileHash: ChunkHash | undefined;

  /**
   * With `hash: false` only boundaries are found: chunk hashes are '' and there is no content
   * hash. A pipeline uses that to cut on one thread and hash on another.
   */
  constructor(params: ChunkerParams = DEFAULT_CHUNKER_PARAMS, options: { hash?: boolean } = {}) {
    this.fileHasher = options.hash === false ? undefined : new Blake3Stream();
    const p = validateChunkerParams(params);
    this.scanner = new CdcScanner(p);
    this.maxSize = p.maxSize;
  }

  /** Bytes pushed so far. */
  get size(): number {
    return this.pushed;
  }

  /** Chunks completed by this data. */
  push(data: Uint8Array): Chunk[] {
    this.assertOpen('push');
    if (data.length === 0) return [];
    this.absorbTail();
    this.fileHasher?.update(data);
    this.pushed += data.length;
    const chunks: Chunk[] = [];
    let from = 0;
    for (const cut of this.scanner.scan(data)) {
      chunks.push(this.emit(this.chunkBytes(data, from, cut)));
      from = cut;
    }
    if (from < data.length) this.tail = data.subarray(from);
    return chunks;
  }

  /**
   * Stop referencing the buffer given to the last push(): its unchunked tail is copied now instead
   * of at the next push, so the caller may reuse or transfer that buffer. This overwrites the
   * chunker's own buffer, so chunks returned by the last push() are invalid afterwards.
   */
  release(): void {
    this.assertOpen('release');
    this.absorbTail();
  }

  /** The final partial chunk (none for an empty file). */
  finish(): Chunk[] {
    this.assertOpen('finish');
    let last = this.tail;
    if (this.carryLen > 0) {
      this.absorbTail();
      last = this.carry!.subarray(0, this.carryLen);
    }
    this.tail = undefined;
    this.carryLen = 0;
    this.scanner.reset();
    this.fileHash = this.fileHasher?.digestHex() ?? ('' as ChunkHash);
    return last ? [this.emit(last)] : [];
  }

  /** BLAKE3 of the whole file (equals `b3sum FILE`); only after finish(). */
  contentHash(): ChunkHash {
    if (this.fileHash === undefined) throw fail('E_INTERNAL', 'FileChunker.contentHash() called before finish()');
    return this.fileHash;
  }

  private chunkBytes(data: Uint8Array, from: number, to: number): Uint8Array {
    if (this.carryLen === 0) return data.subarray(from, to);
    // Only the first chunk of a push can span pushes; the scanner guarantees it fits in maxSize.
    const carry = this.carry!;
    carry.set(data.subarray(from, to), this.carryLen);
    const bytes = carry.subarray(0, this.carryLen + to - from);
    this.carryLen = 0;
    return bytes;
  }

  private absorbTail(): void {
    if (!this.tail) return;
    this.carry ??= new Uint8Array(this.maxSize);
    this.carry.set(this.tail, this.carryLen);
    this.carryLen += this.tail.length;
    this.tail = undefined;
  }

  private emit(bytes: Uint8Array): Chunk {
    const hash = this.fileHasher ? blake3Hex(bytes) : ('' as ChunkHash);
    const chunk = { hash, size: bytes.length, offset: this.nextOffset, bytes };
    this.nextOffset += bytes.length;
    return chunk;
  }

  private assertOpen(op: string): void {
    if (this.fileHash !== undefined) throw fail('E_INTERNAL', `FileChunker.${op}() called after finish()`);
  }
}

/** Convenience: chunk an async iterable of buffers (e.g. fs.createReadStream) into a manifest-like summary, calling onChunk for each chunk (bytes valid only during the call). */
export async function chunkSource(
  source: AsyncIterable<Uint8Array>,
  params: ChunkerParams,
  onChunk?: (c: Chunk) => void | Promise<void>,
): Promise<{ size: number; hash: ChunkHash; chunks: Array<[ChunkHash, number]> }> {
  const chunker = new FileChunker(params);
  const chunks: Array<[ChunkHash, number]> = [];
  const take = async (batch: Chunk[]) => {
    for (const c of batch) {
      chunks.push([c.hash, c.size]);
      if (onChunk) await onChunk(c);
    }
  };
  for await (const data of source) await take(chunker.push(data));
  await take(chunker.finish());
  return { size: chunker.size, hash: chunker.contentHash(), chunks };
}
