// The administration pages in a real browser, as the administrator works
// in them: sign in with the password (DANCU_ADMIN_PASSWORD, default
// 'Admin-Demo-2026!', the one the demo server was started with) and enrol
// an authenticator app, register a service client (its secret shown once),
// register it as a member agency with services, fields, purposes and a
// quota, and find it in the list; look at the officers, the subscriptions,
// the PKI and the audit log and verify the log. Every page is scanned with
// axe-core (serious and critical violations fail) at 1280 px and at 390 px,
// and screenshots go to OUT (default ../../bench-out/admin). Run against
// `dancu serve --demo` on a fresh store (the admin's first sign-in):
//
//   cd scripts/browser && npm install && DANCU_ADMIN_PASSWORD=... node admin.mjs http://localhost:8080
import { journey, totp } from './journey.mjs';

const { base, out, check, scan, shot, browser, finish } = await journey('admin.mjs', 'admin');
const password = process.env.DANCU_ADMIN_PASSWORD || 'Admin-Demo-2026!';

try {
  // bypassCSP lets axe-core be injected; the pages themselves need no script.
  const context = await browser.newContext({ locale: 'vi-VN', bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();

  // Sign-in: password, then enrolment of an authenticator app.
  await page.goto(base + '/console/admin');
  check(page.url().includes('/console/login?next='), 'the administration asks for sign-in first');
  await page.fill('#f-username', 'admin');
  await page.fill('#f-password', password);
  await page.click('button[type=submit]');
  check(await page.isVisible('img.qr'), 'the administrator enrols an authenticator app on the first sign-in');
  const secret = (await page.textContent('code.secret')).trim();
  await page.fill('#f-code', totp(secret));
  await page.click('button[type=submit]');
  await page.waitForURL(/\/console\/admin$/);
  check(true, 'after the code, the administration opens');
  await shot(page, 'admin-index');

  await page.goto(base + '/console/');
  check(await page.isVisible('a.card[href="/console/admin"]'), 'the home page has the administration card');

  // Officers.
  await page.goto(base + '/console/admin/officers');
  check((await page.locator('tbody tr').count()) >= 5, 'the officers are listed');
  check((await page.textContent('tbody')).includes('Ba Đình'), 'a jurisdiction is shown by its unit name');
  await shot(page, 'admin-officers');
  await page.fill('#f-username', 'x');
  await page.fill('#f-password', 'short');
  await page.click('form[action="/console/admin/officers"] button[type=submit]');
  check(await page.isVisible('#e-username') && await page.isVisible('#e-password'), 'a bad username and a weak password are named at their fields');
  await shot(page, 'admin-officers-errors');
  await page.goto(base + '/console/admin/officers/badinh');
  check(await page.isVisible('#f-display_name') && await page.isVisible('#f-password2'), "an officer's page edits the account and sets a new password");
  await shot(page, 'admin-officer');

  // A service client, then the agency on it.
  const id = 'so-yte-' + Date.now().toString(36);
  await page.goto(base + '/console/admin/clients');
  await page.fill('#f-id', id);
  await page.fill('#f-name', 'Sở Y tế (hệ thống)');
  await page.check('#f-type-service');
  await page.click('form[action="/console/admin/clients"] button[type=submit]');
  const clientSecret = await page.inputValue('#secret');
  check(clientSecret.length > 20, "the new client's secret is shown once");
  await shot(page, 'admin-client-created');
  await page.goto(base + '/console/admin/clients');
  check(!(await page.content()).includes(clientSecret), 'the secret is not shown again');

  await page.goto(base + '/console/admin/agencies');
  await shot(page, 'admin-agencies-form');
  await page.selectOption('#f-id', id);
  await page.fill('#f-name', 'Sở Y tế Hà Nội');
  await page.selectOption('#f-kind', 'locality');
  await page.check('#f-services-query');
  await page.check('#f-fields-name');
  await page.check('#f-fields-birth_date');
  await page.fill('#f-purposes', 'Khám chữa bệnh bảo hiểm y tế');
  await page.fill('#f-rate_per_second', '50');
  await page.click('form[action="/console/admin/agencies"] button[type=submit]');
  await page.waitForURL(/done=created/);
  check(await page.isVisible('.banner.success'), 'the agency is registered');
  const row = page.locator('tbody tr', { hasText: id });
  check((await row.count()) === 1 && (await row.textContent()).includes('50/s'), 'the new agency is in the list with its quota');
  await shot(page, 'admin-agencies');

  await page.goto(base + '/console/admin/subscriptions');
  await shot(page, 'admin-subscriptions');
  await page.goto(base + '/console/admin/pki');
  check(await page.isVisible('tbody tr'), 'the PKI page lists the certificates');
  await shot(page, 'admin-pki');
  await page.goto(base + '/console/admin/audit');
  await page.click('form[action="/console/admin/audit/verify"] button[type=submit]');
  check(await page.isVisible('.banner.success, .error-summary'), 'the audit log is verified on demand');
  await shot(page, 'admin-audit');

  // English.
  await page.click('button[name=lang]');
  await page.goto(base + '/console/admin/agencies');
  check((await page.textContent('h1')).includes('Member agencies'), 'the pages are in English too');
  await shot(page, 'admin-agencies-en');

  // A phone-sized screen.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const name of ['officers', 'clients', 'agencies', 'subscriptions', 'pki', 'audit']) {
    await page.goto(base + '/console/admin/' + name);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    check(!overflow, `${name}-390: nothing wider than a 390 px screen`);
    await shot(page, `admin-${name}-390`);
  }
} catch (e) {
  check(false, String(e));
}
await finish('admin journey');
