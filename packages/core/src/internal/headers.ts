import type { AuthInput } from '../types';

/**
 * Every value of header `name` (lower case) in a web `Headers` or a Node-style record of any case.
 * The one header reader: duck-typed on `get`, so `Headers` from another realm or a polyfill work too.
 * Two differently-cased record keys are two headers, returned as a list so a caller can refuse the ambiguity.
 */
export function headerValue(headers: AuthInput['headers'], name: string): string | string[] | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  let found: string | string[] | undefined;
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() !== name) continue;
    const value = record[key];
    if (value === undefined) continue;
    if (found !== undefined) return [...[found].flat(), ...[value].flat()];
    found = value;
  }
  return found;
}
