// What the browser tests share: where the binary is, a free port, waiting for
// a server to answer, launching Debian's Chromium headless, the demo
// resident's sign-in and the axe-core WCAG check.
import AxeBuilder from '@axe-core/playwright';
import { chromium } from 'playwright-core';
import { join, dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { createHmac } from 'node:crypto';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const bin = process.env.KABINET_BIN || join(root, 'target', 'debug', 'kabinet');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// The environment of a server on `port` with its data in `data` (KABINET_BIN
// names the binary; the binary itself would take it for a setting).
export function serverEnv(data, port) {
  const env = { ...process.env, KABINET_DATA_DIR: data, KABINET_LISTEN: `127.0.0.1:${port}`, KABINET_PUBLIC_URL: `http://127.0.0.1:${port}` };
  delete env.KABINET_BIN;
  return env;
}

export async function waitHealthy(base) {
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) return; } catch { /* not yet */ }
    await sleep(100);
  }
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// axe-core's WCAG 2.1 A/AA violations on the page, summed up in one line
// (null when there are none).
export async function wcagViolations(page) {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  if (!result.violations.length) return null;
  return result.violations.map((v) => `${v.id} (${v.nodes.length}): ${v.nodes[0].target}`).join('; ');
}

// Signs in as the demo resident whose account and password the sign-in page
// of a demo database shows, and waits for the overview; returns the account.
export async function signInDemo(page, base) {
  await page.goto(`${base}/login`);
  const hint = await page.textContent('.notice');
  const m = hint.match(/лицевой счёт (\S+), пароль (\S+)\./);
  if (!m) throw new Error(`no demo sign-in on the page: ${hint}`);
  await page.fill('#account', m[1]);
  await page.fill('#password', m[2]);
  await page.click('button[type=submit]:has-text("Войти")');
  await page.waitForURL(`${base}/cabinet`);
  return m[1];
}

// RFC 6238 with SHA-1, 6 digits, 30 s steps, from a base32 secret.
export function totp(secret, unix = Math.floor(Date.now() / 1000)) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unix / 30)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 15;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

// The phone and desktop viewports every browser test runs on.
export const viewports = { phone: { width: 360, height: 780 }, desktop: { width: 1280, height: 900 } };

// The axe-core check of one script: `axe(page, label)` checks a page and
// keeps its screenshot in e2e/out/<prefix>-<label>.png; `report()` prints how
// many pages were clean or exits non-zero with every violation.
export function axeChecker(prefix) {
  const out = join(root, 'e2e', 'out');
  mkdirSync(out, { recursive: true });
  const failures = [];
  let checked = 0;
  return {
    async axe(page, label) {
      const violations = await wcagViolations(page);
      await page.screenshot({ path: join(out, `${prefix}-${label}.png`), fullPage: true });
      if (violations) failures.push(`${label}: ${violations}`);
      else checked++;
    },
    report() {
      if (failures.length) {
        console.error(`axe found WCAG violations:\n${failures.join('\n')}`);
        process.exit(1);
      }
      console.log(`${prefix}: ${checked} pages axe-clean on a phone and a desktop`);
    },
  };
}

// The staff sign-in `kabinet demo` printed for `who` (Dispatcher,
// Administrator, Accountant, Operator).
export function demoStaff(stderr, who) {
  const m = stderr.match(new RegExp(`${who} console at /staff/login: login (\\S+), password (\\S+), TOTP secret ([A-Z2-7]+)`));
  if (!m) throw new Error(`no demo ${who} in the output: ${stderr}`);
  return { login: m[1], password: m[2], secret: m[3] };
}

// Signs `who` (from demoStaff) in to the console with a TOTP code.
export async function staffSignIn(page, base, who) {
  await page.goto(`${base}/staff/login`);
  await page.fill('#login', who.login);
  await page.fill('#password', who.password);
  await page.click('main button[type=submit]');
  await page.waitForURL(`${base}/staff/second-factor`);
  await page.fill('#code', totp(who.secret));
  await page.click('main button[type=submit]');
  await page.waitForURL(`${base}/staff`);
}
