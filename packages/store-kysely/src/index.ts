export type { ChangeFeedOptions } from './changes';
export type { DialectName } from './dialect';
export { type MigrateOptions, migrate } from './migrate';
export { createKyselyStore, type KyselyStore, type KyselyStoreOptions } from './store';
