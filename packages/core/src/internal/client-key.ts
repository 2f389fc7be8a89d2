/** Options of {@link clientKey}. */
export interface ClientKeyOptions {
  /** Leading bits of an IPv6 address that name one client (default 64: one host usually owns a whole /64). */
  ipv6Prefix?: number;
  /** Leading bits of an IPv4 address that name one client (default 32). */
  ipv4Prefix?: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEXTET = /^[0-9a-f]{1,4}$/;
/** Longer than any textual address: such a value is not parsed, only cut down. */
const MAX_ADDRESS_CHARS = 100;

function ipv4Bytes(text: string): number[] | null {
  const match = IPV4.exec(text);
  if (match === null) return null;
  const bytes = match.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

function hextets(part: string): number[] | null {
  if (part === '') return [];
  const groups = part.split(':');
  const out: number[] = [];
  for (const group of groups) {
    if (!HEXTET.test(group)) return null;
    out.push(Number.parseInt(group, 16));
  }
  return out;
}

/** The 8 hextets of an IPv6 address (`::` compression and a dotted IPv4 tail allowed), or null. */
function ipv6Hextets(text: string): number[] | null {
  let body = text;
  const tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (lastColon !== -1 && body.includes('.', lastColon)) {
    const v4 = ipv4Bytes(body.slice(lastColon + 1));
    if (v4 === null) return null;
    tail.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
    // Keep the colon of a `::` before the IPv4 part ("::ffff:1.2.3.4" → "::ffff", "::1.2.3.4" → "::").
    body = body.slice(0, body.endsWith('::', lastColon + 1) ? lastColon + 1 : lastColon);
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const head = hextets(halves[0] as string);
  const rest = halves.length === 2 ? hextets(halves[1] as string) : [];
  if (head === null || rest === null) return null;
  const given = head.length + rest.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  return [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail];
}

function maskBits(values: readonly number[], width: number, prefix: number): number[] {
  return values.map((value, i) => {
    const keep = Math.min(width, Math.max(0, prefix - i * width));
    return keep === 0 ? 0 : value & (((1 << width) - 1) ^ ((1 << (width - keep)) - 1));
  });
}

const ipv4Key = (bytes: readonly number[], prefix: number) =>
  `${maskBits(bytes, 8, prefix).join('.')}/${prefix}`;

/**
 * The rate-limit key of a client address: an IPv6 address stands for its network (`ipv6Prefix` bits, /64 by
 * default, since one host is routinely given a whole /64 and could otherwise pick 2^64 fresh keys), an IPv4
 * address for itself (or its `ipv4Prefix` network). A zone id (`fe80::1%eth0`) and brackets are dropped, and an
 * IPv4-mapped IPv6 address (`::ffff:203.0.113.7`, as a dual-stack socket reports IPv4 clients) is keyed as the
 * IPv4 address it carries, so one client has one key however the framework spells it. Anything else (no
 * address, a value that is not one) is its own key, cut to 100 characters. Pure: no lookup, no state.
 *
 * @example
 * ```ts
 * clientKey('2001:db8:1:2:aaaa::1');    // '2001:db8:1:2:0:0:0:0/64'
 * clientKey('2001:DB8:1:2::ffff%eth0'); // '2001:db8:1:2:0:0:0:0/64' (same client)
 * clientKey('::ffff:203.0.113.7');      // '203.0.113.7/32'
 * ```
 */
export function clientKey(address: string | undefined, options: ClientKeyOptions = {}): string {
  if (address === undefined || address === '') return 'unknown';
  if (address.length > MAX_ADDRESS_CHARS) return `?${address.slice(0, MAX_ADDRESS_CHARS)}`;
  const ipv6Prefix = options.ipv6Prefix ?? 64;
  const ipv4Prefix = options.ipv4Prefix ?? 32;
  let text = address.trim().toLowerCase();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  const v4 = ipv4Bytes(text);
  if (v4 !== null) return ipv4Key(v4, ipv4Prefix);
  const v6 = ipv6Hextets(text);
  if (v6 === null) return `?${address}`;
  // ::ffff:a.b.c.d — the first 80 bits zero, then 16 ones.
  if (v6.slice(0, 5).every((h) => h === 0) && v6[5] === 0xffff) {
    const [hi, lo] = [v6[6] as number, v6[7] as number];
    return ipv4Key([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff], ipv4Prefix);
  }
  return `${maskBits(v6, 16, ipv6Prefix)
    .map((h) => h.toString(16))
    .join(':')}/${ipv6Prefix}`;
}
