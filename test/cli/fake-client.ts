/**
 * An in-memory stand-in for DatactlClient, just enough for putFiles/getFiles: chunks by hash, one
 * branch of committed manifests. For unit tests of the transfer pipeline without a server; the
 * real server is exercised end to end elsewhere.
 */
import type { CommitRequest, Entry, FileEntry, Manifest } from '../../cli/api-types.js';
import type { DatactlClient } from '../../cli/client.js';
import { decodeFrameBatches, decodeFrames, encodeFrames } from '../../src/wire/frames.js';
import { DatactlError } from '../../src/errors.js';
import type { ChunkHash } from '../../src/types.js';

type Change = CommitRequest['changes'][number];

export class FakeClient {
  readonly baseUrl = 'http://fake';
  readonly chunks = new Map<string, Uint8Array>();
  files = new Map<string, Manifest>();
  commits: CommitRequest[] = [];
  /** Corrupt reads: flip this chunk's first byte when served. */
  corrupt: string | undefined;

  asClient(): DatactlClient {
    return this as unknown as DatactlClient;
  }

  async missingChunks(_repo: string, hashes: readonly string[]) {
    return { missing: hashes.filter((h) => !this.chunks.has(h)) };
  }

  async uploadChunks(_repo: string, body: Uint8Array | readonly Uint8Array[]) {
    let n = 0;
    for await (const f of decodeFrames(one(Array.isArray(body) ? Buffer.concat(body as Uint8Array[]) : (body as Uint8Array)))) {
      this.chunks.set(f.hash, Uint8Array.from(f.bytes));
      n++;
    }
    return { received: n, stored: n, storedBytes: 0, deduplicated: 0 };
  }

  async getBranch(_repo: string, name: string) {
    if (this.commits.length === 0) throw new DatactlError('E_BRANCH_NOT_FOUND', `branch "${name}" not found`);
    return { name, head: `c${this.commits.length}`.padEnd(64, '0'), createdAt: '' };
  }

  /** As the server: every change read (objects, groups of them, or NDJSON lines as a put sends), then one commit. */
  async commitStream(
    repo: string,
    header: Omit<CommitRequest, 'changes'>,
    changes: Iterable<Change> | AsyncIterable<Change | readonly Change[] | Uint8Array>,
  ) {
    const all: Change[] = [];
    for await (const item of changes) {
      if (item instanceof Uint8Array) all.push(...Buffer.from(item).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Change));
      else all.push(...(Array.isArray(item) ? (item as readonly Change[]) : [item as Change]));
    }
    return this.commit(repo, { ...header, changes: all });
  }

  async commit(_repo: string, req: CommitRequest) {
    const before = JSON.stringify([...this.files]);
    for (const change of req.changes) {
      if (change.op === 'delete') continue;
      const absent = change.manifest.chunks.filter(([h]) => !this.chunks.has(h));
      if (absent.length > 0) throw new DatactlError('E_CHUNKS_MISSING', 'chunks missing', { missing: absent });
      this.files.set(change.path, change.manifest);
    }
    this.commits.push(req);
    const created = JSON.stringify([...this.files]) !== before;
    return { created, commit: { id: `c${this.commits.length}`.padEnd(64, '0'), parents: [] } as never };
  }

  async stat(_repo: string, _ref: string, path: string) {
    const m = this.files.get(path);
    if (m) return { commit: 'c', entry: this.fileEntry(path, m) };
    const below = [...this.files.keys()].filter((p) => path === '/' || p.startsWith(`${path}/`));
    if (below.length === 0) throw new DatactlError('E_PATH_NOT_FOUND', `${path} not found`);
    const size = below.reduce((n, p) => n + this.files.get(p)!.size, 0);
    return { commit: 'c', entry: { name: path.split('/').pop()!, path, type: 'dir', size } as Entry };
  }

  /** Entries per listing page at most, whatever the limit asked (a server may answer fewer). */
  pageSize = Infinity;

  async listTree(_repo: string, _ref: string, opts: { path?: string; limit?: number; cursor?: string }) {
    const dir = opts.path ?? '/';
    const prefix = dir === '/' ? '/' : `${dir}/`;
    const names = new Map<string, Entry>();
    for (const [p, m] of this.files) {
      if (!p.startsWith(prefix)) continue;
      const [name, ...rest] = p.slice(prefix.length).split('/');
      const path = `${prefix}${name}`;
      if (rest.length === 0) names.set(name!, this.fileEntry(path, m));
      else names.set(name!, { name: name!, path, type: 'dir', size: 0 });
    }
    const all = [...names.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    const from = Number(opts.cursor ?? 0);
    const to = from + Math.min(this.pageSize, opts.limit ?? Infinity);
    return { commit: 'c', path: dir, entries: all.slice(from, to), nextCursor: to < all.length ? String(to) : null };
  }

  async readFile(_repo: string, _ref: string, path: string) {
    const m = this.files.get(path)!;
    const parts = m.chunks.map(([h]) => this.serve(h));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of parts) controller.enqueue(p);
        controller.close();
      },
    });
    return { status: 200, body, commit: 'c', contentHash: m.hash, contentLength: m.size, etag: null };
  }

  async *readChunks(_repo: string, hashes: readonly string[], options = {}) {
    yield* decodeFrames(one(this.framed(hashes)), options);
  }

  async *readChunkBatches(_repo: string, hashes: readonly string[]) {
    yield* decodeFrameBatches(one(this.framed(hashes)));
  }

  private framed(hashes: readonly string[]): Uint8Array {
    return encodeFrames(hashes.map((h) => ({ hash: h as ChunkHash, bytes: this.serve(h) })));
  }

  private serve(hash: string): Uint8Array {
    const bytes = Uint8Array.from(this.chunks.get(hash)!);
    if (hash === this.corrupt) bytes[0] ^= 0xff;
    return bytes;
  }

  private fileEntry(path: string, m: Manifest): FileEntry {
    return { name: path.split('/').pop()!, path, type: 'file', size: m.size, hash: m.hash, chunks: m.chunks };
  }
}

async function* one(body: Uint8Array): AsyncGenerator<Uint8Array> {
  yield body;
}
