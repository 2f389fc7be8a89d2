// Sign-in for the example pages: OIDC authorization code with PKCE against the dev provider. The access token
// lives in this module's memory only; sessionStorage holds just the PKCE verifier and state across the redirect.
let accessToken = null;
let cachedConfig = null;

export async function config() {
  if (!cachedConfig) cachedConfig = await (await fetch('/pages/config.json')).json();
  return cachedConfig;
}

function base64url(bytes) {
  let text = '';
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
const random = (n) => base64url(crypto.getRandomValues(new Uint8Array(n)));

/** Leaves for the provider's login; it comes back to `path` of this origin with a code. */
export async function signIn(path, loginHint) {
  const cfg = await config();
  if (!cfg.issuer) throw new Error('sign-in is not configured: the demo runs without its dev provider');
  const verifier = random(32);
  const state = random(16);
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem('pkce', JSON.stringify({ verifier, state, path }));
  const url = new URL(`${cfg.issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: cfg.clientId,
    response_type: 'code',
    redirect_uri: `${location.origin}${path}`,
    scope: 'openid email profile',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    ...(loginHint ? { login_hint: loginHint } : {}),
  }).toString();
  location.assign(url.toString());
}

/** On the way back from the provider: trades the code for a token (kept in memory) and cleans the URL. */
export async function completeSignIn() {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const failure = params.get('error');
  if (!code && !failure) return false;
  const saved = JSON.parse(sessionStorage.getItem('pkce') ?? 'null');
  sessionStorage.removeItem('pkce');
  // The code must not stay in the address bar or history.
  history.replaceState(null, '', location.pathname);
  if (failure) throw new Error(`sign-in failed: ${failure}`);
  if (!saved || saved.state !== params.get('state')) throw new Error('sign-in failed: state mismatch');
  const cfg = await config();
  const res = await fetch(`${cfg.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: `${location.origin}${saved.path}`,
      client_id: cfg.clientId,
      code_verifier: saved.verifier,
    }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`sign-in failed: ${body.error ?? res.status}`);
  accessToken = body.access_token;
  return true;
}

export const signedIn = () => accessToken !== null;
export function signOut() {
  accessToken = null;
}

/** A JSON call with the bearer token; resolves to { status, body } (body null for 204). */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  if (accessToken) headers.authorization = `Bearer ${accessToken}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Replaces `parent`'s content by a table of `rows` (arrays of strings or nodes); text is never parsed as HTML. */
export function renderTable(parent, headings, rows) {
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  for (const heading of headings) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = heading;
    head.append(th);
  }
  const tbody = table.createTBody();
  for (const row of rows) {
    const tr = tbody.insertRow();
    for (const cell of row) {
      const td = tr.insertCell();
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell ?? '';
    }
  }
  parent.replaceChildren(table);
}

export function button(label, onClick, className = 'secondary') {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}
