import { MemoryObjectStore } from '../../src/storage/memory-store.js';
import { objectStoreConformance } from './conformance.js';

objectStoreConformance('MemoryObjectStore', async () => ({
  store: new MemoryObjectStore(),
  cleanup: async () => {},
}));
