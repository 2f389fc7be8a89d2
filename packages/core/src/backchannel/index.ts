// `@jit-provision/core/backchannel`: OpenID Connect Back-Channel Logout as a route table, for an adapter's
// `router`, `routesPlugin` or `subApp` to mount where the provider sends logout tokens.
export {
  BACKCHANNEL_MAX_BODY_BYTES,
  type BackchannelLogout,
  type BackchannelLogoutOptions,
  backchannelLogout,
} from './logout';
