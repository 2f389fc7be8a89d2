import type * as entry from '@jit-provision/core/backchannel';
import { describe, expectTypeOf, it } from 'vitest';
import type { InternalValue, Values } from '../test-support';

// Types are pinned by name in surface.test.ts (the compiler's export list); a type cannot enumerate them.
describe('@jit-provision/core/backchannel exports', () => {
  it('exactly the values listed in entries.ts', () => {
    expectTypeOf<keyof typeof entry>().toEqualTypeOf<Values<'backchannel'>>();
  });
  it('no internal helper', () => {
    expectTypeOf<Extract<keyof typeof entry, InternalValue>>().toBeNever();
  });
});
