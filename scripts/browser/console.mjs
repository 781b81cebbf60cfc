// The officer console in a real browser, as a commune registrar works in
// it: sign in with the password, enrol an authenticator app on the first
// sign-in (the code computed here from the key the page shows), search by
// name without diacritics and by number, open a record, correct a field
// with a reason, see a conflicting change by a colleague side by side,
// register a birth and keep the child's record, handle the dossier queue,
// switch to English, and sign out everywhere. Every page is scanned with
// axe-core (serious and critical violations fail) at 1280 px and at 390 px,
// and screenshots go to OUT (default ../../bench-out/console). Run against
// `dancu serve --demo` on a fresh store (the registrar's first sign-in):
//
//   cd scripts/browser && npm install && node console.mjs http://localhost:8080
import { journey, totp } from './journey.mjs';

const { base, out, check, scan, shot, browser, finish } = await journey('console.mjs', 'console');

try {
  // bypassCSP lets axe-core be injected; the pages themselves need no script.
  const context = await browser.newContext({ locale: 'vi-VN', bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();

  await page.goto(base + '/');
  check((await page.textContent('h1')).includes('dân cư'), 'the landing page is in Vietnamese');
  await shot(page, 'landing');

  // Sign-in: password, then enrolment of an authenticator app.
  await page.goto(base + '/console/citizens');
  check(page.url().includes('/console/login?next='), 'a console page asks for sign-in first');
  await shot(page, 'login');
  await page.fill('#f-username', 'badinh');
  await page.fill('#f-password', 'wrong password');
  await page.click('button[type=submit]');
  check(await page.isVisible('.error-summary'), 'a wrong password is refused with a message');
  await page.fill('#f-password', 'Demo-2026!');
  await page.click('button[type=submit]');
  check(await page.isVisible('img.qr'), 'a registrar enrols an authenticator app on the first sign-in');
  await shot(page, 'enrol');
  const secret = (await page.textContent('code.secret')).trim();
  await page.fill('#f-code', '000000' === totp(secret) ? '111111' : '000000');
  await page.click('button[type=submit]');
  check(await page.isVisible('.error-summary'), 'a wrong code is refused');
  await page.fill('#f-code', totp(secret));
  await page.click('button[type=submit]');
  await page.waitForURL(/\/console\/citizens$/);
  check(true, 'after the code, the page asked for opens');
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name.endsWith('dancu_console'));
  check(session && session.httpOnly && session.sameSite === 'Lax', 'the session cookie is HttpOnly and SameSite=Lax');

  await page.goto(base + '/console/');
  await shot(page, 'home');

  // Search by name without diacritics.
  await page.fill('#f-q', 'nguyen van an');
  await page.click('form[role=search] button[type=submit]');
  const rows = await page.locator('table.results tbody tr').count();
  check(rows > 0, `a search without diacritics finds Nguyễn Văn An (${rows} rows)`);
  await shot(page, 'search');
  await page.fill('#f-q', '31/02/1990');
  await page.click('form[role=search] button[type=submit]');
  check(await page.isVisible('.error-summary'), 'an impossible date is named as the problem');

  // By number: straight to the record.
  await page.fill('#f-q', '001085012345');
  await page.click('form[role=search] button[type=submit]');
  await page.waitForURL(/\/console\/citizens\/001085012345$/);
  check((await page.textContent('h1')).includes('Nguyễn Văn An'), 'a 12-digit number opens the record');
  check(await page.isVisible('#history'), 'the record shows its history');
  await shot(page, 'record');

  // Correct a field with a reason.
  await page.click('a[href$="/edit"]');
  await page.fill('#f-phone', '0912345678');
  await page.click('form button[type=submit]');
  check(await page.isVisible('#e-reason'), 'a change without a reason is refused at the field');
  await shot(page, 'edit-errors');
  await page.fill('#f-reason', 'Công dân đề nghị cập nhật số điện thoại');
  await page.fill('#f-legal_basis', 'Luật Căn cước 2023, Điều 9');
  await page.click('form button[type=submit]');
  await page.waitForURL(/saved=1/);
  check(await page.isVisible('.banner.success'), 'the change is saved');

  // Two officers edit at once: the second sees the first's change.
  const other = await context.newPage();
  await other.goto(base + '/console/citizens/001085012345/edit');
  await page.goto(base + '/console/citizens/001085012345/edit');
  await other.fill('#f-email', 'an.nguyen@example.vn');
  await other.fill('#f-reason', 'Bổ sung thư điện tử');
  await other.fill('#f-legal_basis', 'Luật Căn cước 2023, Điều 9');
  await other.click('form button[type=submit]');
  await other.waitForURL(/saved=1/);
  await page.fill('#f-email', 'an@example.vn');
  await page.fill('#f-reason', 'Sửa thư điện tử');
  await page.fill('#f-legal_basis', 'Luật Căn cước 2023, Điều 9');
  await page.click('form button[type=submit]');
  check(await page.isVisible('#conflict'), 'a change on a stale version shows who changed the record since');
  await shot(page, 'edit-conflict');
  await other.close();

  // Register a birth: the child of a Ba Đình mother takes her residence,
  // so the commune can keep the child's record.
  await page.goto(base + '/console/births/new?mother_pid=001188054321');
  await page.fill('#f-family', 'Lê');
  await page.fill('#f-middle', 'Minh');
  await page.fill('#f-given', 'Khang');
  await page.fill('#f-birth_date', '01/12/2026');
  await page.check('#f-sex-male');
  await page.fill('#f-legal_basis', 'Luật Hộ tịch 2014, Điều 16');
  await page.click('form button[type=submit]');
  if (!/registered=1/.test(page.url())) await shot(page, 'birth-failed');
  await page.waitForURL(/registered=1/);
  const pid = (await page.textContent('.bignum')).trim();
  check(/^\d{12}$/.test(pid), `the new personal ID number is shown (${pid})`);
  await shot(page, 'birth-registered');
  await page.click('a[href$="/edit"]');
  await page.fill('#f-other_names', 'Bin');
  await page.fill('#f-reason', 'Bổ sung tên gọi khác');
  await page.fill('#f-legal_basis', 'Luật Căn cước 2023, Điều 9');
  await page.click('form button[type=submit]');
  await page.waitForURL(/saved=1/);
  check(true, "the commune that registered the birth can correct the child's record");

  await page.goto(base + '/console/births/new');
  await page.click('form button[type=submit]');
  check((await page.locator('.error-summary li').count()) >= 3, 'an empty birth form names each missing field');
  await shot(page, 'birth-errors');

  // The work queue: the demo's temporary residence in Ba Đình, received
  // (its deadline starts), receipt printed, approved before the deadline,
  // the result printed.
  await page.goto(base + '/console/dossiers');
  check((await page.locator('table.queue tbody tr').count()) > 0, 'the dossier queue lists the dossiers of the commune');
  await shot(page, 'queue');
  await page.click('table.queue tbody tr:first-child th a');
  await shot(page, 'dossier');
  await page.click('button[value=receive]');
  await page.waitForURL(/done=receive/);
  check(await page.isVisible('.days.u-ok, .days.u-soon'), 'a received dossier shows the working days left');
  await page.click('a[href$="/result"]');
  check((await page.textContent('h1')).includes('TIẾP NHẬN'), 'the receipt (CT04) prints');
  await page.screenshot({ path: `${out}receipt-ct04.png`, fullPage: true });
  await page.goBack();
  await page.click('button[value=approve]');
  await page.waitForURL(/done=approve/);
  check((await page.textContent('h1 .tag')).length > 0, 'the dossier is approved before its deadline');
  await page.click('a[href$="/result"]');
  await page.emulateMedia({ media: 'print' });
  await page.pdf({ path: `${out}result.pdf`, format: 'A4' });
  await page.emulateMedia({ media: 'screen' });
  check(true, 'the result prints as an A4 page');
  await shot(page, 'result');
  await page.goto(base + '/console/dossiers');

  // The e-ID and card queues.
  await page.goto(base + '/console/eid');
  await shot(page, 'eid-queue');
  for (const st of ['submitted', 'approved', 'produced']) {
    await page.goto(base + '/console/cards?state=' + st);
    check((await page.textContent('h1')).length > 0, `the card queue (${st}) opens`);
  }
  await shot(page, 'card-queue');
  await page.goto(base + '/console/cards/batches');
  check(await page.isVisible('h2'), 'the production batches page opens');
  await shot(page, 'card-batches');

  // The change of household head: the form asks every other member's
  // relationship to the new head; sent empty, it names what is missing.
  await page.goto(base + '/console/citizens/001085012345');
  await page.click('a[href$="/head"]');
  await page.waitForURL(/\/console\/households\/.*\/head/);
  check(await page.isVisible('fieldset#f-new_head input[type=radio]'), 'the head form lists the members who may become head');
  await shot(page, 'household-head');
  await page.click('form[action$="/head"] button[type=submit]');
  check(await page.isVisible('.error-summary'), 'the head form sent empty names what is missing');
  await shot(page, 'household-head-errors');

  // The dashboard of the commune: the counts this journey made appear
  // after a refresh, as charts with their numbers, and as CSV.
  await page.goto(base + '/console/dashboard');
  await page.click('form[action$="/dashboard/refresh"] button');
  await page.waitForURL(/\/console\/dashboard/);
  check(await page.isVisible('svg.bars'), 'the dashboard draws its charts');
  const decided = await page.locator('section.chart', { hasText: 'Hồ sơ cư trú' }).locator('tbody tr:last-child td').nth(1).textContent();
  check(Number(decided) >= 1, `the dashboard counts the dossier decided in this journey (${decided})`);
  const csv = await (await page.request.get(base + '/console/dashboard.csv')).text();
  check(csv.startsWith('unit,month,indicator,count'), 'the dashboard downloads as CSV');
  await shot(page, 'dashboard');

  // English.
  await page.goto(base + '/console/dossiers');
  await page.click('button[name=lang][value=en]');
  check((await page.textContent('h1')).includes('dossiers'), 'the console switches to English');
  await shot(page, 'queue-en');
  await page.goto(base + '/console/citizens/001085012345');
  await shot(page, 'record-en');
  await page.click('button[name=lang][value=vi]');

  // A phone's width.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [name, path] of [['home-390', '/console/'], ['record-390', '/console/citizens/001085012345'],
    ['search-390', '/console/citizens?q=tran+thi'], ['birth-390', '/console/births/new'], ['dashboard-390', '/console/dashboard'], ['batches-390', '/console/cards/batches'], ['dossiers-390', '/console/dossiers'], ['cards-390', '/console/cards?state=submitted']]) {
    await page.goto(base + path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    check(!overflow, `${name}: nothing wider than a 390 px screen`);
    await shot(page, name);
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  // Keyboard: the skip link is the first stop and leads to the content.
  await page.goto(base + '/console/');
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.classList.contains('skip')), 'the first Tab reaches the skip link');

  await page.click('form[action$="/logout-everywhere"] button');
  await page.waitForURL(/\/console\/login/);
  await page.goto(base + '/console/');
  check(page.url().includes('/console/login'), 'after signing out everywhere the console asks for sign-in');
} catch (e) {
  check(false, String(e));
}
await finish('console journeys');
