import type { Invitation, InvitationStatus, Store } from '../store';
import type { InvitationSecret } from './tokens';

/** What `send` receives: never the bare token, only the URL that embeds it. */
export interface InvitationMessage {
  email: string;
  /** `urlFor(token)`, or undefined when no `urlFor` was given. */
  url: string | undefined;
  invitation: Invitation;
}

/** Options of {@link createInvitationService}. */
export interface InvitationServiceOptions {
  /** A Store with `invitations` (both bundled stores have one). */
  store: Store;
  /** HMAC key, or a list while rotating: tokens are signed with the first and accepted with any. */
  secret: InvitationSecret | readonly InvitationSecret[];
  /** How long an invitation stays valid; default 7 days. */
  ttlMs?: number;
  /** Builds the link sent to the invitee, e.g. `` (t) => `https://app.example.com/signup?token=${t}` ``. */
  urlFor?: (token: string) => string;
  /** Delivers the invitation (mail it). A failure undoes the invitation (see `create`). */
  send?: (message: InvitationMessage) => void | Promise<void>;
  /** Clock, for tests. */
  now?: () => Date;
}

/** What {@link InvitationService.create} takes: one invitee. */
export interface CreateInvitationInput {
  email: string;
  /** Role the invitee gets on first login; default 'user'. */
  role?: string;
  /** Who invited (an admin's user id or email), kept for audit. */
  invitedBy: string;
  /** How long this invitation stays valid, instead of the service's `ttlMs`. */
  expiresInMs?: number;
}

/** A freshly created invitation. `token` exists only here: it is never stored or logged. */
export interface CreatedInvitation {
  invitation: Invitation;
  token: string;
  url: string | undefined;
}

/** One entry of `createMany`'s answer, in input order. A duplicate email shares the first one's invitation. */
export type CreateManyResult =
  | ({ ok: true; email: string; duplicate: boolean } & CreatedInvitation)
  | { ok: false; email: string; error: unknown };

/** Options of {@link InvitationService.createMany}. */
export interface CreateManyOptions {
  /** Invitations created at once; default 4. */
  concurrency?: number;
  /** Deliveries started per second at most; default 10. */
  perSecond?: number;
  /**
   * Awaited before each invitation is created, in place of this call's own `perSecond` bucket: pass one
   * shared throttle to several `createMany` calls so that together they keep one rate.
   */
  throttle?: () => Promise<void>;
  /** Told about each entry as soon as its outcome is known (duplicates at the end), for progress reports. */
  onResult?: (result: CreateManyResult, index: number) => void;
}

/** What a signup form may show before the invitation is used. */
export interface InvitationPreview {
  email: string;
  role: string;
  expiresAt: Date;
}

/** Single-use, expiring, HMAC-protected invitations. Create one with {@link createInvitationService}. */
export interface InvitationService {
  /** Create (replacing a pending one for the same email) and `send`. Throws when `send` fails, leaving nothing behind. */
  create(input: CreateInvitationInput): Promise<CreatedInvitation>;
  /** Bulk create, throttled; one failing item never aborts the batch. */
  createMany(
    list: readonly CreateInvitationInput[],
    options?: CreateManyOptions,
  ): Promise<CreateManyResult[]>;
  peek(input: { token: string }): Promise<InvitationPreview>;
  /** The invitation of a token whatever its state (admin tools, idempotent webhooks); null when unknown. */
  find(input: { token: string }): Promise<Invitation | null>;
  validate(input: { token: string; email: string }): Promise<Invitation>;
  /** Validate and mark used, atomically: of any number of racing calls exactly one succeeds. */
  consume(input: { token: string; email: string }): Promise<Invitation>;
  /** Soft (default): mark revoked, kept for audit. Hard: delete. False when there was no such invitation. */
  revoke(id: string, options?: { soft?: boolean }): Promise<boolean>;
  /** Delete invitations expired, consumed or revoked more than `olderThanMs` ago; returns how many. */
  purgeExpired(options: { olderThanMs: number }): Promise<number>;
  list(filter?: { status?: InvitationStatus }): Promise<Invitation[]>;
  /** Consume the pending invitation of an (already verified) email, without a token; null when none. */
  consumePendingForEmail(email: string): Promise<Invitation | null>;
  /**
   * Put back an invitation whose user creation failed: the one `consume` / `consumePendingForEmail`
   * returned. A no-op (false) once it was replaced by a re-invite, revoked, or consumed again.
   */
  unconsume(invitation: Pick<Invitation, 'id' | 'consumedAt'>): Promise<boolean>;
  /** The store this service was created with. */
  readonly store: Store;
}
