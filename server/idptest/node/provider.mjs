// A real OpenID provider (panva's certified oidc-provider) for Baton's tests.
//
// The Go package server/idptest starts this script with its configuration as
// JSON in IDPTEST_CONFIG, reads one JSON line {"issuer": ...} from stdout once
// the provider listens on 127.0.0.1 (its issuer names localhost or 127.0.0.1,
// as configured), and drives it from then on:
//   - people sign in through the small HTML pages below (a login form that
//     checks the password, then a consent page with Allow and Deny);
//   - the test adds people and rotates the signing key through /__idptest/*,
//     which needs the bearer token from the configuration.
// The process ends when its standard input closes, so a test binary that dies
// cannot leave it running.
import crypto from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.IDPTEST_CONFIG || '{}');
const controlToken = config.controlToken || '';
if (controlToken.length < 16) {
  process.stderr.write('idptest: IDPTEST_CONFIG needs a controlToken\n');
  process.exit(2);
}

const usersBySubject = new Map();
const usersByEmail = new Map();
function addUser(user) {
  if (!user.subject || !user.email) throw new Error('a user needs subject and email');
  const previous = usersBySubject.get(user.subject);
  if (previous) usersByEmail.delete(previous.email.toLowerCase());
  usersBySubject.set(user.subject, user);
  usersByEmail.set(user.email.toLowerCase(), user);
}
for (const user of config.users || []) addUser(user);

function newSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };
}

// Cookie keys outlive key rotation so a browser's session survives it.
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];
const idTokenSeconds = new Map(
  (config.clients || []).map((c) => [c.id, c.idTokenSeconds > 0 ? c.idTokenSeconds : 3600]),
);

function buildProvider(issuer, signingKey) {
  const provider = new Provider(issuer, {
    clients: (config.clients || []).map((c) => ({
      client_id: c.id,
      client_secret: c.secret,
      redirect_uris: c.redirectURIs,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: c.authMethod || 'client_secret_basic',
    })),
    jwks: { keys: [signingKey] },
    cookies: { keys: cookieKeys },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Scope claims go into the ID token itself, where Baton reads them.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: { IdToken: (_ctx, _token, client) => idTokenSeconds.get(client.clientId) || 3600 },
    async findAccount(_ctx, subject) {
      const user = usersBySubject.get(subject);
      if (!user) return undefined;
      return {
        accountId: subject,
        async claims() {
          return {
            sub: subject,
            email: user.email,
            email_verified: Boolean(user.emailVerified),
            name: user.name,
          };
        },
      };
    },
  });
  return { provider, handler: provider.callback(), kid: signingKey.kid };
}

function escapeHTML(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHTML(title)}</title></head>
<body><main><h1>${escapeHTML(title)}</h1>${body}</main></body></html>`);
}

function denyForm(uid) {
  return `<form method="post" action="/interaction/${escapeHTML(uid)}/abort"><button type="submit">Deny</button></form>`;
}

function loginPage(res, uid, error) {
  page(res, 200, 'Sign in', `${error ? `<p role="alert">${escapeHTML(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHTML(uid)}/login">
<label for="email">Email</label> <input id="email" name="email" type="email" autocomplete="username">
<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in</button>
</form>`);
}

function consentPage(res, uid, clientId, scopes) {
  page(res, 200, 'Allow access?', `<p>${escapeHTML(clientId)} asks for: ${escapeHTML(scopes.join(' '))}</p>
<form method="post" action="/interaction/${escapeHTML(uid)}/confirm"><button type="submit">Allow</button></form>
${denyForm(uid)}`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 64 * 1024) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

async function interaction(current, req, res, uid, action) {
  const { provider } = current;
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    page(res, 400, 'Wrong interaction', '<p>This sign-in belongs to another window.</p>');
    return;
  }
  const { prompt, params } = details;
  if (req.method === 'GET' && !action) {
    if (prompt.name === 'login') loginPage(res, uid, '');
    else consentPage(res, uid, params.client_id, String(params.scope || '').split(' '));
    return;
  }
  if (req.method !== 'POST') {
    page(res, 405, 'Method not allowed', '');
    return;
  }
  if (action === 'abort') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'the person denied the request',
    }, { mergeWithLastSubmission: false });
    return;
  }
  if (action === 'login') {
    const form = await readForm(req);
    const user = usersByEmail.get(String(form.get('email') || '').toLowerCase());
    if (!user || user.password !== form.get('password')) {
      loginPage(res, uid, 'Wrong email or password.');
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: user.subject } }, { mergeWithLastSubmission: false });
    return;
  }
  if (action === 'confirm' && prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  page(res, 400, 'Unknown step', '');
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

async function control(state, req, res, path) {
  const expected = Buffer.from(`Bearer ${controlToken}`);
  const given = Buffer.from(req.headers.authorization || '');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    json(res, 401, { error: 'control token required' });
    return;
  }
  if (req.method === 'POST' && path === '/__idptest/users') {
    let body = '';
    for await (const chunk of req) body += chunk;
    addUser(JSON.parse(body));
    json(res, 200, { ok: true });
    return;
  }
  if (req.method === 'POST' && path === '/__idptest/rotate') {
    state.current = buildProvider(state.issuer, newSigningKey());
    json(res, 200, { kid: state.current.kid });
    return;
  }
  if (req.method === 'GET' && path === '/__idptest/kid') {
    json(res, 200, { kid: state.current.kid });
    return;
  }
  json(res, 404, { error: 'unknown control path' });
}

const state = { issuer: '', current: null };
const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  const current = state.current;
  let work;
  if (path.startsWith('/__idptest/')) {
    work = control(state, req, res, path);
  } else {
    const match = path.match(/^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/);
    if (!match) {
      current.handler(req, res);
      return;
    }
    work = interaction(current, req, res, match[1], match[2]);
  }
  work.catch((err) => {
    process.stderr.write(`idptest: ${req.method} ${path}: ${err && err.stack ? err.stack : err}\n`);
    if (!res.headersSent) page(res, 500, 'Provider error', `<p>${escapeHTML(err && err.message)}</p>`);
    else res.end();
  });
});

server.listen(config.port || 0, '127.0.0.1', () => {
  const { port } = server.address();
  state.issuer = `http://${config.host === 'localhost' ? 'localhost' : '127.0.0.1'}:${port}`;
  state.current = buildProvider(state.issuer, newSigningKey());
  process.stdout.write(`${JSON.stringify({ issuer: state.issuer })}\n`);
});

// The Go side holds our standard input open; when it closes, we are done.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
