// A citizen's whole way through the portal, with the officer's side in the
// console, in a real browser: apply for an account with a portrait taken
// here → the commune officer approves it in the console → activate with
// the code sent to the phone (the recovery codes shown once) → sign in →
// my data → file a temporary residence → the officer receives it and asks
// for more → the citizen sees the notification and completes the form as
// filled in → approval → a residence confirmation (CT07) whose QR link the
// public page says is valid → the officer's read in "who accessed my data"
// → "I lost my phone": lock, get back in with a recovery code → lose it
// again: the officer moves the account to a new phone at the counter,
// with the card's chip signing the page's challenge → activate from the new
// phone → withdraw the portal's consent. Pages in Vietnamese and English,
// at 1280 px and 390 px; axe-core on each; screenshots to OUT (default
// ../../bench-out/citizen/).
//
// Run against `dancu serve --demo` before the administrator's first
// console sign-in (admin.mjs enrols the administrator's authenticator app;
// this journey uses the administrator's password on the API only, to make
// a person, an officer and a card). Repeatable: each run makes its own.
//
//   cd scripts/browser && npm install && DANCU_ADMIN_PASSWORD=... node citizen.mjs http://localhost:8080
import { createPrivateKey, randomInt, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { journey, totp } from './journey.mjs';

const { base, out, check, shot, browser, finish } = await journey('citizen.mjs', 'citizen');
const adminPassword = process.env.DANCU_ADMIN_PASSWORD || 'Admin-Demo-2026!';

async function api(token, method, path, body) {
  const res = await fetch(base + path, {
    method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: 'Bearer ' + token } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return json;
}

// The newest activation code sent to recipient (the demo outbox shows the
// administrator the messages' text).
async function codeFor(admin, recipient, after = '') {
  for (let i = 0; i < 60; i++) {
    const msgs = await api(admin, 'GET', '/api/v1/outbox?recipient=' + encodeURIComponent(recipient));
    for (const m of msgs || []) {
      const c = /code is (\d{6})/.exec(m.body || '');
      if (c && m.id !== after) return { code: c[1], id: m.id };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('no activation code for ' + recipient);
}

const pages390 = [];
try {
  const run = String(randomInt(100000, 999999));
  const pid = '001090' + run, phone = '0913' + run, newPhone = '0983' + run;
  const officer = 'quay' + run, officerPassword = 'Quay-' + run + 'a!';
  const admin = (await api(null, 'POST', '/api/v1/auth/login', { username: 'admin', password: adminPassword })).token;
  await api(admin, 'POST', '/api/v1/citizens', {
    pid, name: { family: 'Lý', middle: 'Văn', given: 'Phúc' }, birth_date: '1990-04-12', sex: 'male',
    permanent_residence: { commune: '00004', detail: 'Số 7 phố Đội Cấn' },
  });
  // One officer for the journey's two communes (Ba Đình and Bến Thành).
  await api(admin, 'POST', '/api/v1/officers', {
    username: officer, display_name: 'Cán bộ Quầy ' + run, role: 'registrar', password: officerPassword,
    jurisdiction: { level: 'national' },
  });
  const officerToken = (await api(null, 'POST', '/api/v1/auth/login', { username: officer, password: officerPassword })).token;

  const context = await browser.newContext({ locale: 'vi-VN', bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // A portrait: a small JPEG made by the browser itself.
  await page.setContent('<div style="width:96px;height:128px;background:linear-gradient(#c96,#633)"></div>');
  const portrait = await page.screenshot({ type: 'jpeg', quality: 60, clip: { x: 0, y: 0, width: 96, height: 128 } });

  // Apply.
  await page.goto(base + '/portal/');
  await page.click('a[href="/portal/apply"]');
  await shot(page, 'apply');
  await page.fill('#f-pid', pid);
  await page.fill('#f-name', 'Lý Văn Phúc');
  await page.fill('#f-birth_date', '1990-04-13'); // a detail that differs
  await page.check('input[name=sex][value=male]');
  await page.fill('#f-phone', phone);
  await page.fill('#f-email', `phuc${run}@example.vn`);
  await page.setInputFiles('#f-face', { name: 'me.jpg', mimeType: 'image/jpeg', buffer: portrait });
  await page.click('form[action="/portal/apply"] button[type=submit]');
  const refusal = await page.textContent('.error-summary');
  check(refusal.includes('Không thể mở tài khoản') && !(await page.isVisible('#e-birth_date')), 'a detail that differs is refused without saying which');
  await shot(page, 'apply-refused');
  await page.fill('#f-birth_date', '1990-04-12');
  await page.setInputFiles('#f-face', { name: 'me.jpg', mimeType: 'image/jpeg', buffer: portrait });
  await page.click('form[action="/portal/apply"] button[type=submit]');
  await page.waitForURL(/\/portal\/apply\/[0-9a-f-]{36}\?done=submitted$/);
  const appID = /apply\/([0-9a-f-]{36})/.exec(page.url())[1];
  check((await page.textContent('main')).includes(appID), 'the receipt shows the application number to follow it by');
  await shot(page, 'receipt');

  // The officer approves it in the console (first sign-in: enrol the app).
  const officerCtx = await browser.newContext({ locale: 'vi-VN', bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const con = await officerCtx.newPage();
  await con.goto(base + '/console/eid');
  await con.fill('#f-username', officer);
  await con.fill('#f-password', officerPassword);
  await con.click('button[type=submit]');
  const secret = (await con.textContent('code.secret')).trim();
  await con.fill('#f-code', totp(secret));
  await con.click('button[type=submit]');
  await con.waitForURL(/\/console\/eid$/);
  await con.click(`form[action="/console/eid/${appID}"] button[value=approve]`);
  check((await con.locator(`form[action="/console/eid/${appID}"]`).count()) === 0, 'the officer approves the application in the console');
  await page.goto(base + '/portal/apply/' + appID);
  check(await page.isVisible('a.button[href="/portal/activate"]'), 'the receipt of an approved application leads to activation');

  // Activate.
  await page.click('a.button[href="/portal/activate"]');
  await page.fill('#f-pid', pid);
  await page.fill('#f-contact', phone);
  await page.click('form[action="/portal/activate/code"] button[type=submit]');
  const first = await codeFor(admin, phone);
  await shot(page, 'activate');
  const password = 'Phuc-' + run + 'A!', passcode = '240719';
  await page.fill('#f-code', first.code);
  await page.fill('#f-password', password);
  await page.fill('#f-password2', password);
  await page.fill('#f-passcode', passcode);
  await page.click('form[action="/portal/activate"] button[type=submit]');
  const codes = (await page.locator('ol.codes code').allTextContents()).map((c) => c.trim());
  check(codes.length === 10, 'activation shows ten recovery codes, once');
  await shot(page, 'recovery-codes');

  // Sign in and read my data.
  const signIn = async (pw) => {
    await page.goto(base + '/portal/login');
    await page.waitForURL(/\/login\?id=/);
    await page.fill('#pid', pid);
    await page.fill('#password', pw);
    await page.click('form button[type=submit]');
    await page.waitForLoadState();
    if (await page.isVisible('button[value=allow]')) await page.click('button[value=allow]');
    await page.waitForURL(/\/portal\/$/);
  };
  await signIn(password);
  check((await page.textContent('h1')).includes('Lý Văn Phúc'), 'the new account signs in to the portal');
  await shot(page, 'home');
  await page.goto(base + '/portal/me');
  check((await page.textContent('main')).includes('Số 7 phố Đội Cấn'), 'my data shows my permanent residence');

  // A temporary residence, with the commune typed by its name.
  await page.goto(base + '/portal/services');
  await shot(page, 'services');
  await page.click('a[href="/portal/services/residence.temporary"]');
  check((await page.textContent('.prefill')).includes('Lý Văn Phúc'), 'the form shows what the registry holds');
  await page.fill('[id="f-address.commune"]', 'Bến Thành, Hồ Chí Minh');
  await page.fill('[id="f-address.detail"]', 'Số 5 Lê Lợi');
  await page.fill('#f-until', '2027-06-30');
  await page.click('form[action="/portal/services/residence.temporary"] button[type=submit]');
  check(await page.isVisible('#e-lawful_residence'), 'a missing proof of lawful residence is named at its field');
  await shot(page, 'temporary-errors');
  await page.fill('#f-lawful_residence', 'Hợp đồng thuê nhà số 15/2026');
  await page.click('form[action="/portal/services/residence.temporary"] button[type=submit]');
  await page.waitForURL(/\/portal\/dossiers\/[0-9a-f-]{36}\?done=submitted$/);
  const dossierID = /dossiers\/([0-9a-f-]{36})/.exec(page.url())[1];
  await shot(page, 'dossier-submitted');

  // The officer receives it and asks for more.
  await con.goto(base + '/console/dossiers/' + dossierID);
  await con.click('button[value=receive]');
  await con.goto(base + '/console/dossiers/' + dossierID);
  await con.fill('#f-note', 'Bổ sung trang 2 của hợp đồng thuê nhà');
  await con.click('button[value=request_info]');
  await page.goto(base + '/portal/notifications');
  check((await page.textContent('main')).includes('Bổ sung trang 2'), 'the request for information is in the notifications');
  await shot(page, 'notifications');
  await page.goto(base + '/portal/dossiers/' + dossierID);
  check((await page.inputValue('#f-lawful_residence')).includes('15/2026'), 'the form to complete holds what was filled in');
  await shot(page, 'dossier-info-requested');
  await page.fill('#f-lawful_residence', 'Hợp đồng thuê nhà số 15/2026, đủ 2 trang');
  await page.click(`form[action="/portal/dossiers/${dossierID}/supplement"] button[type=submit]`);
  await page.waitForURL(/done=supplemented$/);
  await con.goto(base + '/console/dossiers/' + dossierID);
  await con.click('button[value=approve]');
  await page.goto(base + '/portal/dossiers/' + dossierID);
  check((await page.textContent('h1')).includes('Đã') || await page.isVisible(`a[href="/portal/documents/${dossierID}"]`), 'the dossier is approved, its result printable');
  await shot(page, 'dossier-approved');

  // A residence confirmation whose QR link the public page says is valid.
  await page.goto(base + '/portal/documents');
  await page.click('form[action="/portal/documents/confirmation"] button');
  await page.waitForURL(/\/portal\/documents\/[0-9a-f-]{36}$/);
  const link = (await page.textContent('.paper-qr .num')).trim();
  await shot(page, 'ct07');
  const phoneCtx = await browser.newContext({ locale: 'vi-VN', bypassCSP: true, viewport: { width: 390, height: 844 }, isMobile: true });
  const verifier = await phoneCtx.newPage();
  await verifier.goto(link.replace(/^https?:\/\/[^/]+/, base));
  check((await verifier.textContent('.verdict-word')).includes('CÒN GIÁ TRỊ'), 'the QR link opens the public check: valid');
  await shot(verifier, 'ct07-check-390');

  // The officer's read is in my access log, by the unit.
  await page.goto(base + '/portal/access');
  const log = await page.textContent('tbody');
  check(!log.includes('Cán bộ Quầy'), 'the access log names no officer');
  check(log.includes('đơn vị công an'), "the officer's read is in my access log, by the police unit");
  await shot(page, 'access');
  // Each entry links to its inclusion proof in the verifiable log (sealed
  // within seconds).
  const proofPath = await page.getAttribute('a[href$="/proof"]', 'href');
  for (let i = 0; i < 40; i++) {
    const res = await page.goto(base + proofPath);
    if (res.status() === 200) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  check(await page.isVisible('pre.note-text'), 'an access entry shows its inclusion proof against the signed checkpoint');
  await shot(page, 'proof');

  // English and a phone's width on the new pages.
  await page.goto(base + '/portal/dossiers/' + dossierID);
  await page.click('button[name=lang][value=en]');
  check((await page.textContent('main')).includes('Steps'), 'the dossier page in English');
  await shot(page, 'dossier-en');
  await page.goto(base + '/portal/services');
  await shot(page, 'services-en');
  await page.click('button[name=lang][value=vi]');
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [name, path] of [['services-390', '/portal/services'], ['temporary-390', '/portal/services/residence.temporary'],
    ['dossiers-390', '/portal/dossiers'], ['dossier-390', '/portal/dossiers/' + dossierID], ['notifications-390', '/portal/notifications'],
    ['security-390', '/portal/security'], ['proof-390', proofPath], ['dependants-390', '/portal/dependants'], ['consents-390', '/portal/consents']]) {
    await page.goto(base + path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    check(!overflow, `${name}: nothing wider than a 390 px screen`);
    await shot(page, name);
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  // "I lost my phone": lock now, then get back in with a recovery code.
  await page.goto(base + '/portal/security');
  await page.check('#f-confirm');
  await page.click('form[action="/portal/security/lock"] button[type=submit]');
  check((await page.textContent('main')).includes('khoá'), 'the account is locked at once');
  await page.goto(base + '/portal/recover');
  const password2 = 'Phuc-' + run + 'B!';
  await page.fill('#f-pid', pid);
  await page.fill('#f-code', codes[0].toLowerCase());
  await page.fill('#f-passcode', passcode);
  await page.fill('#f-password', password2);
  await page.fill('#f-password2', password2);
  await shot(page, 'recover');
  await page.click('form[action="/portal/recover"] button[type=submit]');
  check((await page.textContent('main')).includes('Đã khôi phục'), 'a recovery code and the passcode get the citizen back in');
  await signIn(password2);
  await page.goto(base + '/portal/security');
  check((await page.textContent('main')).includes('Còn 9 mã'), 'one recovery code is used up');
  await shot(page, 'security-recovered');
  // A WebAuthn authenticator for this browser (Chromium's virtual one).
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
    protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
    isUserVerified: true, automaticPresenceSimulation: true } });
  await page.click('#add-passkey');
  await page.waitForFunction(() => document.getElementById('passkey-status').textContent !== '');
  check((await page.textContent('#passkey-status')).includes('72'), 'within the cooling-off no passkey is added');

  // Lost again, and no code at hand: the counter, with the card.
  const cardApp = await api(officerToken, 'POST', '/api/v1/cards/applications', {
    pid, kind: 'first', photo: portrait.toString('base64'),
    fingerprints: [{ finger: 'right_index', template: Buffer.from('FMR right').toString('base64') }, { finger: 'left_index', template: Buffer.from('FMR left').toString('base64') }],
  });
  await api(officerToken, 'POST', `/api/v1/cards/applications/${cardApp.id}/decision`, { approve: true });
  const card = await api(officerToken, 'POST', `/api/v1/cards/applications/${cardApp.id}/produce`);
  const chip = await api(officerToken, 'GET', `/api/v1/cards/${card.id}/chip`);
  const aaKey = createPrivateKey({ key: Buffer.from(card.personalisation.keys.active_authentication_key, 'base64'), format: 'der', type: 'pkcs8' });
  await con.goto(base + '/console/eid/rebind?pid=' + pid);
  const challenge = Buffer.from((await con.textContent('#challenge')).trim(), 'hex');
  const signature = sign('sha256', challenge, { key: aaKey, dsaEncoding: 'ieee-p1363' });
  const file = `${out}chip-read.json`;
  writeFileSync(file, JSON.stringify({ sod: chip.sod, data_groups: chip.data_groups, active_authentication_signature: signature.toString('base64') }));
  await con.fill('#f-pid', pid);
  await con.setInputFiles('#f-chip', file);
  await con.check('input[name=face_checked]');
  await con.fill('#f-phone', newPhone);
  await shot(con, 'counter-rebind');
  await con.click('form[action="/console/eid/rebind"] button[type=submit]');
  check((await con.textContent('main')).includes(newPhone), 'the officer moves the account to the new phone at the counter');
  await shot(con, 'counter-rebound');
  await page.goto(base + '/portal/me');
  check(page.url().includes('/login'), 'the sessions of the old phone are ended');
  await page.goto(base + '/portal/activate');
  await page.fill('#f-pid', pid);
  await page.fill('#f-contact', newPhone);
  await page.click('form[action="/portal/activate/code"] button[type=submit]');
  const again = await codeFor(admin, newPhone);
  const password3 = 'Phuc-' + run + 'C!';
  await page.fill('#f-code', again.code);
  await page.fill('#f-password', password3);
  await page.fill('#f-password2', password3);
  await page.fill('#f-passcode', '135792');
  await page.click('form[action="/portal/activate"] button[type=submit]');
  check((await page.locator('ol.codes code').count()) === 10, 'activation from the new phone gives new recovery codes');
  await signIn(password3);
  // In person the cooling-off is lifted: a second device's passkey.
  await page.goto(base + '/portal/security');
  await page.fill('#f-passkey-name', 'máy tính ở nhà');
  await page.click('#add-passkey');
  await page.waitForURL(/done=passkeyadded/);
  check((await page.textContent('main')).includes('máy tính ở nhà'), 'a passkey of a second device is added from the portal');
  await shot(page, 'security-passkey');
  await page.goto(base + '/portal/access');
  check((await page.textContent('tbody')).includes('Công an cấp xã'), 'the counter\'s move is in my access log');

  // Withdraw the portal's own consent: its session ends with it.
  await page.goto(base + '/portal/consents');
  await shot(page, 'consents');
  await page.click('form[action="/portal/consents/dancu-portal"] button');
  await page.goto(base + '/portal/me');
  check(page.url().includes('/login'), 'withdrawing the portal\'s consent ends its session');
} catch (e) {
  check(false, String(e && e.stack || e));
}
await finish('citizen journeys');
