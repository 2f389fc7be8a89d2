import type { AuthResult } from '@jit-provision/core';

/** Context variables set by `jitProvision`: `auth` is null when skipped or anonymous. */
export type AuthVariables = { auth: AuthResult | null };
