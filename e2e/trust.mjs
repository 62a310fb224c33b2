// The trust pages in headless Chromium, on a 360 px phone and a desktop:
// a resident asks to see an account another resident signs up with; the
// owner opens the link from the e-mail, allows it, sees who sees the account
// in Settings and takes the access back; and an installation without a card
// gateway shows the pay page that points to the receipt's QR code. axe-core
// checks every page for WCAG 2.1 A/AA.
// Run: node e2e/trust.mjs (needs target/debug/kabinet, /usr/bin/chromium, python3).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, freePort, launch, root, serverEnv, signInDemo, sleep, waitHealthy, wcagViolations } from './harness.mjs';

const out = join(root, 'e2e', 'out');
mkdirSync(out, { recursive: true });
const viewports = { phone: { width: 360, height: 780 }, desktop: { width: 1280, height: 900 } };
const failures = [];
let checked = 0;

async function axe(page, label) {
  const violations = await wcagViolations(page);
  await page.screenshot({ path: join(out, `trust-${label}.png`), fullPage: true });
  if (violations) failures.push(`${label}: ${violations}`);
  else checked++;
}

// Runs SQL on the demo's SQLite file and returns the rows (tab-separated).
function sql(data, query) {
  return execFileSync('python3', ['-c', `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute(sys.argv[2]).fetchall()
c.commit()
print("\\n".join("\\t".join(str(v) for v in r) for r in rows))
`, join(data, 'kabinet.db'), query]).toString().trim();
}

// The newest e-mail to `to` in <data>/mail, as text.
async function mailTo(data, to) {
  for (let i = 0; i < 100; i++) {
    const dir = join(data, 'mail');
    let files = [];
    try { files = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort(); } catch { /* not yet */ }
    for (const f of files.reverse()) {
      const text = execFileSync('python3', ['-c', `
import email, sys
from email import policy
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=policy.default)
print(m['To']); print(m.get_body(preferencelist=('plain',)).get_content())
`, join(dir, f)]).toString();
      if (text.split('\n')[0].includes(to)) return text;
    }
    await sleep(200);
  }
  throw new Error(`no e-mail to ${to}`);
}

async function run(name, viewport) {
  const data = mkdtempSync(join(tmpdir(), 'kabinet-trust-'));
  let server;
  let browser;
  try {
    const port = await freePort();
    const env = serverEnv(data, port);
    execFileSync(bin, ['demo', '--accounts', '6', '--months', '3', '--no-serve'], { env, stdio: 'ignore' });
    // The owner: a resident of account 6 (the demo resident's password).
    sql(data, `INSERT INTO users (account_id, email, password_hash, password_generated, password_expires_at, blocked,
        rules_version, consent_version, failed_count, created_at, password_changed_at, paperless, notifications)
      SELECT 6, 'owner@example.ru', password_hash, password_generated, password_expires_at, blocked, rules_version, consent_version, 0,
        created_at, password_changed_at, paperless, notifications FROM users WHERE email = 'demo@example.com'`);
    sql(data, `INSERT INTO user_accounts (user_id, account_id, linked_at) SELECT id, 6, created_at FROM users WHERE account_id = 6`);
    const [number, total] = sql(data, `SELECT a.number, i.total_due FROM accounts a JOIN invoices i ON i.account_id = a.id
      WHERE a.id = 6 ORDER BY i.period DESC LIMIT 1`).split('\t');
    const amount = (Number(total) / 100).toFixed(2).replace('.', ',');
    server = spawn(bin, ['serve'], { env, stdio: 'inherit' });
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(base);
    browser = await launch();

    // The demo resident asks for account 6.
    const asker = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await signInDemo(asker, base);
    await asker.goto(`${base}/settings`);
    await asker.fill('#link-account', number);
    await asker.fill('#link-check', amount);
    await asker.click('button[type=submit]:has-text("Добавить счёт")');
    await asker.waitForURL(/done=asked/);
    if (!(await asker.textContent('main')).includes('Ждут разрешения')) throw new Error('the asker does not see the pending request');
    await axe(asker, `${name}-asked`);

    // The owner opens the link from the e-mail, signs in, allows it.
    const mail = await mailTo(data, 'owner@example.ru');
    const link = mail.match(/\/settings\/access\/[A-Za-z0-9_-]+/);
    if (!link) throw new Error(`no link in the e-mail:\n${mail}`);
    const owner = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await owner.goto(`${base}/login`);
    const hint = await owner.textContent('.notice');
    const password = hint.match(/пароль (\S+)\./)[1];
    await owner.fill('#account', number);
    await owner.fill('#password', password);
    await owner.click('button[type=submit]:has-text("Войти")');
    await owner.waitForURL(`${base}/cabinet`);
    await owner.goto(`${base}${link[0]}`);
    if (!(await owner.textContent('main')).includes('de***@example.com')) throw new Error('the request page does not name the asker');
    await axe(owner, `${name}-access-request`);
    await owner.goto(`${base}${link[0]}?lang=en`);
    await axe(owner, `${name}-access-request-en`);
    await owner.click('button:has-text("Allow")');
    await owner.waitForURL(/done=approved/);
    if (!(await owner.textContent('main')).includes('de***@example.com')) throw new Error('settings do not show who sees the account');
    await axe(owner, `${name}-access-settings`);
    await asker.goto(`${base}/cabinet?account=${number}`);
    if (!(await asker.textContent('main')).includes(number)) throw new Error('the asker does not see the allowed account');
    await owner.click('button:has-text("Remove access")');
    await owner.waitForURL(/done=revoked/);
    const gone = await asker.goto(`${base}/cabinet?account=${number}`);
    if (gone.status() !== 404) throw new Error(`after removal: ${gone.status()}`);
    server.kill();
    await sleep(300);

    // No gateway set up: the pay page points to the receipt's QR code.
    server = spawn(bin, ['serve'], { env: { ...env, KABINET_PAYMENT_GATEWAY: 'none' }, stdio: 'inherit' });
    await waitHealthy(base);
    await asker.goto(`${base}/pay`);
    const off = await asker.textContent('main');
    if (!off.includes('Оплата картой не подключена') || !off.includes('QR-коду')) throw new Error(`pay page: ${off}`);
    if (await asker.$('.banner.test')) throw new Error('a test banner without the sandbox');
    await axe(asker, `${name}-pay-off`);
    await asker.goto(`${base}/pay?lang=en`);
    await axe(asker, `${name}-pay-off-en`);
  } catch (e) {
    failures.push(`${name}: ${e.message}`);
  } finally {
    if (browser) await browser.close();
    if (server) server.kill();
    rmSync(data, { recursive: true, force: true });
  }
}

for (const [name, viewport] of Object.entries(viewports)) await run(name, viewport);
if (failures.length) {
  console.error(`trust: ${failures.length} failure(s)\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`trust: consent to a link and the pay page without a gateway pass; ${checked} pages axe-clean`);
