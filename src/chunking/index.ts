export {
  DEFAULT_CHUNKER_PARAMS,
  chunkerId,
  parseChunkerId,
  validateChunkerParams,
  type ChunkerParams,
} from './params.js';
export { GEAR, GEAR_SEED_PREFIX, deriveGearTable, gearTableBytes } from './gear.js';
export { CdcScanner, GEAR_WINDOW, chunkerMasks, highBitsMask } from './cdc-scanner.js';
export { FileChunker, chunkSource, type Chunk } from './file-chunker.js';
