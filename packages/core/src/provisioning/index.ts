// The door of provisioning/: what other folders of core may use from it.
export { type Authenticator, type AuthenticatorOptions, createAuthenticator } from './authenticate';
export { createProvisioner } from './provisioner';
export * from './types';
