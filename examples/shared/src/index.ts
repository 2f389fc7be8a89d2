export * from './demo';
export * from './dev-provider';
export * from './pages';
