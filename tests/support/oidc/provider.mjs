// The OpenID provider Vaern's tests get access tokens from: oidc-provider (certified), one machine
// client per role (client-credentials grant), JWT access tokens for Vaern's audience carrying the
// client's role names, name and title. Started by tests/support/oidc_provider.py:
//   node provider.mjs PORT AUDIENCE [PAGE_TOKEN_SECONDS PAGE_ADDRESS...]
// With page addresses it also serves the guards' page: public clients signing in a person with the
// authorization-code flow and PKCE, at the provider's development login and consent pages (any
// password; only the people in USERS exist). `vaern-front-desk` is also given refresh tokens (as
// Keycloak gives them), `vaern-front-desk-no-refresh` none; their access tokens live PAGE_TOKEN_SECONDS.
// Test-only routes beside the provider's own:
//   POST /test/rotate         publish a new ES256 key first and sign with it from now on
//   GET  /test/jwks-requests  how many times the JWKS was fetched
import crypto from 'node:crypto';
import http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const [port, audience] = [Number(process.argv[2]), process.argv[3]];
const pageTokenSeconds = Number(process.argv[4] || 600);
const pageAddresses = process.argv.slice(5);
const issuer = `http://127.0.0.1:${port}`;
const OTHER_AUDIENCE = 'https://other-service.example/api';

// Role names as a municipality's directory gives them; the tests map them to Vaern's roles.
const CLIENTS = {
  'vaern-guard': { roles: ['Vaern.Guard'], name: 'Gitte Vagt' },
  'vaern-caseworker': { roles: ['Vaern.Caseworker'], name: 'Carl Berg', title: 'Sagsbehandler' },
  'vaern-leader': { roles: ['Vaern.Leader'], name: 'Lone Hansen', title: 'Afdelingsleder', alg: 'RS256' },
  'vaern-legal': { roles: ['Vaern.Legal'], name: 'Jens Jurist', title: 'Jurist' },
  'vaern-telephony': { roles: ['Vaern.Telephony'], name: 'Telefoni' },
  'vaern-management': { roles: ['Vaern.Management'], name: 'Mette Ledelse' },
  'vaern-two-roles': { roles: ['Vaern.Guard', 'Vaern.Leader'], name: 'Tove To' },
  'vaern-no-role': { roles: ['Some.Other.App'], name: 'Niels Ingen' },
  'vaern-expired': { roles: ['Vaern.Leader'], name: 'Lone Hansen', expired: true },
};
// The front-desk benchmark's guards: lookups are watched per user, and a desk has several guards.
for (let i = 1; i <= 300; i += 1) {
  CLIENTS[`vaern-guard-${i}`] = { roles: ['Vaern.Guard'], name: `Vagt ${i}` };
}

// People who sign in at the guards' page, by login name.
const USERS = {
  gitte: { roles: ['Vaern.Guard'], name: 'Gitte Vagt' },
  carl: { roles: ['Vaern.Caseworker'], name: 'Carl Berg', title: 'Sagsbehandler' },
};
const PAGE_CLIENTS = {
  'vaern-front-desk': ['authorization_code', 'refresh_token'],
  'vaern-front-desk-no-refresh': ['authorization_code'],
};

function pageClients() {
  if (pageAddresses.length === 0) return [];
  return Object.entries(PAGE_CLIENTS).map(([id, grants]) => ({
    client_id: id,
    application_type: 'web',
    token_endpoint_auth_method: 'none',
    grant_types: grants,
    response_types: ['code'],
    redirect_uris: pageAddresses,
  }));
}

// Who a token speaks for: the person signed in, or else the machine client itself.
function holder(token) {
  return token.accountId ? USERS[token.accountId] : CLIENTS[token.clientId];
}

function newKey(alg) {
  const pair = alg === 'RS256'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...pair.privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg, use: 'sig' };
}

let keys = [newKey('ES256'), newKey('RS256')];
let jwksRequests = 0;

function signingKid(alg) {
  return keys.find((key) => key.alg === alg).kid;
}

function build() {
  const provider = new Provider(issuer, {
    clients: [...Object.keys(CLIENTS).map((id) => ({
      client_id: id,
      client_secret: `${id}-secret`,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
    })), ...pageClients()],
    jwks: { keys },
    findAccount: (ctx, id) => (USERS[id]
      ? { accountId: id, claims: () => ({ sub: id, name: USERS[id].name }) }
      : undefined),
    issueRefreshToken: (ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: { RefreshToken: 3600 },
    features: {
      devInteractions: { enabled: pageAddresses.length > 0 },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource, client) => {
          if (resource !== audience && resource !== OTHER_AUDIENCE) throw new errors.InvalidTarget();
          const alg = CLIENTS[client.clientId]?.alg ?? 'ES256';
          return {
            scope: 'vaern',
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: PAGE_CLIENTS[client.clientId] ? pageTokenSeconds : 600,
            jwt: { sign: { alg, kid: signingKid(alg) } },
          };
        },
      },
    },
    extraTokenClaims: (ctx, token) => {
      const { roles, name, title } = holder(token);
      return { roles, name, ...(title ? { title } : {}) };
    },
    formats: {
      customizers: {
        jwt: (ctx, token, jwt) => {
          if (CLIENTS[token.clientId]?.expired) {
            jwt.payload.iat -= 7200;
            jwt.payload.exp = jwt.payload.iat + 600;
          }
        },
      },
    },
  });
  return provider.callback();
}

let handle = build();

http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/test/rotate') {
    keys = [newKey('ES256'), ...keys];
    handle = build();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ kid: signingKid('ES256') }));
    return;
  }
  if (req.method === 'GET' && req.url === '/test/jwks-requests') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ count: jwksRequests }));
    return;
  }
  if (req.url.startsWith('/jwks')) jwksRequests += 1;
  handle(req, res);
}).listen(port, '127.0.0.1', () => console.log(`oidc-provider ready at ${issuer}`));
