import { describe, expect, it } from 'vitest';
import { isJitProvisionError, ReservationConflictError, StoreUnavailableError } from './errors';

describe('isJitProvisionError', () => {
  it('recognises errors of a second copy of core, where instanceof does not', async () => {
    // A query string makes Vite load errors.ts again as a separate module: a second copy of the classes,
    // as an ESM app and a CommonJS store each get one.
    const specifier = './errors.ts?second-copy';
    const copy = (await import(/* @vite-ignore */ specifier)) as typeof import('./errors');
    const foreign = new copy.ReservationConflictError();
    expect(foreign instanceof ReservationConflictError).toBe(false);
    expect(isJitProvisionError(foreign)).toBe(true);
    expect(isJitProvisionError(foreign, 'reservation_conflict')).toBe(true);
    expect(copy.isJitProvisionError(new ReservationConflictError(), 'reservation_conflict')).toBe(true);
  });

  it('checks the code when given, and refuses look-alikes without the brand', () => {
    expect(isJitProvisionError(new StoreUnavailableError(), 'reservation_conflict')).toBe(false);
    expect(
      isJitProvisionError(new StoreUnavailableError(), 'reservation_conflict', 'provisioning_unavailable'),
    ).toBe(true);
    const lookalike = Object.assign(new Error('x'), {
      code: 'reservation_conflict',
      status: 409,
      publicCode: 'x',
    });
    expect(isJitProvisionError(lookalike)).toBe(false);
    expect(isJitProvisionError(null)).toBe(false);
    expect(isJitProvisionError('reservation_conflict')).toBe(false);
  });
});
