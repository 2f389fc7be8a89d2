/**
 * In-process notice that an invitation was created, keyed by the invitation store, so every service and
 * policy over one store hears it (an admin API's service and `invitationRequired`'s may be different
 * objects). Other processes are not told: their refusal caches expire on their own.
 */
const listeners = new WeakMap<object, Set<(email: string) => void>>();

/**
 * Call `listener` with the normalised email of every invitation created on `store` in this process.
 *
 * @example
 * ```ts
 * onInvitationCreated(store.invitations, (email) => refused.delete(email));
 * ```
 */
export function onInvitationCreated(store: object, listener: (email: string) => void): void {
  const set = listeners.get(store) ?? new Set();
  listeners.set(store, set);
  set.add(listener);
}

/**
 * Tell the listeners of `store` that an invitation for `email` now exists.
 *
 * @example
 * ```ts
 * invitationCreated(store.invitations, 'ada@example.com');
 * ```
 */
export function invitationCreated(store: object, email: string): void {
  for (const listener of listeners.get(store) ?? []) listener(email);
}
