import { runStoreConformance } from '@jit-provision/core/testing';
import { createMemoryStore } from './index';

runStoreConformance({ name: 'memory', createStore: () => createMemoryStore() });
