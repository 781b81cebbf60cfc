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
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const base = process.argv[2] || 'http://localhost:8080';
if (!/^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?$/.test(base)) {
  console.error('usage: node admin.mjs http://localhost:PORT (loopback only)');
  process.exit(2);
}
const out = process.env.OUT || new URL('../../bench-out/admin/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let failures = 0;
const check = (ok, what) => {
  if (!ok) { console.error('FAIL:', what); failures++; } else console.log('ok:', what);
};

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) from a base32 key.
function totp(secret, t = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 1000 / 30)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

async function scan(page, name) {
  await page.addScriptTag({ content: axeSource });
  const res = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) console.error(`  axe ${v.impact} ${v.id} on ${name}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
  check(bad.length === 0, `${name}: no serious accessibility violations (axe-core)`);
}

async function shot(page, name) {
  await page.screenshot({ path: `${out}${name}.png`, fullPage: true });
  await scan(page, name);
}

const password = process.env.DANCU_ADMIN_PASSWORD || 'Admin-Demo-2026!';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
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
} finally {
  await browser.close();
}
if (failures) {
  console.error(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('admin journey: all checks passed');
