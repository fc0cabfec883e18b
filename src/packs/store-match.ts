/**
 * The object store must be the one the metadata indexes. Uploads are deduplicated against the
 * chunk index, so a server started on existing metadata with the wrong store (a typo in `--store`,
 * a bucket emptied or re-provisioned) would answer "already stored" for every indexed chunk and
 * acknowledge commits whose bytes are nowhere. Packs are never deleted, so the packs the index
 * names must be in the store: a sample of up to 16 (the first intact entry under each leading hex
 * digit) is looked up, and the store is refused only if it holds none of them, so one lost pack
 * (damage, repaired by chunks/check and a re-put) does not stop the server. A missing bucket is
 * created only for metadata that indexes nothing yet.
 */
import { fail } from '../errors.js';
import { keys } from '../meta/keys.js';
import type { MetaStore } from '../meta/meta-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { decodeLocation, isDamaged, packKey } from './chunk-location.js';

const HEX = '0123456789abcdef';

/** Up to 16 distinct packs the index names: the first intact entry under each leading hex digit. */
async function sampledPacks(meta: MetaStore): Promise<string[]> {
  const { gte } = keys.chunkRange();
  const packs = new Set<string>();
  for (const digit of HEX) {
    // Entries marked damaged may name a pack that is gone: the first intact one counts.
    for await (const [, value] of meta.entries({ gte: `${gte}${digit}`, lt: `${gte}${digit}\xff` })) {
      if (isDamaged(value)) continue;
      packs.add(decodeLocation(value).pack);
      break;
    }
  }
  return [...packs];
}

/** Whether the metadata indexes no chunk yet (a store may then be created empty). */
export async function indexIsEmpty(meta: MetaStore): Promise<boolean> {
  for await (const [, value] of meta.entries(keys.chunkRange())) if (!isDamaged(value)) return false;
  return true;
}

/** Throw E_STORE_UNAVAILABLE, saying what to check, when the store holds none of the sampled packs the index names. */
export async function verifyStoreHoldsIndex(meta: MetaStore, store: ObjectStore, metaLocation: string): Promise<void> {
  const packs = await sampledPacks(meta);
  if (packs.length === 0) return;
  for (const pack of packs) if ((await store.stat(packKey(pack))) !== undefined) return;
  throw fail(
    'E_STORE_UNAVAILABLE',
    `object store ${store.description} holds none of the ${packs.length} packs sampled from the metadata in ${metaLocation} (such as ${packs[0]}): ` +
      'is this the store this data dir was used with (--store, bucket, prefix), and was it emptied? Refusing to serve from it, ' +
      'since uploads of indexed chunks would be skipped',
    { packs },
  );
}
