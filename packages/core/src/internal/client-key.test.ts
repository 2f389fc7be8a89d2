import { describe, expect, it } from 'vitest';
import { clientKey } from './client-key';

describe('clientKey', () => {
  it('keys IPv6 by its /64: full, compressed, upper-case, bracketed and zoned forms of one network agree', () => {
    const key = '2001:db8:1:2:0:0:0:0/64';
    for (const address of [
      '2001:db8:1:2:3:4:5:6',
      '2001:0db8:0001:0002:ffff:ffff:ffff:ffff',
      '2001:DB8:1:2::9',
      '2001:db8:1:2::',
      '[2001:db8:1:2::1]',
      '2001:db8:1:2::1%eth0',
      '2001:db8:1:2:aaaa::1.2.3.4',
    ])
      expect(clientKey(address), address).toBe(key);
    expect(clientKey('2001:db8:1:3::1')).toBe('2001:db8:1:3:0:0:0:0/64');
    expect(clientKey('2001:db8::')).toBe('2001:db8:0:0:0:0:0:0/64');
    expect(clientKey('::1')).toBe('0:0:0:0:0:0:0:0/64');
    expect(clientKey('::')).toBe('0:0:0:0:0:0:0:0/64');
    expect(clientKey('fe80::1%25en0')).toBe(clientKey('fe80::2%lo'));
  });

  it('unmaps IPv4-mapped IPv6 (dotted or hex) to the IPv4 address it carries', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7/32');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7/32');
    expect(clientKey('::FFFF:cb00:7107')).toBe('203.0.113.7/32');
    expect(clientKey('0:0:0:0:0:ffff:203.0.113.7')).toBe('203.0.113.7/32');
    expect(clientKey('::ffff:127.0.0.2')).not.toBe(clientKey('::ffff:127.0.0.1'));
  });

  it('takes other prefixes: /128 keeps IPv6 hosts apart, /48 and IPv4 /24 group more', () => {
    expect(clientKey('2001:db8:1:2::1', { ipv6Prefix: 128 })).not.toBe(
      clientKey('2001:db8:1:2::2', { ipv6Prefix: 128 }),
    );
    expect(clientKey('2001:db8:1:2::1', { ipv6Prefix: 48 })).toBe('2001:db8:1:0:0:0:0:0/48');
    expect(clientKey('2001:db8:1:ffff::1', { ipv6Prefix: 56 })).toBe('2001:db8:1:ff00:0:0:0:0/56');
    expect(clientKey('203.0.113.200', { ipv4Prefix: 24 })).toBe('203.0.113.0/24');
    expect(clientKey('::ffff:203.0.113.200', { ipv4Prefix: 24 })).toBe('203.0.113.0/24');
  });

  it('anything that is not an address is its own key, cut to a bounded length', () => {
    expect(clientKey(undefined)).toBe('unknown');
    expect(clientKey('')).toBe('unknown');
    for (const bad of [
      '2001:db8:::1',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      '256.1.1.1',
      'fe80::g',
      '::ffff:1.2.3',
    ])
      expect(clientKey(bad), bad).toBe(`?${bad}`);
    expect(clientKey('1:2:3:4:5:6:7::8')).toBe('?1:2:3:4:5:6:7::8');
    expect(clientKey('x'.repeat(10_000)).length).toBeLessThanOrEqual(101);
  });
});
