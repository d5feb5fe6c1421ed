import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { storeContract } from './contract.js';

storeContract('memory', { open: async () => new MemoryStore() });
