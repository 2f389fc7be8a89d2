// `@jit-provision/core/dev` inside workerd, for the kits bundled into kits-worker.mjs. A Worker cannot listen,
// so each issuer is a real createDevIssuer in the Node process that runs workerd.edge.ts, with its JWKS on
// loopback; this proxy asks it (over loopback HTTP, `bridge` below) to mint and rotate. The tokens are real
// RS256 tokens, and the Worker's provisioner fetches the JWKS over Miniflare's outbound network like any app.
// `jwksHits` is a synchronous getter: it is refreshed after every call and after every request the kits make.
let bridgeUrl;
const live = new Set();

/** Points the proxies at the Node side; set by the Worker on every request. */
export function setBridge(url) {
  bridgeUrl = url;
}

async function bridge(op, body) {
  const response = await fetch(`${bridgeUrl}/${op}`, { method: 'POST', body: JSON.stringify(body) });
  const result = await response.json();
  if (!response.ok) throw new Error(`bridge ${op}: ${result.error}`);
  return result;
}

/** Reads every live issuer's JWKS hit count from the Node side. */
export async function refreshHits() {
  if (live.size === 0) return;
  const { hits } = await bridge('hits', { ids: [...live].map((issuer) => issuer.id) });
  for (const issuer of live) issuer.state.jwksHits = hits[issuer.id];
}

export async function createDevIssuer(options = {}) {
  const state = await bridge('create', { options });
  const issuer = {
    id: state.id,
    state,
    get issuer() {
      return state.issuer;
    },
    get jwksUri() {
      return state.jwksUri;
    },
    get currentKid() {
      return state.currentKid;
    },
    get jwksHits() {
      return state.jwksHits;
    },
    get discoveryHits() {
      return state.discoveryHits;
    },
    jwks: () => state.jwks,
    async mint(claims, mintOptions) {
      const { token, ...next } = await bridge('mint', { id: state.id, claims, options: mintOptions });
      Object.assign(state, next);
      return token;
    },
    async rotateKeys(alg) {
      Object.assign(state, await bridge('rotate', { id: state.id, alg }));
      return state.currentKid;
    },
    async publicKeyPem(kid) {
      const { pem, ...next } = await bridge('pem', { id: state.id, kid });
      Object.assign(state, next);
      return pem;
    },
    async close() {
      live.delete(issuer);
      await bridge('close', { id: state.id });
    },
  };
  live.add(issuer);
  return issuer;
}
