/**
 * The engine facade: one object holding the stores and exposing every operation. The server and
 * tests build one with `openEngine` (LevelDB + an object store) and call its verbs.
 */
import path from 'node:path';
import { DEFAULT_CHUNKER_PARAMS, validateChunkerParams, type ChunkerParams } from './chunking/index.js';
import { LevelMetaStore } from './meta/level-meta.js';
import type { MetaStore } from './meta/meta-store.js';
import { createContext, type EngineContext, type EngineOptions } from './ops/context.js';
import { dropSparePackBuffers } from './packs/pack-writer.js';
import { indexIsEmpty, verifyStoreHoldsIndex } from './packs/store-match.js';
import type { ObjectStore } from './storage/object-store.js';
import { openObjectStore } from './storage/open-store.js';
import { WebhookService, type WebhookEngineHooks } from './webhooks/service.js';
import type { WebhookSettings } from './webhooks/types.js';

export interface OpenEngineOptions {
  dataDir: string;
  /** `file://DIR`, `s3://BUCKET/PREFIX` or empty for `<dataDir>/objects`. */
  store?: string;
  s3Endpoint?: string;
  s3Region?: string;
  /** Local stores: packs with O_DIRECT (default true). */
  directIo?: boolean;
  chunker?: ChunkerParams;
  packTargetBytes?: number;
  /** Extra write hooks, run after the webhook outbox's. */
  hooks?: WebhookEngineHooks;
  /** Retry period, backoff, timeouts of webhook deliveries (the server starts delivering). */
  webhooks?: WebhookSettings;
}

export interface Engine {
  readonly ctx: EngineContext;
  readonly meta: MetaStore;
  readonly store: ObjectStore;
  readonly dataDir: string;
  readonly webhooks: WebhookService;
  check(): Promise<void>;
  /**
   * Let go of the buffers kept for the next upload or read (pack and run buffers), for when the
   * server is at rest; returns their bytes, freed by the next garbage collection. The pack
   * buffers are kept per process, shared by every engine in it.
   */
  dropSpareBuffers(): number;
  close(): Promise<void>;
}

export async function openEngine(opts: OpenEngineOptions): Promise<Engine> {
  const metaDir = path.join(opts.dataDir, 'meta');
  const meta = await LevelMetaStore.open(metaDir);
  let store: ObjectStore;
  try {
    store = openObjectStore(opts.store ?? '', {
      dataDir: opts.dataDir, s3Endpoint: opts.s3Endpoint, s3Region: opts.s3Region, directIo: opts.directIo,
      // An empty bucket for metadata that indexes chunks would take every upload as a duplicate.
      mayCreateBucket: () => indexIsEmpty(meta),
    });
  } catch (err) {
    await meta.close();
    throw err;
  }
  const webhooks = new WebhookService(opts.webhooks);
  const ctx = createContext({
    meta,
    store,
    chunker: validateChunkerParams(opts.chunker ?? DEFAULT_CHUNKER_PARAMS),
    packTargetBytes: opts.packTargetBytes,
    ...combineHooks(webhooks.engineHooks(), opts.hooks),
  });
  try {
    await webhooks.open(ctx);
  } catch (err) {
    await Promise.allSettled([store.close(), meta.close()]);
    throw err;
  }
  let storeMatches: Promise<void> | undefined;
  return {
    ctx,
    meta,
    store,
    dataDir: opts.dataDir,
    webhooks,
    async check() {
      await meta.check();
      // Once per engine: packs are never deleted, so a store that held the indexed pack still does.
      storeMatches ??= verifyStoreHoldsIndex(meta, store, metaDir).catch((err: unknown) => {
        storeMatches = undefined;
        throw err;
      });
      await storeMatches;
      await store.check();
    },
    dropSpareBuffers() {
      return dropSparePackBuffers() + ctx.reader.dropSpareBuffers();
    },
    async close() {
      await webhooks.stopDelivery();
      await ctx.pending.settled(); // answered uploads finish before the stores close
      await store.close();
      await meta.close();
    },
  };
}

/** Both sets of hooks run: ops are concatenated, callbacks called in order. */
function combineHooks(a: WebhookEngineHooks, b: WebhookEngineHooks | undefined): Partial<EngineOptions> {
  if (!b) return a;
  return {
    onCommitOps: (input) => [...(a.onCommitOps?.(input) ?? []), ...(b.onCommitOps?.(input) ?? [])],
    onBranchOps: (input) => [...(a.onBranchOps?.(input) ?? []), ...(b.onBranchOps?.(input) ?? [])],
    afterWrite: () => {
      a.afterWrite?.();
      b.afterWrite?.();
    },
    onRepoDelete: async (repo) => {
      await a.onRepoDelete?.(repo);
      await b.onRepoDelete?.(repo);
    },
  };
}
