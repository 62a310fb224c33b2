// Residents' support in headless Chromium, on a 360 px phone and a desktop:
// the demo operator signs in with a TOTP code, finds the demo resident by
// e-mail, opens their card, sends a password-reset link and sees the e-mail
// in the card's messages; the demo resident then finds that action under
// "My data" in their settings. The demo dispatcher is refused the search.
// axe-core checks every page for WCAG 2.1 A/AA.
// Run: node e2e/support.mjs (needs target/debug/kabinet, /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeChecker, bin, freePort, launch, serverEnv, signInDemo, totp, viewports, waitHealthy } from './harness.mjs';

const { axe, report } = axeChecker('support');

function demoLogin(stderr, who) {
  const m = stderr.match(new RegExp(`${who} console at /staff/login: login (\\S+), password (\\S+), TOTP secret ([A-Z2-7]+)`));
  if (!m) throw new Error(`no demo ${who} in the output: ${stderr}`);
  return { login: m[1], password: m[2], secret: m[3] };
}

async function signIn(page, base, who) {
  await page.goto(`${base}/staff/login`);
  await page.fill('#login', who.login);
  await page.fill('#password', who.password);
  await page.click('main button[type=submit]');
  await page.waitForURL(`${base}/staff/second-factor`);
  await page.fill('#code', totp(who.secret));
  await page.click('main button[type=submit]');
  await page.waitForURL(`${base}/staff`);
}

async function run(name, viewport) {
  const data = mkdtempSync(join(tmpdir(), `kabinet-support-${name}-`));
  let server;
  let browser;
  try {
    const port = await freePort();
    const env = serverEnv(data, port);
    const demo = spawnSync(bin, ['demo', '--accounts', '40', '--months', '2', '--no-serve'], { env, encoding: 'utf8' });
    const operator = demoLogin(demo.stderr, 'Operator');
    const dispatcher = demoLogin(demo.stderr, 'Dispatcher');
    server = spawn(bin, ['serve'], { env, stdio: 'inherit' });
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(base);
    browser = await launch();
    const page = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await signIn(page, base, operator);

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

    // The dispatcher has no support.
    const other = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await signIn(other, base, dispatcher);
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
