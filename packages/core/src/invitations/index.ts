// The door of invitations/: what other folders of core may use from it.
export { onInvitationCreated } from './events';
export { createInvitationService } from './service';
export { INVITATION_STATUSES, invitationStatus } from './status';
export type { InvitationSecret } from './tokens';
export type {
  CreatedInvitation,
  CreateInvitationInput,
  CreateManyOptions,
  CreateManyResult,
  InvitationMessage,
  InvitationPreview,
  InvitationService,
  InvitationServiceOptions,
} from './types';
