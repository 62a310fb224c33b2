// Requests and the dispatcher's console in headless Chromium, on a 360 px
// phone and a desktop: the demo resident files an emergency with a photo;
// the demo dispatcher signs in with a password and a TOTP code (the secret
// `kabinet demo` prints), finds it first in the queue, takes it and replies;
// the resident sees the reply and accepts the work with a rating. axe-core
// checks every page on both sides for WCAG 2.1 A/AA.
// Run: node e2e/requests.mjs (needs target/debug/kabinet, /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeChecker, bin, freePort, launch, serverEnv, signInDemo, totp, viewports, waitHealthy } from './harness.mjs';

const { axe, report } = axeChecker('requests');

async function run(name, viewport) {
  const data = mkdtempSync(join(tmpdir(), `kabinet-requests-${name}-`));
  let server;
  let browser;
  try {
    const port = await freePort();
    const env = serverEnv(data, port);
    const demo = spawnSync(bin, ['demo', '--accounts', '80', '--months', '2', '--no-serve'], { env, encoding: 'utf8' });
    const m = demo.stderr.match(/login (\S+), password (\S+), TOTP secret ([A-Z2-7]+)/);
    if (!m) throw new Error(`no demo dispatcher in the output: ${demo.stderr}`);
    const [, login, password, secret] = m;
    server = spawn(bin, ['serve'], { env, stdio: 'inherit' });
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(base);
    browser = await launch();

    // The resident files an emergency with a photo.
    const resident = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await signInDemo(resident, base);
    await resident.click('nav.main a:has-text("Заявки")');
    await resident.waitForURL(`${base}/requests`);
    await axe(resident, `${name}-list`);
    await resident.click('a.button:has-text("Новая заявка")');
    await resident.waitForURL(/\/requests\/new/);
    await axe(resident, `${name}-form`);
    // Sending it empty shows what is missing.
    await resident.click('button[type=submit]:has-text("Отправить заявку")');
    await resident.waitForLoadState();
    if (!(await resident.textContent('.error')).includes('Проверьте')) throw new Error('no error summary');
    await axe(resident, `${name}-form-errors`);
    const photo = join(data, 'leak.jpg');
    await resident.screenshot({ path: photo, type: 'jpeg', quality: 80 });
    await resident.selectOption('#category', 'leak');
    await resident.fill('#text', 'Течёт с потолка в ванной, вода на полу');
    await resident.fill('#phone', '+7 912 345-67-89');
    await resident.fill('#visit_time', 'сегодня до 22:00');
    await resident.setInputFiles('#photos', photo);
    await resident.click('button[type=submit]:has-text("Отправить заявку")');
    await resident.waitForURL(/\/requests\/\d+\?filed=1/);
    const number = resident.url().match(/\/requests\/(\d+)/)[1];
    if (!(await resident.textContent('.notice')).includes(`№ ${number}`)) throw new Error('no number to quote');
    if (!(await resident.$('.photos img'))) throw new Error('no photo thumbnail');
    const thumb = await resident.$eval('.photos img', (i) => i.naturalWidth);
    if (!thumb) throw new Error('the thumbnail did not load');
    await axe(resident, `${name}-filed`);

    // The dispatcher signs in with the password and a TOTP code.
    const staff = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await staff.goto(`${base}/staff`);
    await staff.waitForURL(`${base}/staff/login`);
    await axe(staff, `${name}-staff-login`);
    await staff.fill('#login', login);
    await staff.fill('#password', password);
    await staff.click('main button[type=submit]');
    await staff.waitForURL(`${base}/staff/second-factor`);
    await axe(staff, `${name}-staff-2fa`);
    await staff.fill('#code', totp(secret));
    await staff.click('main button[type=submit]');
    await staff.waitForURL(`${base}/staff`);
    await axe(staff, `${name}-staff-home`);
    await staff.click('nav.main a:has-text("Очередь заявок")');
    await staff.waitForURL(`${base}/staff/requests`);
    await axe(staff, `${name}-queue`);
    // Emergencies come first: the new one is on the first page, flagged.
    const row = staff.locator(`tr:has(a:text-is("№ ${number}"))`);
    if (!(await row.count())) throw new Error('the new emergency is not on the first page of the queue');
    if (!(await row.getAttribute('class')).includes('emergency')) throw new Error('not flagged as an emergency');
    await row.locator('a').first().click();
    await staff.waitForURL(`${base}/staff/requests/${number}`);
    await axe(staff, `${name}-staff-request`);
    await staff.click('button:has-text("Взять в работу")');
    await staff.waitForURL(`${base}/staff/requests/${number}`);
    await staff.fill('#reply-body', 'Сантехник будет у вас через час.');
    await staff.click('button:has-text("Отправить ответ")');
    await staff.waitForURL(`${base}/staff/requests/${number}`);
    await staff.fill('#note-body', 'Перекрыть стояк в подвале, ключ у вахтёра');
    await staff.click('button:has-text("Сохранить заметку")');
    await staff.waitForURL(`${base}/staff/requests/${number}`);
    await staff.click('button:has-text("Выполнена")');
    await staff.waitForURL(`${base}/staff/requests/${number}`);
    await axe(staff, `${name}-staff-done`);

    // The resident sees the reply (not the note) and accepts with a rating.
    await resident.goto(`${base}/requests/${number}`);
    const body = await resident.textContent('main');
    if (!body.includes('Сантехник будет у вас через час.')) throw new Error('the reply is not shown');
    if (body.includes('ключ у вахтёра')) throw new Error('an internal note reached the resident');
    await axe(resident, `${name}-answered`);
    await resident.check('input[name=rating][value="4"]');
    await resident.click('button:has-text("Подтвердить и закрыть")');
    await resident.waitForURL(`${base}/requests/${number}`);
    if (!(await resident.textContent('.status-line')).includes('закрыта')) throw new Error('not closed');
    if (!(await resident.textContent('main')).includes('4 / 5')) throw new Error('no rating shown');
    await axe(resident, `${name}-closed`);
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
