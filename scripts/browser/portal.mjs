// The citizen portal as a citizen meets it: a demo citizen (Võ Văn Hùng,
// level 2) signs in through the platform's own OpenID provider, reads her
// data, sees who accessed it and what she shares, in Vietnamese and
// English, at 1280 px and 390 px, and signs out of the portal and the
// provider together. axe-core on each page; screenshots to OUT (default
// ../../bench-out/portal/). Run against `dancu serve --demo`:
//
//   cd scripts/browser && npm install && node portal.mjs http://localhost:8080
import { journey } from './journey.mjs';

const { base, check, shot, browser, finish } = await journey('portal.mjs', 'portal');

try {
  const context = await browser.newContext({ locale: 'vi-VN', bypassCSP: true });
  const page = await context.newPage();
  await page.goto(base + '/portal/');
  await shot(page, 'landing');
  await page.click('a[href="/portal/login"]');
  await page.waitForURL(/\/login\?id=/);
  await page.fill('#pid', '079080111222');
  await page.fill('#password', 'Demo-2026!');
  await page.click('form button[type=submit]');
  await page.waitForLoadState();
  if (await page.isVisible('button[value=allow]')) await page.click('button[value=allow]');
  await page.waitForURL(/\/portal\/$/);
  check((await page.textContent('h1')).includes('Xin chào'), 'the citizen is signed in to the portal');
  await shot(page, 'home');

  await page.click('a.card[href="/portal/me"]');
  check(await page.isVisible('#account'), 'my data shows the e-ID account');
  check((await page.textContent('main')).includes('079080111222'), 'my data shows my personal ID number');
  await shot(page, 'me');

  // A residence confirmation at once, printable, with its QR code.
  await page.goto(base + '/portal/documents');
  await shot(page, 'documents');
  await page.click('form[action="/portal/documents/confirmation"] button');
  await page.waitForURL(/\/portal\/documents\/[0-9a-f-]{36}$/);
  check(await page.isVisible('.paper-qr img'), 'the confirmation (CT07) shows its QR code');
  const qrOK = await page.evaluate(() => { const i = document.querySelector('.paper-qr img'); return i.complete && i.naturalWidth > 0; });
  check(qrOK, 'the QR code image loads');
  await shot(page, 'ct07');

  await page.goto(base + '/portal/access');
  check((await page.locator('tbody tr').count()) >= 1, 'who accessed my data lists the reads');
  await shot(page, 'access');

  await page.goto(base + '/portal/consents');
  check(await page.isVisible('form[action="/portal/consents/dancu-portal"]'), "the portal's own consent is listed, with a button to withdraw it");
  await shot(page, 'consents');

  await page.goto(base + '/portal/security');
  check(await page.isVisible('form[action="/portal/security/lock"]'), 'the security page offers to lock the account when the phone is lost');
  await page.click('form[action="/portal/security/lock"] button[type=submit]');
  check(await page.isVisible('.error-summary'), 'a lock not confirmed asks to tick the box');
  await shot(page, 'security');

  // English.
  await page.goto(base + '/portal/security');
  await page.click('button[name=lang][value=en]');
  check((await page.textContent('h1')).includes('Account security'), 'the portal switches to English');
  await shot(page, 'security-en');
  await page.goto(base + '/portal/me');
  await shot(page, 'me-en');
  await page.click('button[name=lang][value=vi]');

  // A phone's width.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [name, path] of [['home-390', '/portal/'], ['me-390', '/portal/me'], ['access-390', '/portal/access'], ['consents-390', '/portal/consents'], ['security-390', '/portal/security'], ['documents-390', '/portal/documents']]) {
    await page.goto(base + path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    check(!overflow, `${name}: nothing wider than a 390 px screen`);
    await shot(page, name);
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  // Signing out ends the portal's session and the provider's.
  await page.goto(base + '/portal/');
  await page.click('form[action="/portal/logout"] button');
  await page.waitForURL(/\/portal\/$/);
  check(await page.isVisible('a[href="/portal/login"]'), 'after signing out the portal offers to sign in');
  await page.goto(base + '/portal/me');
  await page.waitForURL(/\/login\?id=/);
  check(await page.isVisible('#password'), 'after signing out the provider asks for the password again');
} catch (e) {
  check(false, String(e));
}
await finish('portal journeys');
