export type { ObjectStore } from './object-store.js';
export { LocalObjectStore, assertObjectKey, assertRange } from './local-store.js';
export { MemoryObjectStore } from './memory-store.js';
export { S3ObjectStore, parseS3Url, type S3StoreOptions } from './s3-store.js';
export { openObjectStore, type OpenObjectStoreOptions } from './open-store.js';
