/**
 * The object store must be the one the metadata indexes. Uploads are deduplicated against the
 * chunk index, so a server started on existing metadata with the wrong store (a typo in `--store`,
 * a bucket emptied or re-provisioned) would answer "already stored" for every indexed chunk and
 * acknowledge commits whose bytes are nowhere. Packs are never deleted, so the pack the first index
 * entry names must be in the store; and a missing bucket is created only for metadata that indexes
 * nothing yet.
 */
import { fail } from '../errors.js';
import { keys } from '../meta/keys.js';
import type { MetaStore } from '../meta/meta-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { decodeLocation, isDamaged, packKey } from './chunk-location.js';

/** The first chunk index entry's pack id, or undefined when the index is empty. */
async function firstIndexedPack(meta: MetaStore): Promise<string | undefined> {
  // Entries marked damaged may name a pack that is gone: the first intact one decides.
  for await (const [, value] of meta.entries(keys.chunkRange())) if (!isDamaged(value)) return decodeLocation(value).pack;
  return undefined;
}

/** Whether the metadata indexes no chunk yet (a store may then be created empty). */
export async function indexIsEmpty(meta: MetaStore): Promise<boolean> {
  return (await firstIndexedPack(meta)) === undefined;
}

/** Throw E_STORE_UNAVAILABLE, saying what to check, when the store lacks a pack the index names. */
export async function verifyStoreHoldsIndex(meta: MetaStore, store: ObjectStore, metaLocation: string): Promise<void> {
  const pack = await firstIndexedPack(meta);
  if (pack === undefined) return;
  if ((await store.stat(packKey(pack))) !== undefined) return;
  throw fail(
    'E_STORE_UNAVAILABLE',
    `object store ${store.description} does not hold pack ${pack}, which the metadata in ${metaLocation} indexes: ` +
      'is this the store this data dir was used with (--store, bucket, prefix), and was it emptied? Refusing to serve from it, ' +
      'since uploads of indexed chunks would be skipped',
    { pack },
  );
}
