// The door of config/: what other folders of core may use from it.
export { configFromEnv, type EnvConfig } from './env';
