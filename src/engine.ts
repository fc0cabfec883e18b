/**
 * The engine facade: one object holding the stores and exposing every operation. The server and
 * tests build one with `openEngine` (LevelDB + an object store) and call its verbs.
 */
import path from 'node:path';
import { DEFAULT_CHUNKER_PARAMS, validateChunkerParams, type ChunkerParams } from './chunking/index.js';
import { LevelMetaStore } from './meta/level-meta.js';
import type { MetaStore } from './meta/meta-store.js';
import { createContext, type EngineContext, type EngineOptions } from './ops/context.js';
import type { ObjectStore } from './storage/object-store.js';
import { openObjectStore } from './storage/open-store.js';

export interface OpenEngineOptions {
  dataDir: string;
  /** `file://DIR`, `s3://BUCKET/PREFIX` or empty for `<dataDir>/objects`. */
  store?: string;
  s3Endpoint?: string;
  s3Region?: string;
  chunker?: ChunkerParams;
  packTargetBytes?: number;
  hooks?: Pick<EngineOptions, 'onCommitOps' | 'onBranchOps' | 'afterWrite'>;
}

export interface Engine {
  readonly ctx: EngineContext;
  readonly meta: MetaStore;
  readonly store: ObjectStore;
  check(): Promise<void>;
  close(): Promise<void>;
}

export async function openEngine(opts: OpenEngineOptions): Promise<Engine> {
  const store = openObjectStore(opts.store ?? '', { dataDir: opts.dataDir, s3Endpoint: opts.s3Endpoint, s3Region: opts.s3Region });
  const meta = await LevelMetaStore.open(path.join(opts.dataDir, 'meta'));
  const ctx = createContext({
    meta,
    store,
    chunker: validateChunkerParams(opts.chunker ?? DEFAULT_CHUNKER_PARAMS),
    packTargetBytes: opts.packTargetBytes,
    ...opts.hooks,
  });
  return {
    ctx,
    meta,
    store,
    async check() {
      await meta.check();
      await store.check();
    },
    async close() {
      await store.close();
      await meta.close();
    },
  };
}
