import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../errors.js';
import { LocalObjectStore } from './local-store.js';
import { MemoryObjectStore } from './memory-store.js';
import type { ObjectStore } from './object-store.js';
import { parseS3Url, S3ObjectStore } from './s3-store.js';

export interface OpenObjectStoreOptions {
  /** The server's data directory; an empty spec means `<dataDir>/objects`. */
  dataDir: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3ForcePathStyle?: boolean;
  /** Local stores: write packs with O_DIRECT where the filesystem takes it (default true; see direct-io.ts). */
  directIo?: boolean;
  /** S3: whether a missing bucket may be created (default: always); asked when it is found missing. */
  mayCreateBucket?: () => Promise<boolean>;
}

/**
 * Open the object store a spec names: '' (=> `<dataDir>/objects`), a plain path, `file://DIR`,
 * `s3://BUCKET/PREFIX` (credentials from the SDK's default chain) or `memory://`.
 * Relative paths resolve against the working directory.
 */
export function openObjectStore(spec: string, opts: OpenObjectStoreOptions): ObjectStore {
  const local = { directIo: opts.directIo };
  if (spec === '') return new LocalObjectStore(path.join(opts.dataDir, 'objects'), local);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(spec)?.[1]?.toLowerCase();
  switch (scheme) {
    case undefined:
      return new LocalObjectStore(path.resolve(spec), local);
    case 'file':
      return new LocalObjectStore(filePath(spec), local);
    case 'memory':
      return new MemoryObjectStore();
    case 's3':
      return new S3ObjectStore({
        ...parseS3Url(spec),
        endpoint: opts.s3Endpoint,
        region: opts.s3Region,
        forcePathStyle: opts.s3ForcePathStyle,
        // A fresh MinIO/RGW has no bucket yet; the first health check creates it (if allowed).
        createBucket: opts.mayCreateBucket ?? true,
      });
    default:
      throw fail('E_BAD_REQUEST', `unknown object store scheme "${scheme}://" (use file://, s3:// or memory://)`);
  }
}

/** `file:///abs/dir` is a URL (percent-decoded); `file://rel/dir` is taken literally as a relative path. */
function filePath(spec: string): string {
  const rest = spec.slice('file://'.length);
  if (rest === '') throw fail('E_BAD_REQUEST', 'file:// needs a directory');
  return rest.startsWith('/') ? fileURLToPath(`file://${rest}`) : path.resolve(rest);
}
