/**
 * The datactl SDK: `import { DatactlClient, putFiles, getFiles } from 'datactl'`. The same client
 * and transfer code the CLI uses, with no process-wide side effects.
 */
export { DatactlClient, DEFAULT_SERVER_URL, paginate } from './client.js';
export type { ClientOptions, DiffOptions, ReadFileOptions, TreeOptions, WriteOptions } from './client.js';
export type * from './api-types.js';
export { errorFromResponse, isUnreachable, translateNetworkError } from './http.js';
export { decodeFrames, encodeFrameHeader, encodeFrames, type Frame } from '../src/wire/frames.js';
export { putFiles, type PutFilesOptions, type PutFilesResult } from './transfer/put.js';
export { getFiles, type GetFilesOptions, type GetFilesResult } from './transfer/get.js';
export type { UploaderOptions } from './transfer/uploader.js';
export type { ProgressSink } from './progress.js';
export { defaultAuthor } from './defaults.js';
export {
  DEFAULT_BRANCH,
  parseBranchSpec,
  parseRef,
  parseRefSpec,
  type BranchSpec,
  type Ref,
  type RefSpec,
} from './refspec.js';
export { DatactlError, ERROR_CATALOG, isErrorCode, type ErrorCode } from '../src/errors.js';
export { parseBranchName, parseRepoName, parseRepoPath, type BranchName, type ChunkHash, type CommitId, type RepoName, type RepoPath } from '../src/types.js';
export { signBody, verifySignature } from '../src/webhooks/signature.js';
export {
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  type BranchEventPayload,
  type ChangedPath,
  type CommitEventPayload,
  type EventPayload,
  type PinObject,
} from '../src/webhooks/payload.js';
export { pinRef, readPin, writePin, type Pin, type PinEntry, type WritePinResult } from './pinfile.js';
export { pull, type PullOptions, type PullResult } from './transfer/pull.js';
export { ancestry, type AncestryResult } from './ancestry.js';
