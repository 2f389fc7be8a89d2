// The door of identity/: what other folders of core may use from it.
export { normaliseEmail, parseEmail, safeEqual } from './email';
export {
  hasControlCharacters,
  isIllFormed,
  isRole,
  ROLE_RULE,
  validateIdentity,
  validateRole,
} from './identity';
export { profileChanges, userKey } from './profile';
export { defaultPrefix, resolvePrefixes, usernameFor } from './username';
