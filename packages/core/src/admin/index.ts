// `@jit-provision/core/admin`: the admin API as a route table, for an adapter's `adminApi` (or `router`,
// `routesPlugin`, `subApp`) to mount under a prefix of the app's choice.
export { type AdminApi, type AdminApiOptions, adminApi } from './api';
export type { BulkInvitationResult, BulkJobProgress } from './bulk';
export type { AdminAuth } from './context';
export type { AssignableRoles } from './grants';
export type { PeekRateLimitOptions } from './peek-limit';
