// What the browser journeys share: the server's address from the command
// line (loopback only), where screenshots go, checks that count failures,
// TOTP codes, axe-core scans, screenshots, and Debian's Chromium.
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) from a base32 key.
export function totp(secret, t = Date.now()) {
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

// journey sets up a journey named script, with screenshots in
// ../../bench-out/<dir>/ unless OUT says otherwise.
export async function journey(script, dir) {
  const base = process.argv[2] || 'http://localhost:8080';
  if (!/^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?$/.test(base)) {
    console.error(`usage: node ${script} http://localhost:PORT (loopback only)`);
    process.exit(2);
  }
  const out = process.env.OUT || new URL(`../../bench-out/${dir}/`, import.meta.url).pathname;
  mkdirSync(out, { recursive: true });
  let failures = 0;
  const check = (ok, what) => {
    if (!ok) { console.error('FAIL:', what); failures++; } else console.log('ok:', what);
  };
  const scan = async (page, name) => {
    await page.addScriptTag({ content: axeSource });
    const res = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
    const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    for (const v of bad) console.error(`  axe ${v.impact} ${v.id} on ${name}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
    check(bad.length === 0, `${name}: no serious accessibility violations (axe-core)`);
  };
  const shot = async (page, name) => {
    await page.screenshot({ path: `${out}${name}.png`, fullPage: true });
    await scan(page, name);
  };
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--host-resolver-rules=MAP localhost 127.0.0.1'],
  });
  // finish closes the browser and ends the process with the verdict.
  const finish = async (what) => {
    await browser.close();
    if (failures) {
      console.error(`${failures} check(s) failed`);
      process.exit(1);
    }
    console.log(`${what}: all checks passed`);
  };
  return { base, out, check, scan, shot, browser, finish };
}
