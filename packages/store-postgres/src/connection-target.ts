import { ConfigurationError } from '@jit-provision/core';
import type pg from 'pg';

const ADVICE =
  'node-postgres connects to one host and cannot follow libpq failover (several hosts, target_session_attrs): ' +
  'give it one endpoint that follows the primary (a proxy, a virtual IP or a DNS name), or pass a pg.Pool of your own';

const URL_FORM = /^postgres(?:ql)?:\/\//i;

/** What in `value` asks for libpq's failover, or undefined when it names one endpoint. */
function failoverPart(value: string): string | undefined {
  if (URL_FORM.test(value)) {
    const rest = value.replace(URL_FORM, '');
    const authority = rest.split(/[/?#]/, 1)[0] ?? '';
    if (authority.slice(authority.lastIndexOf('@') + 1).includes(',')) return 'several hosts';
    const query = rest.includes('?') ? rest.slice(rest.indexOf('?') + 1).split('#', 1)[0] : '';
    const params = new URLSearchParams(query);
    if ((params.get('host') ?? '').includes(',')) return 'several hosts';
    const attrs = params.get('target_session_attrs');
    if (attrs !== null && attrs !== 'any') return `target_session_attrs=${attrs}`;
    return undefined;
  }
  // libpq's keyword/value form: `host=a,b port=5432 target_session_attrs=read-write`.
  if (/(?:^|\s)host\s*=\s*'?[^\s',]*,/i.test(value)) return 'several hosts';
  const attrs = /(?:^|\s)target_session_attrs\s*=\s*'?([\w-]+)/i.exec(value)?.[1];
  if (attrs !== undefined && attrs !== 'any') return `target_session_attrs=${attrs}`;
  return undefined;
}

/**
 * Refuse a connection target that asks for libpq's failover: node-postgres parses neither several hosts nor
 * `target_session_attrs`, so such a store would answer 503 for ever. `where` names the option, for the message.
 */
export function assertOneEndpoint(
  where: string,
  target: { connectionString?: string | undefined; host?: string | undefined },
): void {
  const part =
    typeof target.host === 'string' && target.host.includes(',')
      ? 'several hosts'
      : typeof target.connectionString === 'string'
        ? failoverPart(target.connectionString)
        : undefined;
  if (part !== undefined) throw new ConfigurationError(`${where} asks for ${part}: ${ADVICE}`);
}

/** {@link assertOneEndpoint} on a pool's or a client's config. */
export const assertConfigOneEndpoint = (where: string, config: pg.ClientConfig | undefined): void =>
  assertOneEndpoint(where, { connectionString: config?.connectionString, host: config?.host });
