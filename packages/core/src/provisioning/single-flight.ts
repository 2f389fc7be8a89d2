import type { Identity } from '../types';
import type { ProvisionResult } from './types';

/** A provisioning call in flight, and the identity (with the profile) it syncs the row to. */
interface Flight {
  readonly identity: Identity;
  readonly result: Promise<ProvisionResult>;
}

/** Whether a caller may share a flight: the same profile (and provider role) to sync, so the same answer. */
const sameProfile = (a: Identity, b: Identity) =>
  a.email === b.email && a.name === b.name && a.providerRole === b.providerRole;

/** A joiner's answer: the flight's row, never `created: true` (only the caller that ran the slow path sees it). */
const joined = (shared: ProvisionResult): ProvisionResult => ({ ...shared, created: false });

/** Runs `run` for `identity` (whose user key is `key`), or joins the call already running for it. */
export type SingleFlight = (
  identity: Identity,
  key: string,
  run: () => Promise<ProvisionResult>,
) => Promise<ProvisionResult>;

/**
 * One provisioning call per identity in flight in this process; concurrent callers with the same profile
 * share its result, so they make one round trip and racing first logins one slow path, where exactly one
 * caller sees `created: true`. Keyed by the user key alone (a key with the profile fields appended cost a
 * concatenation and a hash of the long string on every call); a caller with another profile runs on its own,
 * unshared, as one in another process would.
 *
 * @example
 * ```ts
 * const fly = createSingleFlight();
 * const { user } = await fly(identity, userKey(identity), () => resolve(identity));
 * ```
 */
export function createSingleFlight(): SingleFlight {
  const inflight = new Map<string, Flight>();
  return (identity, key, run) => {
    const running = inflight.get(key);
    if (running !== undefined && sameProfile(running.identity, identity)) return running.result.then(joined);
    const flight: Flight = { identity, result: run() };
    if (running !== undefined) return flight.result;
    inflight.set(key, flight);
    const done = () => {
      if (inflight.get(key) === flight) inflight.delete(key);
    };
    flight.result.then(done, done);
    return flight.result;
  };
}
