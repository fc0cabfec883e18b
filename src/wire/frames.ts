/**
 * Chunk frames, the binary body of chunk uploads and batch reads: 32 bytes raw BLAKE3 hash,
 * 4 bytes big-endian length, then the bytes. Binary rather than JSON/base64 so a 1 GB upload costs
 * 1 GB on the wire, and streamed so neither side holds a whole request.
 */
import { fail } from '../errors.js';
import type { ChunkHash } from '../types.js';

export const FRAME_HEADER_BYTES = 36;

export interface Frame {
  hash: ChunkHash;
  bytes: Buffer;
}

export function encodeFrameHeader(hash: ChunkHash, length: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.write(hash, 0, 32, 'hex');
  header.writeUInt32BE(length, 32);
  return header;
}

/** Header + bytes as two parts, ready to be written without concatenating. */
export function encodeFrame(hash: ChunkHash, bytes: Uint8Array): [Buffer, Uint8Array] {
  return [encodeFrameHeader(hash, bytes.length), bytes];
}

/**
 * Decode frames from a byte stream split anywhere. `maxChunk` bounds a single frame so a forged
 * length cannot make the reader buffer gigabytes. A stream ending mid-frame throws E_TRUNCATED_UPLOAD.
 */
export async function* decodeFrames(source: AsyncIterable<Uint8Array>, maxChunk: number): AsyncGenerator<Frame> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let need = FRAME_HEADER_BYTES;
  let hash: ChunkHash | undefined;

  for await (const piece of source) {
    let buf = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    while (buf.length > 0) {
      const take = Math.min(need - pendingBytes, buf.length);
      pending.push(buf.subarray(0, take));
      pendingBytes += take;
      buf = buf.subarray(take);
      if (pendingBytes < need) break;
      const whole = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      if (hash === undefined) {
        hash = whole.toString('hex', 0, 32) as ChunkHash;
        const length = whole.readUInt32BE(32);
        if (length > maxChunk) throw fail('E_PAYLOAD_TOO_LARGE', `chunk ${hash} declares ${length} bytes; the limit is ${maxChunk}`);
        if (length === 0) throw fail('E_BAD_REQUEST', `chunk ${hash} is empty; empty chunks are never uploaded`);
        need = length;
      } else {
        yield { hash, bytes: whole };
        hash = undefined;
        need = FRAME_HEADER_BYTES;
      }
    }
  }
  if (hash !== undefined || pendingBytes > 0) {
    throw fail('E_TRUNCATED_UPLOAD', `upload ended mid-frame${hash ? ` (chunk ${hash})` : ''}; nothing from this request was kept`);
  }
}
