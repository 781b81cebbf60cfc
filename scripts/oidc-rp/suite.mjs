// The dancu OpenID provider as independent relying parties see it, driven
// by openid-client (v6, on oauth4webapi): code flow with PKCE, single
// sign-on across two relying parties (the second login posts no password:
// the provider's session cookie does it), prompt=none and max_age, refresh
// rotation and reuse detection, revocation of both token kinds, client
// credentials with a secret and with private_key_jwt, RP-initiated and
// back-channel logout, and the negatives (scope escalation, replayed or
// mismatched client assertions, reused codes, tokens in the query,
// credentialed CORS).
//
// Run against `dancu serve --demo` with the administrator's password in
// DANCU_ADMIN_PASSWORD (it registers its own clients):
//
//   cd scripts/oidc-rp && npm ci && ./run.sh http://localhost:8080
import * as client from 'openid-client';
import { createServer } from 'node:http';
import { createPublicKey, generateKeyPairSync, randomUUID, sign, verify, webcrypto } from 'node:crypto';

const base = (process.argv[2] || '').replace(/\/$/, '');
const adminPassword = process.env.DANCU_ADMIN_PASSWORD;
if (!/^https?:\/\/[^/]+$/.test(base) || !adminPassword) {
  console.error('usage: DANCU_ADMIN_PASSWORD=... node suite.mjs http://localhost:PORT');
  process.exit(2);
}
// Demo citizens of `dancu serve --demo` (internal/server/demoid.go).
const citizen = { pid: '001085012345', password: 'Demo-2026!' }; // level 2
const citizen1 = { pid: '001188054321', password: 'Demo-2026!' }; // level 1
const redirect = 'http://127.0.0.1:9/cb'; // never contacted: the suite stops at it
const bye = 'http://127.0.0.1:9/bye';
const insecure = base.startsWith('http:') ? { execute: [client.allowInsecureRequests] } : {};

let failures = 0;
const check = (ok, what, detail) => {
  if (ok) { console.log('ok:', what); return; }
  failures++;
  console.error('FAIL:', what, detail === undefined ? '' : detail);
};
const rejects = async (promise) => { try { await promise; return null; } catch (e) { return e; } };
const errorCode = (e) => e?.error || e?.cause?.error || e?.code;

// A browser: cookies kept per name (one host), redirects followed by hand
// until the relying party's address.
class Browser {
  constructor() { this.cookies = new Map(); }
  header() { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '); }
  keep(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim(), value = pair.slice(i + 1).trim();
      if (attrs.some(a => /^\s*max-age=(0|-)/i.test(a)) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  // go follows redirects from url; it returns {stop: URL} at an address
  // outside the provider, or {page, url, status} for a page.
  async go(url, init = {}) {
    for (let i = 0; i < 20; i++) {
      const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers || {}), cookie: this.header() } });
      this.keep(res);
      if (res.status >= 300 && res.status < 400) {
        const next = new URL(res.headers.get('location'), url);
        if (!next.href.startsWith(base)) return { stop: next };
        url = next.href; init = {};
        continue;
      }
      return { page: await res.text(), url: new URL(url), status: res.status };
    }
    throw new Error('too many redirects');
  }
  post(url, form) {
    return this.go(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  }
  // login takes a page to the relying party: the password on a login
  // page, allow on a consent page.
  async through(r, who = citizen) {
    for (let i = 0; i < 3 && r.page !== undefined; i++) {
      const id = r.url.searchParams.get('id') || (r.page.match(/name="id" value="([^"]+)"/) || [])[1];
      if (r.page.includes('name="password"')) {
        r = await this.post(base + '/login', { id, pid: who.pid, password: who.password, lang: 'en' });
      } else if (r.page.includes('name="decision"')) {
        r = await this.post(base + '/login/consent', { id, decision: 'allow' });
      } else break;
    }
    return r;
  }
}

// Administrator: registers the suite's clients.
const session = await (await fetch(base + '/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ username: 'admin', password: adminPassword }) })).json();
if (!session.token) { console.error('cannot log in as admin:', session); process.exit(1); }
const run = randomUUID().slice(0, 8);
async function register(spec) {
  const res = await fetch(base + '/api/v1/oidc/clients', { method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + session.token }, body: JSON.stringify(spec) });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`register ${spec.id}: ${res.status} ${JSON.stringify(body)}`);
  return body.secret;
}

// The back-channel logout receiver.
const logouts = [];
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', d => body += d);
  req.on('end', () => { logouts.push(new URLSearchParams(body).get('logout_token')); res.end(); });
});
await new Promise(r => receiver.listen(0, '127.0.0.1', r));
const receiverURL = `http://127.0.0.1:${receiver.address().port}/logout`;

// Keys for private_key_jwt (ES256), published to the provider as a JWKS.
const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'suite-1', alg: 'ES256', use: 'sig' };
const cryptoKey = await webcrypto.subtle.importKey('jwk', { ...privateKey.export({ format: 'jwk' }) }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
const b64u = (b) => Buffer.from(b).toString('base64url');
function assertion(claims) {
  const head = b64u(JSON.stringify({ alg: 'ES256', kid: 'suite-1', typ: 'JWT' }));
  const body = b64u(JSON.stringify(claims));
  const sig = sign('sha256', Buffer.from(head + '.' + body), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return head + '.' + body + '.' + b64u(sig);
}

const ids = { one: `suite-one-${run}`, two: `suite-two-${run}`, narrow: `suite-narrow-${run}`, svc: `suite-svc-${run}`, jwt: `suite-jwt-${run}` };
const secretOne = await register({ id: ids.one, name: 'Suite RP one', type: 'web', redirect_uris: [redirect], post_logout_redirect_uris: [bye],
  scopes: ['profile', 'pid', 'offline_access'] });
const secretTwo = await register({ id: ids.two, name: 'Suite RP two', type: 'web', redirect_uris: [redirect], scopes: ['profile'],
  id_token_signed_response_alg: 'ES256', backchannel_logout_uri: receiverURL });
const secretNarrow = await register({ id: ids.narrow, name: 'Suite narrow', type: 'web', redirect_uris: [redirect], scopes: ['profile', 'pid'] });
const secretSvc = await register({ id: ids.svc, name: 'Suite service', type: 'service' });
await register({ id: ids.jwt, name: 'Suite service (private_key_jwt)', type: 'service', auth_method: 'private_key_jwt', jwks: JSON.stringify({ keys: [jwk] }) });

const server = new URL(base);
const one = await client.discovery(server, ids.one, { id_token_signed_response_alg: 'RS256' }, client.ClientSecretBasic(secretOne), insecure);
const two = await client.discovery(server, ids.two, { id_token_signed_response_alg: 'ES256' }, client.ClientSecretBasic(secretTwo), insecure);
const narrow = await client.discovery(server, ids.narrow, undefined, client.ClientSecretBasic(secretNarrow), insecure);
const svc = await client.discovery(server, ids.svc, undefined, client.ClientSecretBasic(secretSvc), insecure);
const svcJwt = await client.discovery(server, ids.jwt, undefined, client.PrivateKeyJwt({ key: cryptoKey, kid: 'suite-1' }), insecure);
const demo = await client.discovery(server, 'demo-portal', undefined, client.None(), insecure);

// Discovery tells the truth.
const meta = one.serverMetadata();
check(meta.issuer === base, 'discovery: the issuer is the public URL', meta.issuer);
check(JSON.stringify(meta.response_types_supported) === '["code"]', 'discovery: only the code response type', meta.response_types_supported);
check(!meta.grant_types_supported.some(g => /implicit|jwt-bearer|device_code/.test(g)), 'discovery: no implicit, jwt-bearer or device grant', meta.grant_types_supported);
check(!meta.device_authorization_endpoint, 'discovery: no device endpoint');
check(meta.id_token_signing_alg_values_supported.includes('RS256') && meta.id_token_signing_alg_values_supported.includes('ES256'), 'discovery: RS256 and ES256 ID tokens');
check(meta.authorization_response_iss_parameter_supported === true, 'discovery: RFC 9207 iss in authorization responses');
check(JSON.stringify(meta.acr_values_supported) === '["urn:dancu:loa:1","urn:dancu:loa:2"]', 'discovery: the two assurance levels as acr values', meta.acr_values_supported);
check(meta.backchannel_logout_supported === true && !!meta.end_session_endpoint, 'discovery: RP-initiated and back-channel logout');

async function flow(config, params = {}, browser = new Browser(), who = citizen) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState(), nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, { redirect_uri: config === demo ? 'http://127.0.0.1/demo/portal/callback' : redirect,
    scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce, ...params });
  const first = await browser.go(url.href);
  const passwordAsked = first.page?.includes('name="password"') || false;
  const r = await browser.through(first, who);
  if (!r.stop) throw new Error(`no return to the client (${r.status}): ${(r.page || '').slice(0, 300)}`);
  return { browser, callback: r.stop, verifier, state, nonce, passwordAsked, first };
}
const grant = (config, f, checks = {}) => client.authorizationCodeGrant(config, f.callback,
  { pkceCodeVerifier: f.verifier, expectedState: f.state, expectedNonce: f.nonce, idTokenExpected: true, ...checks });

// Code flow with PKCE, a public client (the demo portal).
{
  const f = await flow(demo, { scope: 'openid profile' });
  const tokens = await grant(demo, f);
  check(!!tokens.claims()?.sub && tokens.claims().acr === 'urn:dancu:loa:2', 'public client: code + PKCE, ID token verified, acr level 2');
}

// Single sign-on across two relying parties; RS256 and ES256; acr and auth_time.
const browser = new Browser();
const f1 = await flow(one, { scope: 'openid profile pid offline_access', prompt: 'consent' }, browser);
const t1 = await grant(one, f1);
const c1 = t1.claims();
check(f1.passwordAsked && c1.acr === 'urn:dancu:loa:2' && typeof c1.auth_time === 'number' && !!c1.sid, 'relying party one: password login, ID token (RS256) with acr, auth_time, sid');
check(t1.refresh_token !== undefined, 'relying party one: a refresh token with offline_access');
const f2 = await flow(two, { scope: 'openid profile' }, browser);
const t2 = await grant(two, f2);
const c2 = t2.claims();
check(!f2.passwordAsked, 'relying party two: no password asked (single sign-on session)');
check(c2.sid === c1.sid && c2.auth_time === c1.auth_time && c2.acr === c1.acr, 'relying party two: ES256 ID token of the same session (sid, auth_time, acr)', { c1, c2 });

// prompt=none and max_age.
{
  const f = await flow(one, { scope: 'openid profile', prompt: 'none' }, browser);
  const t = await grant(one, f);
  check(!f.passwordAsked && !!t.claims(), 'prompt=none with a session: a code, no page');
  const fresh = await flow(one, { scope: 'openid', prompt: 'none' }, new Browser());
  const e = await rejects(grant(one, fresh));
  check(errorCode(e) === 'login_required' && fresh.callback.searchParams.get('iss') === base, 'prompt=none without a session: login_required with iss', errorCode(e));
  const fm = await flow(one, { scope: 'openid', max_age: '3600' }, browser);
  const tm = await grant(one, fm, { maxAge: 3600 });
  check(!fm.passwordAsked && tm.claims().auth_time === c1.auth_time, 'max_age=3600: the session is young enough, auth_time kept');
  const f0 = await flow(one, { scope: 'openid', max_age: '0' }, browser);
  const t0 = await grant(one, f0, { maxAge: 0 });
  check(f0.passwordAsked && !!t0.claims().auth_time, 'max_age=0: the password is asked again');
  const fl = await flow(one, { scope: 'openid', prompt: 'login' }, browser);
  await grant(one, fl);
  check(fl.passwordAsked, 'prompt=login: the password is asked again');
  const b1 = new Browser();
  await grant(one, await flow(one, { scope: 'openid' }, b1, citizen1));
  const up = await flow(one, { scope: 'openid', acr_values: 'urn:dancu:loa:2', prompt: 'none' }, b1, citizen1);
  check(errorCode(await rejects(grant(one, up))) === 'login_required', 'a level-1 session does not satisfy acr_values level 2 (prompt=none: login_required)');
}

// Refresh rotation, reuse detection; the refreshed ID token keeps acr.
{
  const r1 = await client.refreshTokenGrant(one, t1.refresh_token);
  check(r1.refresh_token && r1.refresh_token !== t1.refresh_token && r1.claims()?.acr === c1.acr && r1.claims()?.auth_time === c1.auth_time,
    'refresh: rotated, the new ID token keeps acr and auth_time', r1.claims());
  const again = await rejects(client.refreshTokenGrant(one, t1.refresh_token));
  check(errorCode(again) === 'invalid_grant', 'refresh: a used refresh token is refused', errorCode(again));
  const family = await rejects(client.refreshTokenGrant(one, r1.refresh_token));
  check(errorCode(family) === 'invalid_grant', 'refresh: after reuse the whole family is revoked', errorCode(family));
}

// Revocation of both token kinds.
{
  const f = await flow(one, { scope: 'openid profile offline_access' }, browser);
  const t = await grant(one, f);
  const sub = t.claims().sub;
  check(!!(await client.fetchUserInfo(one, t.access_token, sub)).name, 'userinfo before revocation');
  await client.tokenRevocation(one, t.refresh_token);
  check(errorCode(await rejects(client.refreshTokenGrant(one, t.refresh_token))) === 'invalid_grant', 'revocation: a revoked refresh token no longer works');
  await client.tokenRevocation(one, t.access_token, { token_type_hint: 'access_token' });
  check(await rejects(client.fetchUserInfo(one, t.access_token, sub)) !== null, 'revocation: a revoked access token no longer works at userinfo');
}

// Scope escalation: a client registered for profile and pid asks for phone and address.
{
  const f = await flow(narrow, { scope: 'openid profile pid phone address' }, browser);
  const consentPage = f.first.page || '';
  const t = await grant(narrow, f);
  const info = await client.fetchUserInfo(narrow, t.access_token, t.claims().sub);
  check(info.pid === citizen.pid && info.phone_number === undefined && info.address === undefined, 'scopes limited to the registration: no phone, no address', info);
  check(!consentPage.includes('Phone number') && !consentPage.includes('Số điện thoại'), 'the consent page does not list what will not be released');
}

// A code redeemed twice: refused, and the first redemption's tokens are revoked.
{
  const f = await flow(one, { scope: 'openid profile' }, browser);
  const t = await grant(one, f);
  check(await rejects(grant(one, f)) !== null, 'a code redeemed twice is refused');
  check(await rejects(client.fetchUserInfo(one, t.access_token, t.claims().sub)) !== null, 'the tokens of a code redeemed twice are revoked');
}

// Client credentials: a secret, and private_key_jwt.
{
  const cs = await client.clientCredentialsGrant(svc, { scope: 'openid' });
  check(!!cs.access_token, 'client credentials with client_secret_basic');
  const cj = await client.clientCredentialsGrant(svcJwt, { scope: 'openid' });
  check(!!cj.access_token, 'client credentials with private_key_jwt (openid-client signs the assertion)');
  const tokenURL = meta.token_endpoint;
  const now = Math.floor(Date.now() / 1000);
  const post = (a, extra = {}) => fetch(tokenURL, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'openid', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a, ...extra }) });
  const claims = (over) => ({ iss: ids.jwt, sub: ids.jwt, aud: tokenURL, iat: now, exp: now + 60, jti: randomUUID(), ...over });
  const good = assertion(claims());
  check((await post(good)).status === 200, 'private_key_jwt: aud = the token endpoint URL is accepted');
  check((await post(good)).status === 401, 'private_key_jwt: a replayed jti is refused');
  check((await post(assertion(claims({ jti: undefined })))).status === 401, 'private_key_jwt: an assertion without jti is refused');
  check((await post(assertion(claims({ sub: ids.svc })))).status === 401, 'private_key_jwt: sub differing from iss is refused');
  check((await post(assertion(claims()), { client_id: ids.svc })).status === 401, 'private_key_jwt: client_id differing from iss and sub is refused');
  const bad = await fetch(tokenURL, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded',
    authorization: 'Basic ' + Buffer.from(ids.svc + ':wrong').toString('base64') }, body: 'grant_type=client_credentials' });
  check(bad.status === 401 && /^Basic /.test(bad.headers.get('www-authenticate') || ''), 'token endpoint: a wrong secret is 401 with WWW-Authenticate');
  const okRes = await fetch(tokenURL, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example',
    authorization: 'Basic ' + Buffer.from(ids.svc + ':' + secretSvc).toString('base64') }, body: 'grant_type=client_credentials&scope=openid' });
  check(okRes.headers.get('cache-control') === 'no-store' && okRes.headers.get('pragma') === 'no-cache', 'token response: Cache-Control no-store, Pragma no-cache');
  check(okRes.headers.get('access-control-allow-origin') !== 'https://evil.example' && !okRes.headers.get('access-control-allow-credentials'),
    'token endpoint: no credentialed CORS for a foreign origin');
}

// Userinfo: bearer challenges, no tokens in the query.
{
  const none = await fetch(meta.userinfo_endpoint);
  check(none.status === 401 && /^Bearer /.test(none.headers.get('www-authenticate') || ''), 'userinfo without a token: 401 with a Bearer challenge');
  const q = await fetch(meta.userinfo_endpoint + '?access_token=' + encodeURIComponent(t2.access_token));
  check(q.status === 400, 'userinfo refuses an access token in the query', q.status);
}

// RP-initiated logout ends the session; the other relying party gets a logout token.
{
  const end = client.buildEndSessionUrl(one, { id_token_hint: t1.id_token, post_logout_redirect_uri: bye, state: 'bye-' + run });
  const r = await browser.go(end.href);
  check(r.stop?.href.startsWith(bye) && r.stop.searchParams.get('state') === 'bye-' + run, 'RP-initiated logout returns to the registered URI with state');
  for (let i = 0; i < 50 && logouts.length === 0; i++) await new Promise(res => setTimeout(res, 100));
  const lt = logouts[0];
  check(!!lt, 'back-channel logout: relying party two received a logout token');
  if (lt) {
    const [h, p, s] = lt.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url')), payload = JSON.parse(Buffer.from(p, 'base64url'));
    const jwks = await (await fetch(meta.jwks_uri)).json();
    const key = jwks.keys.find(k => k.kid === header.kid);
    const ok = key && verify('sha256', Buffer.from(h + '.' + p), { key: createPublicKey({ key, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
    check(ok && header.typ === 'logout+jwt' && payload.iss === base && payload.aud === ids.two && payload.sid === c1.sid && payload.sub === c2.sub &&
      payload.events?.['http://schemas.openid.net/event/backchannel-logout'] && payload.nonce === undefined && payload.jti,
      'back-channel logout: the logout token verifies and names the session', { header, payload });
  }
  const after = await flow(two, { scope: 'openid', prompt: 'none' }, browser);
  check(errorCode(await rejects(grant(two, after))) === 'login_required', 'after logout the session is gone (prompt=none: login_required)');
}

receiver.close();
if (failures) { console.error(`${failures} check(s) failed`); process.exit(1); }
console.log('all checks passed');
