// The document check as a citizen and a landlord meet it: a demo citizen
// logs in to the demo portal (single sign-on, Trần Thị Bình), asks for a
// residence confirmation (CT07) with her access token, and the link its QR
// code holds is opened on a phone (390 px): VALID, with what it states. A
// made-up code says NOT VALID. Then the service catalog. axe-core on each
// page; screenshots to OUT (default ../../bench-out/public/). Run against
// `dancu serve --demo`:
//
//   cd scripts/browser && npm install && node verify.mjs http://localhost:8080
import { journey } from './journey.mjs';

const { base, out, check, scan, shot, browser, finish } = await journey('verify.mjs', 'public');

try {
  const context = await browser.newContext({ locale: 'vi-VN', bypassCSP: true });
  const page = await context.newPage();
  await page.goto(base + '/demo/portal/start?client=demo-portal');
  await page.waitForURL(/\/login\?id=/);
  await page.fill('#pid', '001188054321');
  await page.fill('#password', 'Demo-2026!');
  await page.click('form button[type=submit]');
  if (await page.isVisible('button[value=allow]')) await page.click('button[value=allow]');
  await page.waitForURL(/\/demo\/portal\/callback/);
  const token = await page.getAttribute('#add-passkey', 'data-token');
  check(!!token, 'the citizen has an access token');
  const api = async (method, path, body) => {
    const res = await fetch(base + path, { method, headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, json: await res.json() };
  };
  const sub = await api('POST', '/api/v1/dossiers', { service: 'residence.confirmation' });
  check(sub.status === 201, `the citizen asks for a residence confirmation (${sub.status})`);
  const res = await api('GET', `/api/v1/dossiers/${sub.json.id}/result`);
  const link = res.json.short_url;
  check(/\/v\/[a-z2-7]{20}$/.test(link || ''), `the QR code holds a short link (${link})`);

  const phone = await browser.newContext({ locale: 'vi-VN', bypassCSP: true, viewport: { width: 390, height: 844 }, isMobile: true });
  const p = await phone.newPage();
  await p.goto(link);
  check((await p.textContent('.verdict-word')).includes('CÒN GIÁ TRỊ'), 'the link opens the check: valid');
  check((await p.textContent('main')).includes('Trần Thị Bình'), 'the check shows what the document states');
  check(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'the check fits a 390 px phone');
  await shot(p, 'verify-valid-390');
  await p.goto(base + '/v/aaaaaaaaaaaaaaaaaaaa');
  check((await p.textContent('.verdict-word')).includes('KHÔNG HỢP LỆ'), 'a made-up code is not valid');
  await shot(p, 'verify-invalid-390');
  await page.goto(base + '/verify');
  await page.fill('#f-document', link);
  await page.click('form button[type=submit]');
  check((await page.textContent('.verdict-word')).includes('CÒN GIÁ TRỊ'), 'a pasted link is checked too');
  await shot(page, 'verify-form');
  await page.goto(base + '/catalog');
  check((await page.locator('tbody tr').count()) >= 25, 'the catalog lists the 25 essential services');
  await shot(page, 'catalog');
} catch (e) {
  check(false, String(e));
}
await finish('document check');
