/** A file's content: its ordered chunks, total size and whole-file BLAKE3. Pure, no I/O. */
import { fail } from '../errors.js';
import { EMPTY_HASH } from '../hash/blake3.js';
import { isHex64, type ChunkHash } from '../types.js';
import { objectId, objectIdOfLength } from './canonical.js';

export type ManifestChunk = [hash: ChunkHash, size: number];

export interface Manifest {
  size: number;
  hash: ChunkHash;
  /** Which chunker produced the boundaries, so the parameters can change without breaking old commits. */
  chunker: string;
  chunks: ManifestChunk[];
}

/** The largest single chunk accepted anywhere (the chunker's max is far below it). */
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024;
const CHUNKER_ID_RE = /^[a-z0-9][a-z0-9.:_-]{0,99}$/;

/**
 * The canonical encoding, built directly: keys in sorted order (chunker, chunks, hash, size) and
 * only strings, numbers and [hash, size] pairs inside, so JSON.stringify of this literal is exactly
 * canonicalJson's output without its generic key sort (a test holds them equal). Manifests are
 * encoded once per file per commit, so this sat on the hot path of 100k-file commits.
 */
export function encodeManifest(m: Manifest): string {
  return JSON.stringify({ chunker: m.chunker, chunks: m.chunks, hash: m.hash, size: m.size });
}

export function manifestId(m: Manifest): string {
  return objectId('manifest', encodeManifest(m));
}

/**
 * Chunker ids under which a manifest the tree entry already implies is not stored (see
 * impliedManifest). Append-only: a stored tree may name a manifest implied under any id ever
 * listed here, so dropping one would make those files unreadable. Written out rather than derived
 * from the default parameters, so that changing the default cannot drop the old id.
 */
export const IMPLIED_CHUNKERS: readonly string[] = ['fastcdc-v1:262144:1048576:4194304'];

/** What a tree's file entry says about its content: enough to find or rebuild its manifest. */
export interface ManifestRef {
  manifest: string;
  hash: string;
  size: number;
}

/**
 * Whether a manifest says nothing its tree entry does not: an empty file, or a file that is one
 * chunk (its chunk hash is its file hash), cut by a chunker in IMPLIED_CHUNKERS. Most small files
 * are such, and storing their manifests was a third of the records of a 100k-file commit.
 */
export function isImpliedManifest(m: Manifest): boolean {
  if (!IMPLIED_CHUNKERS.includes(m.chunker)) return false;
  if (m.chunks.length === 0) return m.size === 0;
  return m.chunks.length === 1 && m.chunks[0]![0] === m.hash && m.chunks[0]![1] === m.size;
}

/**
 * The id of an implied manifest (isImpliedManifest), undefined for any other: see impliedId. For a
 * validated manifest only (parseManifest, or the chunker's own): its hash must be hex. A 100k-file
 * commit computes 100k.
 */
export function impliedManifestId(m: Manifest): string | undefined {
  return isImpliedManifest(m) ? impliedId(m.hash, m.size, m.chunker) : undefined;
}

/**
 * The implied manifest (isImpliedManifest) of a file entry, or undefined when its manifest is
 * another: rebuilt from the entry's hash and size under each implied chunker id, and taken only
 * if it hashes to the entry's manifest id, so it is exactly the manifest that was committed.
 */
export function impliedManifest(ref: ManifestRef): Manifest | undefined {
  if (ref.size > MAX_CHUNK_BYTES) return undefined; // not one chunk
  for (const chunker of IMPLIED_CHUNKERS) {
    if (impliedId(ref.hash, ref.size, chunker) !== ref.manifest) continue;
    const hash = ref.hash as ChunkHash;
    return { size: ref.size, hash, chunker, chunks: ref.size === 0 ? [] : [[hash, ref.size]] };
  }
  return undefined;
}

/** The implied encodings (below) without their hash, size and chunker id. */
const IMPLIED_FIXED_CHARS = '{"chunker":"","chunks":[["",]],"hash":"","size":}'.length;
const EMPTY_FIXED_CHARS = '{"chunker":"","chunks":[],"hash":"","size":0}'.length;

/**
 * objectId('manifest', canonical encoding) of the implied manifest of `hash`, `size` and
 * `chunker`, encoded by one template whose byte length is counted rather than measured: every
 * character is ASCII for a hex hash and a listed chunker id (read from a tree, any other hash
 * only yields an id no entry names). Building the encoding, then the prefixed string, took ~1.0 us
 * and left ~1.1 KB of garbage per file; this ~0.85 us, and a 100k-file commit or listing computes
 * 100k. A test holds it equal to objectId of canonicalJson.
 */
function impliedId(hash: string, size: number, chunker: string): string {
  if (size === 0) {
    const length = EMPTY_FIXED_CHARS + chunker.length + hash.length;
    return objectIdOfLength('manifest', length, `{"chunker":"${chunker}","chunks":[],"hash":"${hash}","size":0}`);
  }
  const digits = String(size);
  const length = IMPLIED_FIXED_CHARS + chunker.length + 2 * hash.length + 2 * digits.length;
  return objectIdOfLength('manifest', length, `{"chunker":"${chunker}","chunks":[["${hash}",${digits}]],"hash":"${hash}","size":${digits}}`);
}

/** Validate an untrusted manifest (HTTP input); `where` names it in messages. */
export function parseManifest(value: unknown, where: string): Manifest {
  const bad = (why: string) => fail('E_INVALID_MANIFEST', `manifest for ${where}: ${why}`, { path: where });
  if (value === null || typeof value !== 'object') throw bad('must be an object');
  const v = value as Record<string, unknown>;
  if (!Number.isSafeInteger(v.size) || (v.size as number) < 0) throw bad('size must be a non-negative integer');
  if (!isHex64(v.hash)) throw bad('hash must be 64 lowercase hex digits');
  if (typeof v.chunker !== 'string' || !CHUNKER_ID_RE.test(v.chunker)) throw bad('chunker must be a chunker id');
  if (!Array.isArray(v.chunks)) throw bad('chunks must be an array of [hash, size]');
  let total = 0;
  for (const c of v.chunks) {
    // A one-chunk file's chunk hash is its file hash, checked above: the regex once, not twice.
    if (!Array.isArray(c) || c.length !== 2 || (c[0] !== v.hash && !isHex64(c[0]))) throw bad('each chunk must be [64-hex hash, size]');
    if (!Number.isSafeInteger(c[1]) || c[1] <= 0 || c[1] > MAX_CHUNK_BYTES) throw bad(`chunk size must be 1..${MAX_CHUNK_BYTES}`);
    total += c[1];
  }
  if (total !== v.size) throw bad(`chunk sizes add up to ${total}, not the declared size ${v.size as number}`);
  if (v.size === 0 && v.hash !== EMPTY_HASH) throw bad('an empty file must have the BLAKE3 hash of no bytes');
  return { size: v.size as number, hash: v.hash as ChunkHash, chunker: v.chunker, chunks: v.chunks as ManifestChunk[] };
}

/** Byte offset of every chunk in the file, plus the end: offsets[i]..offsets[i+1] is chunk i. */
export function chunkOffsets(m: Manifest): number[] {
  const offsets = new Array<number>(m.chunks.length + 1);
  let at = 0;
  for (let i = 0; i < m.chunks.length; i++) {
    offsets[i] = at;
    at += m.chunks[i]![1];
  }
  offsets[m.chunks.length] = at;
  return offsets;
}
