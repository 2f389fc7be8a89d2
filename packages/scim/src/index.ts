// `@jit-provision/scim`: the SCIM 2.0 wire layer over the provisioner's directory (decision 0008).
export { hashToken, MIN_TOKEN_BYTES } from './auth';
export { ERROR_SCHEMA, ScimError, type ScimErrorBody, type ScimType } from './errors';
export {
  ENTERPRISE_URN,
  GROUP_URN,
  MAX_FILTER_DEPTH,
  MAX_FILTER_LENGTH,
  MAX_FILTER_TERMS,
  USER_URN,
} from './filter';
export { MAX_PATCH_OPERATIONS } from './patch';
export { type ScimServer, type ScimServerOptions, scimServer } from './server';
