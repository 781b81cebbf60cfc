// The login pages in a real browser: a demo citizen logs in to the demo
// portal with a password, consents, adds a passkey from the portal page,
// logs in again through the single sign-on session (no page at all), then
// with prompt=login again with the passkey alone (Chromium's virtual
// authenticator, user verification on). Repeatable on the same store. Run
// against `dancu serve --demo`:
//
//   cd scripts/browser && npm install && node passkey-login.mjs http://localhost:8080
//
// WebAuthn needs a host name, so use localhost rather than 127.0.0.1.
import { chromium } from 'playwright-core';

const base = process.argv[2] || 'http://localhost:8080';
if (!/^http:\/\/localhost(:\d+)?$/.test(base)) {
  console.error('usage: node passkey-login.mjs http://localhost:PORT (loopback only)');
  process.exit(2);
}
const check = (ok, what) => {
  if (!ok) { console.error('FAIL:', what); process.exit(1); }
  console.log('ok:', what);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--host-resolver-rules=MAP localhost 127.0.0.1'], // dancu listens on 127.0.0.1
});
try {
  const context = await browser.newContext({ locale: 'vi-VN' });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
    protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
    isUserVerified: true, automaticPresenceSimulation: true } });

  await page.goto(base + '/demo/portal');
  await page.click('a[href="/demo/portal/start?client=demo-portal"]');
  await page.waitForURL(/\/login\?id=/);
  check((await page.textContent('h1')).includes('Đăng nhập'), 'the login page is in Vietnamese');
  check(await page.isVisible('#passkey'), 'the login page offers a passkey');

  await page.fill('#pid', '001085012345');
  await page.fill('#password', 'wrong-Passw0rd!');
  await page.click('form button[type=submit]');
  check((await page.textContent('.error')).includes('không đúng'), 'a wrong password is refused on the page');
  await page.fill('#password', 'Demo-2026!');
  await page.click('form button[type=submit]');
  await page.waitForLoadState();
  // Repeatable: on a store where the citizen consented in an earlier run,
  // the consent is remembered and no page asks for it.
  if (await page.isVisible('button[value=allow]')) {
    check((await page.textContent('h1')).includes('Chia sẻ thông tin'), 'the consent page lists what will be shared');
    const claims = await page.locator('ul.claims li').allTextContents();
    check(claims.some(c => c.includes('Số định danh cá nhân')), 'the consent page names the personal ID number');
    await page.click('button[value=allow]');
  } else {
    console.log('ok: the consent of an earlier run is remembered');
  }
  await page.waitForURL(/\/demo\/portal\/callback/);
  check((await page.textContent('#userinfo')).includes('Nguyễn Văn An'), 'the portal received the userinfo');

  await page.click('#add-passkey');
  await page.waitForFunction(() => document.getElementById('passkey-status').textContent !== '');
  check((await page.textContent('#passkey-status')) === 'passkey added', 'a passkey was added from the portal page');

  // The provider's single sign-on session: no login page at all.
  await page.goto(base + '/demo/portal/start?client=demo-portal');
  await page.waitForURL(/\/demo\/portal\/callback/);
  check((await page.textContent('#userinfo')).includes('Nguyễn Văn An'), 'a second login went through the single sign-on session, no password asked');

  // prompt=login: log in again, this time with the passkey alone.
  await page.goto(base + '/demo/portal/start?client=demo-portal&prompt=login');
  await page.waitForURL(/\/login\?id=/);
  await page.click('#passkey');
  await page.waitForURL(/\/demo\/portal\/callback/);
  const idToken = await page.textContent('#idtoken');
  check(idToken.includes('"hwk"') && idToken.includes('urn:dancu:loa:2'), 'logged in with the passkey alone (amr hwk, level 2), consent remembered');

  await page.goto(base + '/demo/portal/start?client=demo-bank&prompt=login');
  await page.waitForURL(/\/login\?id=/);
  await page.goto(page.url() + '&lang=en');
  check((await page.textContent('h1')).includes('Log in'), 'the login page is in English on request');
} finally {
  await browser.close();
}
