// The door of lifecycle/: what other folders of core may use from it.
export { type CheckEntry, type CheckReport, runChecks } from './check';
export { createDirectoryFactory, type DirectoryFactoryOptions } from './directory';
export type { DirectoryOptions, DirectoryProvisioning, DirectoryRoleMapping } from './directory-types';
export { LIST_LIMITS, validActor } from './fields';
export {
  type AdminKeeper,
  adminKeeperOf,
  assertAdminRemains,
  createAdminKeeper,
  isActiveAdmin,
  storeAdminKeeper,
  type UserChange,
} from './last-admin';
export { createLastSeen, DEFAULT_LAST_SEEN_INTERVAL_MS } from './last-seen';
export { createUserLifecycle } from './lifecycle';
export { createPreProvision, type PreProvisionInput } from './pre-provision';
export { signedOutSince } from './revocation';
export type { LifecycleChangeOptions, ListUsersQuery, UserLifecycle } from './types';
