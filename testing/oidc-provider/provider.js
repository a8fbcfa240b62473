// A real OpenID Provider (the npm package oidc-provider) configured like an Okta org,
// for Spark's end-to-end sign-in tests. Test use only: it trusts whoever types an email.
//
//   node provider.js --client-id ID --client-secret SECRET --redirect-uri URI [--port N]
//                    [--claims-in-userinfo-only] [--users JSON]
//
// It listens on 127.0.0.1 (a free port unless --port is given), then prints one JSON line
// on stdout: {"issuer":"http://127.0.0.1:PORT"}. The issuer is the org URL, as on Okta.
//
// Like an Okta org: one confidential Web Application client (client_secret_basic),
// authorization code flow only, PKCE S256 required, scopes openid profile email, RS256
// ID tokens carrying email and email_verified, no consent screen (first-party app).
//
// The login form is plain HTML that a test drives over HTTP:
//   GET  /interaction/:uid        the form (one field: email)
//   POST /interaction/:uid/login  email=...  -> signs that user in
// Users (override with --users, or the SPARK_OP_USERS environment variable: a JSON array
// of {sub, email, email_verified, given_name, family_name, assigned, login}; `login` is
// what the form takes, the email unless given — so two users may carry one email, as Okta
// allows):
//   ada@acme.com         verified email
//   grace@acme.com       verified email
//   unverified@acme.com  email_verified: false
//   denied@acme.com      not assigned to the app: the callback gets access_denied
//                        "User is not assigned to the client application."
// Any other email is refused with the form again (HTTP 401).
//
// Okta Universal Logout: the org signs each request to an app's logout endpoint with its
// ID-token key (Okta, "Build Universal Logout for your app"). A test asks for such tokens:
//   POST /test/universal-logout-tokens  {"aud": ENDPOINT, "count": N, ...overrides}
//     -> {"tokens": [JWT, ...]}
// Header typ global-token-revocation+jwt, RS256, this org's kid; claims jti (unique),
// iss (this issuer), sub (the client id), aud, exp (+5 min), nbf (-5 min), iat, as Okta
// sends them. Overrides for refusal tests: any claim ("exp": seconds, or null to leave it
// out), "typ", and "key": "foreign" to sign with a key the org does not publish (under
// the org's own kid).
//
// Spark as an Okta API service app (real-time sign-out), with --service-client JSON:
// {"client_id": ID, "jwks": {"keys": [Spark's public key]}, "scope": SCOPES} — a client of
// the client credentials grant only, authenticated by private_key_jwt (RS256), allowed
// SCOPES (default okta.universalLogout.manage), as Okta's service apps are.
// And a stand-in for Okta's Global Token Revocation API (Okta's own cannot run here):
//   POST /oauth2/v1/global-token-revocation  {"sub_id": {"format": "opaque", "id": …}}
// It checks the bearer token the way Okta does — a token this org issued (its own store)
// to the service client by the client credentials grant, with the scope
// okta.universalLogout.manage — and records every call. A test reads and steers it:
//   GET  /test/revocations           -> {"calls": [{"id", "status", "client_id"}, …]}
//   POST /test/revocation-endpoint   {"status": 503, "retry_after": 1}: answer that (a
//                                    status of 204 restores normal service)

import {
  createPrivateKey, createSign, generateKeyPairSync, randomBytes, randomUUID,
} from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    port: { type: 'string', default: '0' },
    'claims-in-userinfo-only': { type: 'boolean', default: false },
    users: { type: 'string' },
    'service-client': { type: 'string' },
  },
});

for (const required of ['client-id', 'client-secret', 'redirect-uri']) {
  if (!args[required]) {
    console.error(`missing --${required}`);
    process.exit(2);
  }
}

const DEFAULT_USERS = [
  { sub: '00u-ada', email: 'ada@acme.com', email_verified: true, given_name: 'Ada', family_name: 'Lovelace' },
  { sub: '00u-grace', email: 'grace@acme.com', email_verified: true, given_name: 'Grace', family_name: 'Hopper' },
  { sub: '00u-unverified', email: 'unverified@acme.com', email_verified: false, given_name: 'Una', family_name: 'Verified' },
  { sub: '00u-denied', email: 'denied@acme.com', email_verified: true, assigned: false },
];
const usersJson = args.users || process.env.SPARK_OP_USERS;
const users = usersJson ? JSON.parse(usersJson) : DEFAULT_USERS;
const byLogin = new Map(users.map((u) => [(u.login || u.email).toLowerCase(), u]));
const bySub = new Map(users.map((u) => [u.sub, u]));

function claimsOf(user) {
  const name = [user.given_name, user.family_name].filter(Boolean).join(' ') || undefined;
  return {
    sub: user.sub,
    email: user.email,
    email_verified: user.email_verified,
    name,
    given_name: user.given_name,
    family_name: user.family_name,
  };
}

// The key is generated as PEM and read back into a KeyObject of its own: exporting the
// KeyObject generateKeyPairSync returns as a JWK can deadlock Node 20 when a garbage
// collection runs during the export (the collected key-generation job locks the key the
// export holds), which left the provider hung before it listened.
const privateKey = createPrivateKey(generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
}).privateKey);
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `k-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' };

// Made when a test first asks for a token signed by it.
let foreignKey;

function base64url(value) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

// One Universal Logout token, signed like Okta signs it (see the header comment).
function logoutToken(issuer, request) {
  const now = Math.floor(Date.now() / 1000);
  const { aud, key, typ, count, ...overrides } = request;
  const header = { typ: typ === undefined ? 'global-token-revocation+jwt' : typ, alg: 'RS256', kid: signingKey.kid };
  const claims = {
    jti: randomUUID(),
    iss: issuer,
    sub: args['client-id'],
    aud,
    exp: now + 300,
    nbf: now - 300,
    iat: now,
    ...overrides,
  };
  for (const [name, value] of Object.entries(claims)) {
    if (value === null) delete claims[name];
  }
  const input = `${base64url(header)}.${base64url(claims)}`;
  if (key === 'foreign') {
    foreignKey ||= createPrivateKey(generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    }).privateKey);
  }
  const signature = createSign('RSA-SHA256').update(input).sign(key === 'foreign' ? foreignKey : privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

const UNIVERSAL_LOGOUT_SCOPE = 'okta.universalLogout.manage';
const serviceClient = args['service-client'] ? JSON.parse(args['service-client']) : undefined;
const revocationCalls = [];
let revocationEndpoint = { status: 204 };

const configuration = {
  clients: [
    ...(serviceClient ? [{
      client_id: serviceClient.client_id,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks: serviceClient.jwks,
      scope: serviceClient.scope === undefined ? UNIVERSAL_LOGOUT_SCOPE : serviceClient.scope,
    }] : []),
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      redirect_uris: args['redirect-uri'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
  },
  scopes: ['openid', 'profile', 'email', UNIVERSAL_LOGOUT_SCOPE, 'okta.users.read'],
  responseTypes: ['code'],
  pkce: { required: () => true },
  // Okta puts the requested claims in the ID token; --claims-in-userinfo-only shows the
  // strict OIDC behaviour (claims only from userinfo) instead.
  conformIdTokenClaims: args['claims-in-userinfo-only'],
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    clientCredentials: { enabled: true },
  },
  interactions: {
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  // A first-party app: no consent screen; every sign-in gets the scopes it asked for.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email');
    await grant.save();
    return grant;
  },
  async findAccount(ctx, sub) {
    const user = bySub.get(sub);
    if (!user) return undefined;
    return { accountId: sub, claims: async () => claimsOf(user) };
  },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Interaction: 600,
    Session: 600,
    Grant: 600,
  },
  renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
};

function form(uid, message = '') {
  return `<!doctype html><title>Sign in</title>${message ? `<p role="alert">${message}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label>Email <input name="email" autofocus></label><button>Sign in</button></form>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const server = http.createServer();
server.listen(Number(args.port), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration);

  provider.use(async (ctx, next) => {
    if (ctx.path === '/test/revocations' && ctx.method === 'GET') {
      ctx.type = 'json';
      ctx.body = { calls: revocationCalls };
      return undefined;
    }
    if (ctx.path === '/test/revocation-endpoint' && ctx.method === 'POST') {
      revocationEndpoint = await readJson(ctx.req);
      ctx.status = 204;
      return undefined;
    }
    if (ctx.path !== '/oauth2/v1/global-token-revocation') return next();
    if (ctx.method !== 'POST') ctx.throw(405);
    const body = await readJson(ctx.req);
    const bearer = (ctx.get('authorization').match(/^Bearer (.+)$/i) || [])[1];
    const token = bearer && await provider.ClientCredentials.find(bearer);
    const call = { id: body.sub_id && body.sub_id.id, format: body.sub_id && body.sub_id.format, client_id: token ? token.clientId : null };
    revocationCalls.push(call);
    ctx.type = 'json';
    if (!token) {
      call.status = 401;
      ctx.status = 401;
      ctx.body = { errorCode: 'E0000011', errorSummary: 'Invalid token provided' };
    } else if (!serviceClient || token.clientId !== serviceClient.client_id
      || !(token.scope || '').split(' ').includes(UNIVERSAL_LOGOUT_SCOPE)) {
      call.status = 403;
      ctx.status = 403;
      ctx.body = { errorCode: 'E0000006', errorSummary: 'You do not have permission to perform the requested action' };
    } else if (call.format !== 'opaque' || !call.id) {
      call.status = 400;
      ctx.status = 400;
      ctx.body = { errorCode: 'E0000001', errorSummary: 'Api validation failed: sub_id' };
    } else {
      call.status = revocationEndpoint.status || 204;
      ctx.status = call.status;
      if (revocationEndpoint.retry_after !== undefined) ctx.set('Retry-After', String(revocationEndpoint.retry_after));
      if (call.status === 204) ctx.body = null;
      else if (call.status === 429) ctx.body = { errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.' };
      else ctx.body = { errorCode: 'E0000009', errorSummary: 'Internal Server Error' };
    }
    return undefined;
  });

  provider.use(async (ctx, next) => {
    if (ctx.path !== '/test/universal-logout-tokens') return next();
    if (ctx.method !== 'POST') ctx.throw(405);
    const request = await readJson(ctx.req);
    const count = Math.min(Math.max(Number(request.count) || 1, 1), 100000);
    ctx.type = 'json';
    ctx.body = { tokens: Array.from({ length: count }, () => logoutToken(issuer, request)) };
    return undefined;
  });

  provider.use(async (ctx, next) => {
    const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (!match) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== match[1]) ctx.throw(400, 'interaction mismatch');
    if (ctx.method === 'GET' && !match[2]) {
      ctx.type = 'html';
      ctx.body = form(details.uid);
      return undefined;
    }
    if (ctx.method !== 'POST' || !match[2]) ctx.throw(405);
    const email = ((await readForm(ctx.req)).get('email') || '').trim().toLowerCase();
    const user = byLogin.get(email);
    if (!user) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = form(details.uid, 'Unknown user');
      return undefined;
    }
    const result = user.assigned === false
      ? { error: 'access_denied', error_description: 'User is not assigned to the client application.' }
      : { login: { accountId: user.sub } };
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.redirect(to);
    ctx.status = 303;
    return undefined;
  });

  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
