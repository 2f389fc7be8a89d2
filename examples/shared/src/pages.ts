// The example pages (/admin, /invite, /account) as one static bundle every example serves through `pageFor`:
// files from ../public, a small config the scripts read, and headers that forbid inline script and style.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PAGES_CLIENT_ID } from './dev-provider';

const publicDir = fileURLToPath(new URL('../public/', import.meta.url));

const PAGES: Record<string, string> = {
  '/admin': 'admin.html',
  '/invite': 'invite.html',
  '/account': 'account.html',
};
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** A framework-neutral answer each example translates into its own response. */
export interface PageResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The headers of every page and asset: scripts and styles only from files of this origin. */
export function pageHeaders(issuer: string | undefined, type: string): Record<string, string> {
  const provider = issuer === undefined ? '' : ` ${issuer}`;
  return {
    'content-type': type,
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self'",
      // The token request goes to the provider; the API is this origin.
      `connect-src 'self'${provider}`,
      "form-action 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  };
}

/**
 * The page, asset or config at `path` (no query), or `undefined` when `path` is none of them. `issuer` is the
 * dev provider's; without one the pages say sign-in is unavailable.
 *
 * @example
 * app.get(['/admin', '/invite', '/account', '/pages/*'], async (req, res) => {
 *   const page = await pageFor(req.path, demo.op?.issuer, AUDIENCE);
 *   page ? res.status(page.status).set(page.headers).send(page.body) : res.sendStatus(404);
 * });
 */
export async function pageFor(path: string, issuer: string | undefined): Promise<PageResponse | undefined> {
  if (path === '/pages/config.json') {
    return {
      status: 200,
      headers: pageHeaders(issuer, 'application/json'),
      body: JSON.stringify({ issuer: issuer ?? null, clientId: PAGES_CLIENT_ID, api: '/admin/api' }),
    };
  }
  const asset = /^\/pages\/([a-z-]+\.(js|css))$/.exec(path);
  const file = PAGES[path] ?? asset?.[1];
  if (file === undefined) return undefined;
  const type = TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
  try {
    return {
      status: 200,
      headers: pageHeaders(issuer, type),
      body: await readFile(`${publicDir}${file}`, 'utf8'),
    };
  } catch {
    return undefined;
  }
}

/** The paths `pageFor` answers, for frameworks that register routes one by one. */
export const PAGE_PATHS = ['/admin', '/invite', '/account', '/pages/:file'] as const;
