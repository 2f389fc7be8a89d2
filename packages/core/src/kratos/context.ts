import { KRATOS_MAX_BODY_BYTES } from '../adapter';
import { InvalidRequestError, PayloadTooLargeError } from '../errors';
import { parseEmail } from '../identity';

type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The JSON object of a webhook body: parsed here when an adapter hands over text or bytes. */
export function readBody(body: unknown): Json {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
    if (size > KRATOS_MAX_BODY_BYTES) throw new PayloadTooLargeError();
    try {
      body = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
    } catch {
      throw new InvalidRequestError('body must be JSON');
    }
  }
  if (!isObject(body)) throw new InvalidRequestError('body must be a JSON object');
  return body;
}

/** What the handlers need, from either the whole jsonnet `ctx` or the flat `{ traits, request_url }` shape. */
export interface KratosContext {
  identityId: string | undefined;
  traits: Json;
  token: string | undefined;
  verifiableAddresses: unknown[];
}

function tokenFrom(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url, 'http://localhost').searchParams.get('token') ?? undefined;
  } catch {
    return undefined;
  }
}

/** The fields read from a body; everything else Kratos sends is ignored. */
interface RawContext {
  identity?: unknown;
  identity_id?: unknown;
  flow?: unknown;
  traits?: unknown;
  request_url?: unknown;
  verifiable_addresses?: unknown;
}

interface RawIdentity {
  id?: unknown;
  traits?: unknown;
  verifiable_addresses?: unknown;
}

export function parseContext(body: Json): KratosContext {
  const raw = body as RawContext;
  const identity: RawIdentity | undefined = isObject(raw.identity) ? raw.identity : undefined;
  const flow: RawContext | undefined = isObject(raw.flow) ? raw.flow : undefined;
  const traits = identity?.traits ?? raw.traits;
  if (!isObject(traits)) throw new InvalidRequestError('identity.traits (or traits) must be an object');
  const id = identity?.id ?? raw.identity_id;
  // The flow's request_url is where the user arrived (with ?token=); the top-level one is the form POST.
  const token = tokenFrom(flow?.request_url) ?? tokenFrom(raw.request_url);
  const addresses = identity?.verifiable_addresses ?? raw.verifiable_addresses;
  return {
    identityId: typeof id === 'string' && id.length > 0 ? id : undefined,
    traits,
    token,
    verifiableAddresses: Array.isArray(addresses) ? addresses : [],
  };
}

export function requireIdentityId(ctx: KratosContext): string {
  if (ctx.identityId === undefined) throw new InvalidRequestError('identity.id is required');
  return ctx.identityId;
}

interface RawAddress {
  value?: unknown;
  via?: unknown;
  verified?: unknown;
}

interface Traits {
  email?: unknown;
  name?: unknown;
}

/** The address as the one email parser reads it; undefined when it refuses it (never verified then). */
function addressOf(value: unknown): string | undefined {
  try {
    return parseEmail(value).address;
  } catch {
    return undefined;
  }
}

export function emailVerified(ctx: KratosContext, email: string | undefined): boolean | undefined {
  const wanted = addressOf(email);
  if (wanted === undefined) return undefined;
  let found: boolean | undefined;
  for (const entry of ctx.verifiableAddresses) {
    if (!isObject(entry)) continue;
    const address = entry as RawAddress;
    if (addressOf(address.value) !== wanted) continue;
    if (address.via !== undefined && address.via !== 'email') continue;
    found = address.verified === true;
  }
  return found;
}

export function nameFrom(traits: Traits): string | undefined {
  const { name } = traits;
  if (typeof name === 'string') return name;
  if (isObject(name)) {
    const { first, last } = name as { first?: unknown; last?: unknown };
    const parts = [first, last].filter((p): p is string => typeof p === 'string' && p !== '');
    return parts.length > 0 ? parts.join(' ') : undefined;
  }
  return undefined;
}

export const emailOf = ({ email }: Traits) => (typeof email === 'string' ? email : undefined);
