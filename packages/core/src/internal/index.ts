// The door of internal/: what other folders of core may use from it.
export { type ClientKeyOptions, clientKey } from './client-key';
export { headerValue } from './headers';
export { consoleLogger, describeError } from './logger';
export { Lru } from './lru';
export { nearMissHint } from './near-miss';
export { positive } from './positive';
export { createRateLimiter, type RateLimiter } from './rate-limit';
export { sleep, TIMED_OUT, withTimeout } from './timers';
export { createTokenBucket } from './token-bucket';
