// The door of store/: the kits a Store author runs.
export { createBrokenStore } from './broken-store';
export { runStoreConformance } from './conformance';
export { MAX_LENGTHS } from './edges';
export { runInvitationConformance } from './invitations';
export type { ConformanceOptions, StoreConformanceOptions } from './options';
