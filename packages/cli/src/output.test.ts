import { describe, expect, it } from 'vitest';
import { cell, printable, table } from './output';

describe('printable', () => {
  it('writes C0, DEL, C1 and bidi controls as escapes and leaves the rest as it is', () => {
    expect(printable('a\u001b]52;c;aGk=\u0007b')).toBe('a\\x1b]52;c;aGk=\\x07b');
    expect(printable('x\ny\rz\tw')).toBe('x\\ny\\rz\\tw');
    expect(printable('\u0000\u007f\u0085\u009b\u009d')).toBe('\\x00\\x7f\\x85\\x9b\\x9d');
    expect(printable('\u202e\u2066\u2069\u200f\u061c\u2028')).toBe(
      '\\u202e\\u2066\\u2069\\u200f\\u061c\\u2028',
    );
    expect(printable('Zoë Åström 山田 🙂 a\\x1b')).toBe('Zoë Åström 山田 🙂 a\\x1b');
    // Idempotent: what it writes holds nothing it would escape again.
    expect(printable(printable('\u001b\u009b\u202e'))).toBe(printable('\u001b\u009b\u202e'));
  });

  it('every table and record cell goes through it', () => {
    expect(cell('name\u001b[2J')).toBe('name\\x1b[2J');
    expect(table([{ name: 'a\u001b[2J\nb' }], ['name'])).toBe('name\na\\x1b[2J\\nb\n');
  });
});
