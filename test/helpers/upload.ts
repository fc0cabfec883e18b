/** Low-level upload helpers for server tests: chunk bytes locally and speak the wire protocol. */
import { chunkerId, DEFAULT_CHUNKER_PARAMS, FileChunker, type ChunkerParams } from '../../src/chunking/index.js';
import type { Manifest } from '../../src/objects/manifest.js';
import type { ChunkHash } from '../../src/types.js';
import { encodeFrame } from '../../src/wire/frames.js';
import { api } from './server.js';

export interface ChunkedBytes {
  manifest: Manifest;
  chunks: Array<{ hash: ChunkHash; bytes: Buffer }>;
}

export function chunkBytes(data: Uint8Array, params: ChunkerParams = DEFAULT_CHUNKER_PARAMS): ChunkedBytes {
  const chunker = new FileChunker(params);
  const chunks = [...chunker.push(data), ...chunker.finish()].map((c) => ({ hash: c.hash, bytes: Buffer.from(c.bytes) }));
  return {
    manifest: { size: chunker.size, hash: chunker.contentHash(), chunker: chunkerId(params), chunks: chunks.map((c) => [c.hash, c.bytes.length]) },
    chunks,
  };
}

export function frames(chunks: ReadonlyArray<{ hash: ChunkHash; bytes: Uint8Array }>): Buffer {
  return Buffer.concat(chunks.flatMap((c) => encodeFrame(c.hash, c.bytes)));
}

export async function uploadChunks(url: string, repo: string, chunks: ReadonlyArray<{ hash: ChunkHash; bytes: Uint8Array }>) {
  return api(url, 'POST', `/v1/repos/${repo}/chunks`, frames(chunks), { 'content-type': 'application/octet-stream' });
}

/** Upload the chunks of every file, then commit them all in one commit. */
export async function putFilesViaApi(
  url: string, repo: string, branch: string, files: Record<string, Uint8Array | string>, extra: Record<string, unknown> = {},
) {
  const changes = [];
  for (const [path, content] of Object.entries(files)) {
    const { manifest, chunks } = chunkBytes(typeof content === 'string' ? Buffer.from(content) : content);
    if (chunks.length > 0) {
      const up = await uploadChunks(url, repo, chunks);
      if (up.status !== 200) throw new Error(`chunk upload failed: ${up.text}`);
    }
    changes.push({ op: 'put', path, manifest });
  }
  return api(url, 'POST', `/v1/repos/${repo}/commits`, { branch, message: `put ${Object.keys(files).join(', ')}`, author: 'test', changes, ...extra });
}
