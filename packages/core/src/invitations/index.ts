// The door of invitations/: what other folders of core may use from it.
export { onInvitationCreated } from './events';
export {
  type CreatedInvitation,
  type CreateInvitationInput,
  type CreateManyOptions,
  type CreateManyResult,
  createInvitationService,
  INVITATION_STATUSES,
  type InvitationMessage,
  type InvitationPreview,
  type InvitationSecret,
  type InvitationService,
  type InvitationServiceOptions,
  invitationStatus,
} from './service';
