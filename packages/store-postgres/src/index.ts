export { changesChannel, type ListenOptions } from './changes';
export { type MigrateCommandIo, runMigrateCommand } from './migrate-command';
export { type MigrateOptions, migrate } from './migrations';
export { DEFAULT_SCHEMA } from './schema-name';
export { createPostgresStore, type PostgresStore, type PostgresStoreOptions } from './store';
