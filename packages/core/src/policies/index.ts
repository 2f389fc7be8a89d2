// The door of policies/: what other folders of core may use from it.
export * from './policies';
