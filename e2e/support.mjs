// Residents' support and announcements in headless Chromium, on a 360 px
// phone and a desktop: the demo operator signs in with a TOTP code, finds the
// demo resident by e-mail, opens their card, sends a password-reset link and
// sees the e-mail in the card's messages; the demo resident then finds that
// action under "My data" in their settings. The demo administrator finds the
// building of the demo resident and a resident of another building, publishes
// an emergency outage for the first; the demo resident sees the banner and the
// announcement, the other resident does not. The demo dispatcher is refused
// the search. axe-core checks every page for WCAG 2.1 A/AA.
// Run: node e2e/support.mjs (needs target/debug/kabinet, /usr/bin/chromium).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeChecker, bin, demoStaff, freePort, launch, serverEnv, signInDemo, staffSignIn, viewports, waitHealthy } from './harness.mjs';

const { axe, report } = axeChecker('support');

async function run(name, viewport) {
  const data = mkdtempSync(join(tmpdir(), `kabinet-support-${name}-`));
  let server;
  let browser;
  try {
    const port = await freePort();
    const env = serverEnv(data, port);
    const demo = spawnSync(bin, ['demo', '--accounts', '100', '--months', '1', '--no-serve'], { env, encoding: 'utf8' });
    // The demo's residents all live in the first building: one more resident,
    // in another building, signing in with the demo password (the demo
    // resident's row copied onto an account there).
    const away = execFileSync('python3', ['-c', `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
here = c.execute("SELECT p.address FROM users u JOIN accounts a ON a.id = u.account_id JOIN premises p ON p.id = a.premises_id WHERE u.email = 'demo@example.com'").fetchone()[0]
acc, number = c.execute("SELECT a.id, a.number FROM accounts a JOIN premises p ON p.id = a.premises_id WHERE p.address <> ? AND NOT EXISTS (SELECT 1 FROM users u WHERE u.account_id = a.id) ORDER BY a.id LIMIT 1", (here,)).fetchone()
c.execute("INSERT INTO users (account_id, email, password_hash, password_generated, password_expires_at, blocked, rules_version, consent_version, failed_count, created_at, password_changed_at, notifications) SELECT ?, 'neighbour@example.invalid', password_hash, password_generated, password_expires_at, 0, rules_version, consent_version, 0, created_at, password_changed_at, notifications FROM users WHERE email = 'demo@example.com'", (acc,))
c.execute("INSERT INTO user_accounts (user_id, account_id, linked_at) SELECT id, account_id, created_at FROM users WHERE email = 'neighbour@example.invalid'")
c.commit()
print(number)
`, join(data, 'kabinet.db')]).toString().trim();
    const operator = demoStaff(demo.stderr, 'Operator');
    const admin = demoStaff(demo.stderr, 'Administrator');
    const dispatcher = demoStaff(demo.stderr, 'Dispatcher');
    server = spawn(bin, ['serve'], { env, stdio: 'inherit' });
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(base);
    browser = await launch();
    const page = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await staffSignIn(page, base, operator);

    // The search: by the start of the e-mail, the field told from the text.
    await page.click('nav.main a:has-text("Жители")');
    await page.waitForURL(`${base}/staff/residents`);
    await axe(page, `${name}-search`);
    await page.fill('#r-q', 'ab');
    await page.click('form[role=search] button[type=submit]');
    await page.waitForLoadState();
    if (!(await page.textContent('main .error')).includes('не меньше 3')) throw new Error('a short search is not explained');
    await axe(page, `${name}-search-refused`);
    await page.fill('#r-q', 'demo@');
    await page.click('form[role=search] button[type=submit]');
    await page.waitForLoadState();
    if (!(await page.textContent('main [role=status]')).includes('в e-mail')) throw new Error('the e-mail was not told from the text');
    await axe(page, `${name}-results`);
    await page.click('main table a:has-text("demo@example.com")');
    await page.waitForURL(/\/staff\/residents\/\d+$/);
    const card = page.url();
    const facts = await page.textContent('main dl.facts');
    if (!facts.includes('demo@example.com') || !facts.includes('задан жителем')) throw new Error(`the card: ${facts}`);
    await axe(page, `${name}-card`);

    // A reset link: sent, and in the card's messages.
    await page.click('button:has-text("Отправить ссылку для смены пароля")');
    await page.waitForURL(`${card}?done=reset`);
    if (!(await page.textContent('main .notice')).includes('Ссылка для смены пароля отправлена')) throw new Error('not told it was sent');
    const messages = await page.textContent('main table:has(th:has-text("Тема"))');
    if (!messages.includes('Восстановление пароля')) throw new Error(`not in the messages: ${messages}`);
    await axe(page, `${name}-card-sent`);

    // The resident sees what the office did.
    const resident = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await signInDemo(resident, base);
    await resident.goto(`${base}/settings`);
    const settings = await resident.textContent('main');
    if (!settings.includes('Сотрудник отправил ссылку для смены пароля')) throw new Error('the resident does not see the action');
    await axe(resident, `${name}-resident-settings`);

    // An emergency outage for the demo resident's building only.
    const office = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await staffSignIn(office, base, admin);
    const building = (address) => address.replace(/, кв\. .*$/, '').trim();
    await office.goto(`${base}/staff/residents?q=demo%40`);
    const here = building(await office.textContent('main table tbody tr td:nth-child(2)'));
    await office.goto(`${base}/staff/residents?q=${away}`);
    if (building(await office.textContent('main table tbody tr td:nth-child(2)')) === here) throw new Error('the neighbour lives in the same building');
    await office.click('nav.main a:has-text("Объявления")');
    await office.waitForURL(`${base}/staff/announcements`);
    await axe(office, `${name}-announcements`);
    const until = new Date(Date.now() + (3 + 5) * 3600 * 1000).toISOString().slice(0, 16); // Moscow time, 5 h ahead
    await office.selectOption('#an-kind', 'emergency');
    await office.selectOption('#an-service', 'cold_water');
    await office.fill('#an-title', 'Авария на водопроводе');
    await office.fill('#an-body', 'Бригада на месте. Воду дадут к вечеру.');
    await office.fill('#an-buildings', here);
    await office.fill('#an-until', until);
    await office.click('button:has-text("Опубликовать")');
    await office.waitForURL(`${base}/staff/announcements?saved=1`);
    if (!(await office.textContent('main table')).includes('Авария на водопроводе')) throw new Error('not in the office list');
    await axe(office, `${name}-announcement-published`);
    await resident.goto(`${base}/cabinet`);
    const pinned = await resident.textContent('.banner.urgent');
    if (!pinned.includes('Аварийное отключение: холодная вода') || !pinned.includes('Авария на водопроводе')) throw new Error(`no banner: ${pinned}`);
    await axe(resident, `${name}-resident-banner`);
    await resident.click('.banner.urgent a');
    await resident.waitForURL(`${base}/announcements`);
    if (!(await resident.textContent('main')).includes('Воду дадут к вечеру.')) throw new Error('not in the list');
    await axe(resident, `${name}-resident-announcements`);
    const neighbour = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await neighbour.goto(`${base}/login`);
    const password = (await neighbour.textContent('.notice')).match(/пароль (\S+)\./)[1];
    await neighbour.fill('#account', away);
    await neighbour.fill('#password', password);
    await neighbour.click('button[type=submit]:has-text("Войти")');
    await neighbour.waitForURL(/\/(cabinet|rules\/accept|consent\/accept)$/);
    await neighbour.goto(`${base}/cabinet`);
    if (await neighbour.$('.banner.urgent')) throw new Error('a resident of another building sees the banner');
    if ((await neighbour.textContent('body')).includes('Авария на водопроводе')) throw new Error('a resident of another building sees it');

    // The dispatcher has no support.
    const other = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await staffSignIn(other, base, dispatcher);
    if (await other.$('nav.main a[href="/staff/residents"]')) throw new Error('the dispatcher is offered the search');
    const refused = await other.goto(`${base}/staff/residents?q=demo%40`);
    if (refused.status() !== 403) throw new Error(`the dispatcher got ${refused.status()}`);
  } finally {
    if (browser) await browser.close();
    if (server) server.kill('SIGTERM');
    rmSync(data, { recursive: true, force: true });
  }
}

for (const [name, viewport] of Object.entries(viewports)) {
  await run(name, viewport);
}
report();
