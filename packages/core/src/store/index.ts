// The Store contract: the required core in store.ts, one file per optional part.

export type { UserChange, UserChangeFeed, UserChangeStatus, UserChangeSubscribeOptions } from './changes';
export type { Invitation, InvitationStatus, InvitationStore, NewInvitation } from './invitations';
export type { LogoutStore, RevokedSession } from './logout';
export type { OutboxEvent, OutboxStatus, OutboxStore } from './outbox';
export type { Reservation, ReservationStore } from './reservations';
export type {
  ScimCompareOp,
  ScimElementFilterAttribute,
  ScimFilter,
  ScimGroupFilterAttribute,
  ScimGroupRecord,
  ScimGroupWrite,
  ScimMultiValued,
  ScimNewUser,
  ScimPage,
  ScimPageQuery,
  ScimStore,
  ScimUniqueAttribute,
  ScimUserFilterAttribute,
  ScimUserRecord,
  ScimUserWrite,
} from './scim';
export type { Store, StoreCheckResult } from './store';
export type {
  NewUser,
  StoreKey,
  UserChangeOptions,
  UserEventInput,
  UserLifecycleStore,
  UserListQuery,
  UserPage,
  UserPatch,
} from './users';
