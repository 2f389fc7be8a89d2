import { runStoreConformance } from '@jit-provision/testing';
import { createMemoryStore } from './index';

runStoreConformance({ name: 'memory', createStore: () => createMemoryStore() });
