import { describe, expect, it } from 'vitest';
import { statementName } from './statement-name';

const OPERATIONS = [
  'lookup',
  'get_user',
  'insert',
  'insert_event',
  'confirm',
  'confirm_event',
  'sync',
  'reserve',
  'release',
  'find_invitation',
  'pending_invitation',
  'consume_invitation',
];

describe('statementName', () => {
  it('an operation ending where a schema begins does not collide (insert + event_X vs insert_event + X)', () => {
    expect(statementName('insert', 'event_X')).not.toBe(statementName('insert_event', 'X'));
    expect(statementName('confirm', 'event_jit')).not.toBe(statementName('confirm_event', 'jit'));
  });

  it('is injective over every operation and a family of schemas built to collide, long ones included', () => {
    const schemas = ['X', 'event_X', 'x', 'event_x', 'user_X', 'invitation_X', 'a'.repeat(63)];
    for (const schema of ['X', 'x']) schemas.push(`${'event_'.repeat(9)}${schema}`.slice(0, 63));
    // Long schemas go to the hashed form; one that equals a hash must not meet it there.
    schemas.push(statementName('lookup', 'a'.repeat(63)).split('#')[2] as string);
    const names = new Map<string, string>();
    for (const operation of OPERATIONS) {
      for (const schema of schemas) {
        const name = statementName(operation, schema);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
        expect(names.get(name), name).toBeUndefined();
        names.set(name, `${operation} ${schema}`);
      }
    }
    expect(names.size).toBe(OPERATIONS.length * schemas.length);
  });
});
