export * from './demo';
export * from './dev-provider';
export * from './metrics';
export * from './pages';
