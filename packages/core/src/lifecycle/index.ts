// The door of lifecycle/: what other folders of core may use from it.
export { type CheckEntry, type CheckReport, runChecks } from './check';
export { createLastSeen } from './last-seen';
export { createUserLifecycle, LIST_LIMITS, validActor } from './lifecycle';
export type { ListUsersQuery, UserLifecycle } from './types';
