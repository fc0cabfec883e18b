/**
 * Server-side chunking for plain HTTP uploads (`curl -T file`): the body is chunked and hashed as it
 * streams in, chunks go to packs, and the file is committed as one change. Memory stays bounded by
 * the pack size plus one chunk, whatever the file size.
 */
import { chunkerId, FileChunker, type Chunk } from '../chunking/index.js';
import { requireRepo } from '../meta/records.js';
import type { Manifest, ManifestChunk } from '../objects/manifest.js';
import { ChunkIngest } from '../packs/chunk-ingest.js';
import type { BranchName, RepoName, RepoPath } from '../types.js';
import { commitChanges, type CommitResult } from './commit.js';
import type { EngineContext } from './context.js';

export interface UploadFileRequest {
  repo: RepoName;
  branch: BranchName;
  path: RepoPath;
  body: AsyncIterable<Uint8Array>;
  message: string;
  author: string;
}

export async function uploadFile(ctx: EngineContext, req: UploadFileRequest): Promise<CommitResult & { manifest: Manifest }> {
  await requireRepo(ctx.meta, req.repo);
  const chunker = new FileChunker(ctx.chunker);
  const ingest = new ChunkIngest(ctx.meta, ctx.store, req.repo, ctx.packTargetBytes, ctx.pending);
  const chunks: ManifestChunk[] = [];
  const keep = async (found: Chunk[], pushed?: Uint8Array) => {
    for (const c of found) {
      chunks.push([c.hash, c.size]);
      // A chunk inside the pushed buffer can be kept by reference; one assembled across pushes
      // lives in the chunker's reusable buffer and must be copied.
      const owned = pushed !== undefined && c.bytes.buffer === pushed.buffer ? c.bytes : Buffer.from(c.bytes);
      await ingest.add(c.hash, owned);
    }
  };
  for await (const piece of req.body) await keep(chunker.push(piece), piece);
  await keep(chunker.finish());
  await ingest.commit();
  const manifest: Manifest = { size: chunker.size, hash: chunker.contentHash(), chunker: chunkerId(ctx.chunker), chunks };
  const result = await commitChanges(ctx, {
    repo: req.repo,
    branch: req.branch,
    changes: [{ op: 'put', path: req.path, manifest }],
    message: req.message,
    author: req.author,
  });
  return { ...result, manifest };
}
