export * from './demo';
export * from './metrics';
