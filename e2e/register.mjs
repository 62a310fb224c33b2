// Registration and first sign-in through the real pages in headless Chromium:
// a demo organization on SQLite, the e-mail read from the file transport.
// Run: node e2e/register.mjs (needs target/debug/kabinet, python3, /usr/bin/chromium).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, freePort, launch, root, serverEnv, sleep, waitHealthy, wcagViolations } from './harness.mjs';

const data = mkdtempSync(join(tmpdir(), 'kabinet-e2e-'));
const out = join(root, 'e2e', 'out');
mkdirSync(out, { recursive: true });

let server;
let browser;
let failed = false;
try {
  const port = await freePort();
  const env = serverEnv(data, port);
  execFileSync(bin, ['demo', '--accounts', '5', '--months', '2', '--no-serve'], { env, stdio: 'inherit' });
  const [account, amount] = execFileSync('python3', ['-c', `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
n, k = c.execute("SELECT a.number, i.total_due FROM accounts a JOIN invoices i ON i.account_id = a.id WHERE a.id = 5 ORDER BY i.period DESC LIMIT 1").fetchone()
sign = '-' if k < 0 else ''
print(n); print(f"{sign}{abs(k)//100},{abs(k)%100:02}")
`, join(data, 'kabinet.db')]).toString().trim().split('\n');

  server = spawn(bin, ['serve'], { env, stdio: 'inherit' });
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(base);

  browser = await launch();
  const page = await browser.newPage({ viewport: { width: 360, height: 780 }, locale: 'ru-RU' });

  await page.goto(`${base}/register`);
  await page.fill('#account', account);
  await page.fill('#email', 'resident@example.ru');
  await page.fill('#check', amount);
  await page.check('input[name=accept_rules]');
  await page.check('input[name=personal_data]');
  await page.check('input[name=consent]');
  await page.screenshot({ path: join(out, 'register.png'), fullPage: true });
  await page.click('button[type=submit]:has-text("Зарегистрироваться")');
  await page.waitForURL(`${base}/register/sent`);
  if (!(await page.textContent('h1')).includes('Проверьте почту')) throw new Error('no confirmation page');

  // The outbox worker writes the message into <data>/mail within seconds.
  let eml;
  for (let i = 0; i < 100 && !eml; i++) {
    const dir = join(data, 'mail');
    const files = (() => { try { return readdirSync(dir).filter((f) => f.endsWith('.eml')); } catch { return []; } })();
    if (files.length) eml = join(dir, files[0]);
    else await sleep(200);
  }
  if (!eml) throw new Error('no e-mail was written');
  const text = execFileSync('python3', ['-c', `
import email, sys
from email import policy
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=policy.default)
print(m.get_body(preferencelist=('plain',)).get_content())
`, eml]).toString();
  const password = (text.match(/\b[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}\b/) || [])[0];
  if (!password) throw new Error(`no password in the e-mail:\n${text}`);

  await page.goto(`${base}/login`);
  await page.fill('#account', account);
  await page.fill('#password', password);
  await page.click('button[type=submit]:has-text("Войти")');
  await page.waitForURL(`${base}/password/new`);
  await page.fill('#password', 'зелёный трамвай 42');
  await page.fill('#password_again', 'зелёный трамвай 42');
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/cabinet`);
  const h1 = await page.textContent('h1');
  if (!h1.includes(account)) throw new Error(`the account page shows ${h1}`);
  await page.screenshot({ path: join(out, 'cabinet.png'), fullPage: true });

  // Sign out and back in with the own password.
  await page.click('button:has-text("Выйти")');
  await page.waitForURL(`${base}/login`);
  await page.fill('#account', account);
  await page.fill('#password', 'зелёный трамвай 42');
  await page.click('button[type=submit]:has-text("Войти")');
  await page.waitForURL(`${base}/cabinet`);

  // A new version of the personal-data consent, published from the command
  // line, is asked for at the next sign-in, on a phone and on a desktop.
  const consent = join(data, 'consent.txt');
  writeFileSync(consent, 'Новая редакция согласия.\n\nВторой раздел.');
  execFileSync(bin, ['consent', 'publish', consent], { env, stdio: 'inherit' });
  // The phone only looks; the desktop gives it.
  for (const viewport of [{ width: 360, height: 780 }, { width: 1280, height: 900 }]) {
    const context = await browser.newContext({ viewport, locale: 'ru-RU' });
    const p = await context.newPage();
    await p.goto(`${base}/login`);
    await p.fill('#account', account);
    await p.fill('#password', 'зелёный трамвай 42');
    await p.click('button[type=submit]:has-text("Войти")');
    await p.waitForURL(`${base}/consent/accept`);
    if (!(await p.textContent('article.rules')).includes('Второй раздел.')) throw new Error('the new consent is not shown');
    const violations = await wcagViolations(p);
    if (violations) throw new Error(`/consent/accept at ${viewport.width}px: ${violations}`);
    if (viewport.width > 1000) {
      await p.click('button[type=submit]:has-text("Даю согласие")');
      await p.waitForURL(`${base}/cabinet`);
    } else {
      await p.goto(`${base}/meters`);
      if (!p.url().endsWith('/consent/accept')) throw new Error(`no consent, yet ${p.url()} opened`);
    }
    await context.close();
  }
  console.log('e2e: 1 passed, 0 failed');
} catch (e) {
  failed = true;
  console.error('e2e: 0 passed, 1 failed');
  console.error(e);
} finally {
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  rmSync(data, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
