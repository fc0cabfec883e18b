/**
 * Chunk frames (docs/http-api.md, "Chunk frames"): 32 bytes raw BLAKE3 hash, 4 bytes big-endian
 * length, then that many bytes. The decoder streams: it holds at most one frame's bytes plus one
 * network buffer, never the whole body.
 */
import { fail } from '../errors.js';
import { blake3Hex } from '../hash/blake3.js';
import { parseChunkHash, type ChunkHash } from '../types.js';
import type { BufferPool } from '../util/buffer-pool.js';

export const FRAME_HASH_BYTES = 32;
export const FRAME_HEADER_BYTES = FRAME_HASH_BYTES + 4;
/** The server's per-chunk limit; a decoder refuses larger frames instead of allocating them. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export interface Frame {
  hash: ChunkHash;
  bytes: Uint8Array;
}

/** Bytes one frame occupies on the wire. */
export function frameSize(payloadBytes: number): number {
  return FRAME_HEADER_BYTES + payloadBytes;
}

/** Write a frame header at `offset` (the payload goes right after it). */
export function writeFrameHeader(target: Buffer, offset: number, hash: ChunkHash, length: number): void {
  // Decoded straight into the header: no Buffer per frame (200k frames in a put and a get of 100k
  // files). parseChunkHash first, as Buffer's hex decoding alone would take uppercase digits.
  target.write(parseChunkHash(hash), offset, FRAME_HASH_BYTES, 'hex');
  target.writeUInt32BE(length, offset + FRAME_HASH_BYTES);
}

/** One frame header, for callers that send the payload separately. */
export function encodeFrameHeader(hash: ChunkHash, length: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  writeFrameHeader(header, 0, hash, length);
  return header;
}

/** Header + bytes as two parts, for writers that send parts without concatenating. */
export function encodeFrame(hash: ChunkHash, bytes: Uint8Array): [Buffer, Uint8Array] {
  return [encodeFrameHeader(hash, bytes.byteLength), bytes];
}

export interface FrameStreamOptions {
  /** Size of the buffers small frames are copied together into (default 256 KiB; a pool's size when given). */
  coalesceBytes?: number;
  /** Where those buffers come from: each piece cut from one is lent as one view, for the consumer to release once sent. */
  pool?: BufferPool;
  /** Told of each payload once it has been copied into such a piece (its source may then be reused). */
  copied?: (payload: Uint8Array) => void;
}

/**
 * Frames, one at a time or in arrays, as a byte stream written in few, large pieces: small frames
 * are copied together into buffers of `coalesceBytes` (a 100k-small-file download otherwise made
 * two socket writes per chunk, ~1.2 s of a server's CPU), a payload of more than a quarter of that
 * goes out as its own piece after its header, uncopied.
 */
export async function* frameStream(
  frames: AsyncIterable<Frame | readonly Frame[]> | Iterable<Frame | readonly Frame[]>,
  options: FrameStreamOptions = {},
): AsyncGenerator<Uint8Array> {
  const { pool, copied } = options;
  const size = pool?.size ?? options.coalesceBytes ?? 256 * 1024;
  const take = () => pool?.take() ?? Buffer.allocUnsafe(size);
  const cut = (full: Buffer, length: number) => {
    pool?.lend(full, 1);
    return full.subarray(0, length);
  };
  let buf = take();
  let at = 0;
  const one: Frame[] = [];
  // Frames may come in arrays (a chunk reader's runs): one step of the source per run, not per frame.
  for await (const item of frames) {
    const list: readonly Frame[] = isFrameList(item) ? item : ((one[0] = item), one);
    for (const { hash, bytes } of list) {
      const need = frameSize(bytes.byteLength);
      const big = bytes.byteLength > size / 4;
      if (at > 0 && (big || at + need > buf.length)) {
        yield cut(buf, at);
        buf = take();
        at = 0;
      }
      if (big) {
        yield encodeFrameHeader(hash, bytes.byteLength);
        yield bytes;
        continue;
      }
      writeFrameHeader(buf, at, hash, bytes.byteLength);
      buf.set(bytes, at + FRAME_HEADER_BYTES);
      copied?.(bytes);
      at += need;
    }
  }
  if (at > 0) yield cut(buf, at);
  else pool?.giveBack(buf);
}

function isFrameList(item: Frame | readonly Frame[]): item is readonly Frame[] {
  return Array.isArray(item);
}

/** Encode frames into one buffer (one allocation, one copy of each payload). */
export function encodeFrames(frames: readonly Frame[]): Buffer {
  const total = frames.reduce((n, f) => n + frameSize(f.bytes.byteLength), 0);
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const f of frames) {
    writeFrameHeader(out, offset, f.hash, f.bytes.byteLength);
    out.set(f.bytes, offset + FRAME_HEADER_BYTES);
    offset += frameSize(f.bytes.byteLength);
  }
  return out;
}

/**
 * A frame whose payload is left where it arrived: `parts` are views of the source buffers it spans,
 * in order (their concatenation is the payload), never copies. They stay valid as long as nobody
 * overwrites the source buffers; socket reads are fresh buffers, so that holds for request bodies.
 */
export interface FrameParts {
  hash: ChunkHash;
  parts: Uint8Array[];
  /** Payload bytes: the sum of the parts' lengths. */
  length: number;
}

const EMPTY = new Uint8Array(0);

/** A FIFO of byte buffers that hands out exact-length runs as views of the buffers they span. */
class ByteQueue {
  private parts: Uint8Array[] = [];
  private first = 0; // index of the oldest unread part (no Array.shift: it is O(n))
  private head = 0; // offset into parts[first]
  length = 0;

  push(part: Uint8Array): void {
    if (part.byteLength === 0) return;
    this.parts.push(part);
    this.length += part.byteLength;
  }

  /** The next `n` bytes as views, one per buffer they span; a whole buffer is handed out as itself. */
  takeParts(n: number): Uint8Array[] {
    const first = this.parts[this.first]!;
    if (n > 0 && first.byteLength - this.head >= n) {
      // The common case, one buffer: a one-element literal, where push on [] reserves 17 slots.
      const view = n === first.byteLength ? first : first.subarray(this.head, this.head + n);
      this.advance(n);
      return [view];
    }
    const out: Uint8Array[] = [];
    while (n > 0) {
      const part = this.parts[this.first]!;
      const size = Math.min(n, part.byteLength - this.head);
      out.push(size === part.byteLength ? part : part.subarray(this.head, this.head + size));
      this.advance(size);
      n -= size;
    }
    return out;
  }

  /**
   * The next `n` bytes as a buffer and the offset they start at: where they lie in one buffer, that
   * buffer itself (a Node Buffer, as sockets deliver, is not even wrapped), else a copy of them. A
   * frame header is read so, once per frame.
   */
  takeContiguous(n: number): [Buffer, number] {
    const first = this.parts[this.first]!;
    const at = this.head;
    if (first.byteLength - at >= n) {
      this.advance(n);
      return [asNodeBuffer(first), at];
    }
    return [asNodeBuffer(joinParts(this.takeParts(n), n)), 0];
  }

  private advance(n: number): void {
    this.length -= n;
    this.head += n;
    if (this.head < this.parts[this.first]!.byteLength) return;
    this.parts[this.first] = EMPTY; // drop the reference now: a consumed buffer may be freed early
    this.first++;
    this.head = 0;
    if (this.first === this.parts.length) {
      this.parts = [];
      this.first = 0;
    } else if (this.first >= 1024) {
      this.parts = this.parts.slice(this.first);
      this.first = 0;
    }
  }
}

function asNodeBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** One contiguous payload: the part itself when there is one (no copy), else a concatenation. */
function joinParts(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

export interface DecodeOptions {
  /** Re-hash every payload and throw E_CORRUPT_OBJECT on a mismatch (default true). */
  verify?: boolean;
  maxFrameBytes?: number;
}

/**
 * Decode a framed byte stream. Payloads may alias the source buffers (zero copy when a frame
 * lies inside one buffer; one spanning several is copied into its own buffer). A stream that ends
 * mid-frame throws E_TRUNCATED_UPLOAD.
 */
export async function* decodeFrames(
  source: AsyncIterable<Uint8Array>,
  options: DecodeOptions = {},
): AsyncGenerator<Frame> {
  const verify = options.verify ?? true;
  for await (const batch of decodeFrameParts(source, options)) {
    for (const { hash, parts, length } of batch) {
      const frame = { hash, bytes: joinParts(parts, length) };
      if (verify) verifyFrame(frame);
      yield frame;
    }
  }
}

/**
 * decodeFrames' frames in the batches of decodeFrameParts (every frame a source buffer completes),
 * payloads NOT verified: for a caller that hashes each payload itself. A 100k-small-file download
 * otherwise took two async generator steps per chunk (this decoder's and the client's).
 */
export async function* decodeFrameBatches(
  source: AsyncIterable<Uint8Array>,
  options: Pick<DecodeOptions, 'maxFrameBytes'> = {},
): AsyncGenerator<Frame[]> {
  for await (const batch of decodeFrameParts(source, options)) {
    yield batch.map(({ hash, parts, length }) => ({ hash, bytes: joinParts(parts, length) }));
  }
}

/**
 * Decode a framed byte stream without copying any payload: each frame comes as the views of the
 * source buffers it spans (see FrameParts). Payloads are NOT verified; the caller hashes the parts
 * (blake3HexParts) and decides what a mismatch means. Same limits and E_TRUNCATED_UPLOAD as
 * decodeFrames. Frames come in batches, every frame a source buffer completes (never an empty
 * batch): a 64 KiB socket read holds ~25 small chunks, and one async step per frame was ~10% of
 * the allocations of a 100k-file upload.
 */
export async function* decodeFrameParts(
  source: AsyncIterable<Uint8Array>,
  options: Pick<DecodeOptions, 'maxFrameBytes'> = {},
): AsyncGenerator<FrameParts[]> {
  const maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES;
  const queue = new ByteQueue();
  let pending: { hash: ChunkHash; length: number } | undefined;
  for await (const part of source) {
    queue.push(part);
    const batch: FrameParts[] = [];
    for (;;) {
      if (!pending) {
        if (queue.length < FRAME_HEADER_BYTES) break;
        pending = readHeader(...queue.takeContiguous(FRAME_HEADER_BYTES), maxFrameBytes);
      }
      if (queue.length < pending.length) break;
      batch.push({ hash: pending.hash, parts: queue.takeParts(pending.length), length: pending.length });
      pending = undefined;
    }
    if (batch.length > 0) yield batch;
  }
  if (pending || queue.length > 0) {
    const missing = pending ? pending.length - queue.length : FRAME_HEADER_BYTES - queue.length;
    throw fail('E_TRUNCATED_UPLOAD', `chunk frame stream ended mid-frame (${missing} bytes short)`, {
      missingBytes: missing,
    });
  }
}

/** The frame header at `offset` in `source`. */
function readHeader(source: Buffer, offset: number, maxFrameBytes: number): { hash: ChunkHash; length: number } {
  const hash = source.toString('hex', offset, offset + FRAME_HASH_BYTES) as ChunkHash;
  const length = source.readUInt32BE(offset + FRAME_HASH_BYTES);
  if (length > maxFrameBytes) {
    throw fail('E_PAYLOAD_TOO_LARGE', `chunk frame of ${length} bytes exceeds the ${maxFrameBytes}-byte limit`, {
      hash,
      length,
    });
  }
  return { hash, length };
}

function verifyFrame(frame: Frame): void {
  const actual = blake3Hex(frame.bytes);
  if (actual !== frame.hash) {
    throw fail('E_CORRUPT_OBJECT', `chunk ${frame.hash} failed its integrity check (bytes hash to ${actual})`, {
      hash: frame.hash,
      actual,
    });
  }
}
