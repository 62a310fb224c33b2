// The organization's office in headless Chromium, on a 360 px phone and a
// desktop: the demo administrator signs in with a TOTP code (the secret
// `kabinet demo` prints), walks the home page, exports the readings, adds a
// staff member and sees the one-time password once, changes the member's
// role, uploads a billing package with a broken line and sees its line and
// column, uploads the fixed one, confirms it and finds it imported in the
// history, changes the readings window, a floor and (refused) a building's
// window, adds a request category and switches it off, is told what is
// wrong with the organization's details, previews and publishes the Rules, previews and
// sets a closing and lifts it, filters the audit log; the demo dispatcher
// is refused the staff and import pages with a 403. axe-core checks every page for
// WCAG 2.1 A/AA.
// Run: node e2e/office.mjs (needs target/debug/kabinet, /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeChecker, bin, demoStaff, freePort, launch, serverEnv, staffSignIn, viewports, waitHealthy } from './harness.mjs';

const { axe, report } = axeChecker('office');

const KINDS = ['payees', 'services', 'accounts', 'meters', 'readings', 'charges', 'invoices', 'payments'];

// Opens `url` until its status line reads `want` (the check runs in the background).
async function waitForState(page, url, want) {
  for (let i = 0; i < 120; i++) {
    await page.goto(url);
    const status = await page.textContent('main [role=status]');
    if (status.includes(want)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} never reached "${want}": ${await page.textContent('main')}`);
}

async function run(name, viewport) {
  const data = mkdtempSync(join(tmpdir(), `kabinet-office-${name}-`));
  let server;
  let browser;
  try {
    const port = await freePort();
    const env = serverEnv(data, port);
    const demo = spawnSync(bin, ['demo', '--accounts', '40', '--months', '2', '--no-serve'], { env, encoding: 'utf8' });
    const admin = demoStaff(demo.stderr, 'Administrator');
    const dispatcher = demoStaff(demo.stderr, 'Dispatcher');
    demoStaff(demo.stderr, 'Accountant');
    // The same organization as a billing package, and a copy with a broken line.
    const pkg = join(data, 'package');
    const made = spawnSync(bin, ['demo', '--accounts', '40', '--months', '2', '--export-dir', pkg], { env, encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`no package: ${made.stderr}`);
    const broken = join(data, 'broken');
    mkdirSync(broken);
    for (const kind of KINDS) {
      let text = readFileSync(join(pkg, `${kind}.csv`), 'utf8');
      if (kind === 'accounts') {
        const lines = text.split('\n');
        const cells = lines[2].split(';');
        cells[2] = 'много';
        lines[2] = cells.join(';');
        text = lines.join('\n');
      }
      writeFileSync(join(broken, `${kind}.csv`), text);
    }
    server = spawn(bin, ['serve'], { env, stdio: 'inherit' });
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(base);
    browser = await launch();
    const page = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await staffSignIn(page, base, admin);
    if (!(await page.textContent('main')).includes('Зарегистрировано жителей')) throw new Error('no figures on the home page');
    await axe(page, `${name}-home`);

    // The billing import: the broken package is refused with its line and
    // column and changes nothing; the fixed one is checked, confirmed, imported.
    await page.click('nav.main a:has-text("Загрузка из биллинга")');
    await page.waitForURL(`${base}/staff/import`);
    await axe(page, `${name}-import`);
    await page.setInputFiles('#i-files', KINDS.map((k) => join(broken, `${k}.csv`)));
    await page.click('button:has-text("Загрузить и проверить")');
    await page.waitForURL(/\/staff\/import\/\d+$/);
    await axe(page, `${name}-import-queued`);
    const first = page.url();
    await waitForState(page, first, 'есть ошибки');
    const problem = await page.textContent('table:has(th:has-text("Столбец")) tbody tr');
    if (!problem.includes('accounts.csv') || !problem.includes('3') || !problem.includes('total_area')) throw new Error(`no line and column: ${problem}`);
    if (await page.$('button:has-text("Подтвердить загрузку")')) throw new Error('a package with problems may be confirmed');
    await axe(page, `${name}-import-problems`);
    await page.goto(`${base}/staff/import`);
    await page.setInputFiles('#i-files', KINDS.map((k) => join(pkg, `${k}.csv`)));
    await page.click('button:has-text("Загрузить и проверить")');
    await page.waitForURL(/\/staff\/import\/\d+$/);
    const fixed = page.url();
    await waitForState(page, fixed, 'проверен');
    await axe(page, `${name}-import-checked`);
    await page.click('button:has-text("Подтвердить загрузку")');
    await page.waitForURL(fixed);
    await waitForState(page, fixed, 'загружен');
    if (!(await page.textContent('main')).includes('Пакет загружен')) throw new Error('not imported');
    await axe(page, `${name}-import-done`);
    await page.goto(`${base}/staff/import`);
    const history = await page.textContent('table tbody');
    if (!history.includes('есть ошибки') || !history.includes('загружен')) throw new Error(`not in the history: ${history}`);
    await axe(page, `${name}-import-history`);

    // Staff: add a member, see the password once, change the role.
    await page.click('nav.main a:has-text("Сотрудники")');
    await page.waitForURL(`${base}/staff/members`);
    await axe(page, `${name}-members`);
    await page.fill('#m-login', `e2e-${name}`);
    await page.fill('#m-name', 'Елена Проверкина');
    await page.selectOption('#m-role', 'accountant');
    await page.click('button:has-text("Добавить сотрудника")');
    await page.waitForLoadState();
    const once = await page.textContent('#one-time-password');
    if (!once || once.length < 12) throw new Error(`no one-time password: ${once}`);
    await axe(page, `${name}-member-password`);
    await page.click('a:has-text("К карточке сотрудника")');
    await page.waitForURL(/\/staff\/members\/\d+$/);
    await axe(page, `${name}-member`);
    await page.selectOption('#m-role', 'operator');
    await page.click('button:has-text("Сменить роль")');
    await page.waitForURL(/\/staff\/members\/\d+$/);
    if (!(await page.textContent('main')).includes('Оператор')) throw new Error('the role did not change');

    // Export the readings: the file downloads and the history keeps it.
    await page.click('nav.main a:has-text("Обмен с биллингом")');
    await page.waitForURL(`${base}/staff/exchange`);
    await axe(page, `${name}-exchange`);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('button:has-text("Выгрузить и скачать")'),
    ]);
    if (!download.suggestedFilename().startsWith('readings-')) throw new Error(`unexpected file ${download.suggestedFilename()}`);
    await page.goto(`${base}/staff/exchange`);
    if (!(await page.$('a[href^="/staff/exchange/files/"]'))) throw new Error('the export is not in the history');
    await axe(page, `${name}-exchange-history`);

    // The organization's details: a wrong INN is named.
    await page.click('nav.main a:has-text("Реквизиты организации")');
    await page.waitForURL(`${base}/staff/organization`);
    await axe(page, `${name}-organization`);
    await page.fill('#o-inn', '1234567890');
    await page.click('button:has-text("Сохранить")');
    await page.waitForLoadState();
    if (!(await page.textContent('#o-inn-error')).includes('ИНН указан неверно')) throw new Error('the INN was not refused');
    await axe(page, `${name}-organization-errors`);

    // The readings window.
    await page.click('nav.main a:has-text("Настройки")');
    await page.waitForURL(`${base}/staff/settings`);
    await axe(page, `${name}-settings`);
    await page.fill('#s-from', '14');
    await page.fill('#s-to', '24');
    await page.click('main button[type=submit]');
    await page.waitForURL(`${base}/staff/settings?saved=1`);
    if ((await page.inputValue('#s-from')) !== '14') throw new Error('the window did not change');
    // A building's own window that names no premises is refused; a floor is kept.
    await page.fill('#s-buildings', '20-25 ул. Несуществующая, д. 1');
    await page.fill('#s-floor-gas', '90');
    await page.click('main button[type=submit]');
    await page.waitForLoadState();
    if (!(await page.textContent('main')).includes('Нет помещений с адресом')) throw new Error('an unknown building was taken');
    await axe(page, `${name}-settings-errors`);
    await page.fill('#s-buildings', '');
    await page.click('main button[type=submit]');
    await page.waitForURL(`${base}/staff/settings?saved=1`);
    if ((await page.inputValue('#s-floor-gas')) !== '90') throw new Error('the floor was not kept');

    // Request categories: a bad code is refused, a new one is added and switched off.
    await page.click('nav.main a:has-text("Категории заявок")');
    await page.waitForURL(`${base}/staff/categories`);
    await axe(page, `${name}-categories`);
    await page.fill('#c-code', 'roof');
    await page.fill('#c-name', 'Протекает крыша');
    await page.selectOption('#c-desk', 'office');
    await page.check('input[name=emergency]');
    await page.click('button:has-text("Добавить категорию")');
    await page.waitForLoadState();
    if (!(await page.textContent('main')).includes('Аварийными могут быть только')) throw new Error('an emergency at the office was taken');
    await axe(page, `${name}-categories-errors`);
    await page.selectOption('#c-desk', 'dispatch');
    await page.fill('#c-deadline', '4');
    await page.click('button:has-text("Добавить категорию")');
    await page.waitForURL(`${base}/staff/categories?saved=1`);
    await page.click('table a:has-text("Протекает крыша")');
    await page.waitForLoadState();
    await axe(page, `${name}-category`);
    await page.uncheck('input[name=active]');
    await page.click('main button[type=submit]');
    await page.waitForURL(`${base}/staff/categories?saved=1`);
    if (!(await page.textContent('table')).includes('отключена')) throw new Error('the category was not switched off');

    // The Rules: preview, then publish.
    await page.click('nav.main a:has-text("Правила")');
    await page.waitForURL(`${base}/staff/rules`);
    await page.fill('#r-title', 'Правила пользования, редакция 2');
    await page.fill('#r-body', 'Первый раздел.\n\nВторой раздел.');
    await page.click('button:has-text("Предпросмотр")');
    await page.waitForLoadState();
    if (!(await page.textContent('article.rules')).includes('Второй раздел.')) throw new Error('no preview');
    await axe(page, `${name}-rules-preview`);
    await page.click('button:has-text("Опубликовать")');
    await page.waitForURL(`${base}/staff/rules`);
    if (!(await page.textContent('table')).includes('редакция 2')) throw new Error('not published');
    await axe(page, `${name}-rules`);

    // The personal-data consent: its own page and numbering.
    await page.click('nav.main a:has-text("Согласие на обработку ПД")');
    await page.waitForURL(`${base}/staff/consent`);
    await axe(page, `${name}-consent`);
    await page.fill('#r-title', 'Согласие на обработку персональных данных, редакция 2');
    await page.fill('#r-body', 'Цели обработки.\n\nСроки хранения.');
    await page.click('button:has-text("Опубликовать")');
    await page.waitForURL(`${base}/staff/consent`);
    if (!(await page.textContent('table')).includes('редакция 2')) throw new Error('the consent was not published');

    // The help guide: preview the Russian text.
    await page.click('nav.main a:has-text("Справка")');
    await page.waitForURL(`${base}/staff/help`);
    await axe(page, `${name}-help`);
    await page.fill('#g-ru', '## Связь с нами\n\nПишите в управляющую компанию.\n- по почте\n- по телефону');
    await page.click('button:has-text("Предпросмотр")');
    await page.waitForLoadState();
    if (!(await page.textContent('#preview-ru')).includes('Справка на русском')) throw new Error('no help preview');
    await axe(page, `${name}-help-preview`);

    // A closing: preview the banner, set it, lift it.
    await page.click('nav.main a:has-text("Закрытие портала")');
    await page.waitForURL(`${base}/staff/closing`);
    await axe(page, `${name}-closing`);
    const at = new Date(Date.now() + 3 * 86400e3);
    const pad = (n) => String(n).padStart(2, '0');
    await page.fill('#c-from', `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T22:00`);
    await page.fill('#c-message', 'Плановые работы.');
    await page.click('button:has-text("Как увидят жители")');
    await page.waitForLoadState();
    if (!(await page.textContent('section .banner')).includes('Плановые работы.')) throw new Error('no banner preview');
    await axe(page, `${name}-closing-preview`);
    await page.click('button:has-text("Назначить")');
    await page.waitForURL(`${base}/staff/closing`);
    await page.click('button:has-text("Открыть портал")');
    await page.waitForURL(`${base}/staff/closing`);
    if (!(await page.textContent('main')).includes('Закрытие не назначено')) throw new Error('not lifted');

    // The production calendar: a line that does not read is named; the
    // calendar as shipped saves.
    await page.click('nav.main a:has-text("Производственный календарь")');
    await page.waitForURL(`${base}/staff/calendar`);
    await axe(page, `${name}-calendar`);
    const shipped = await page.inputValue('#c-days');
    await page.fill('#c-days', `${shipped}2026-02-30\n`);
    await page.click('button:has-text("Сохранить календарь")');
    await page.waitForLoadState();
    if (!(await page.textContent('main .error')).includes('не читается')) throw new Error('a bad calendar line is not named');
    await axe(page, `${name}-calendar-refused`);
    await page.fill('#c-days', shipped);
    await page.click('button:has-text("Сохранить календарь")');
    await page.waitForURL(`${base}/staff/calendar?saved=1`);

    // The audit log shows what was done.
    await page.click('nav.main a:has-text("Журнал действий")');
    await page.waitForURL(`${base}/staff/audit`);
    await page.selectOption('#a-event', 'staff_changed');
    await page.click('form.filters button[type=submit]');
    await page.waitForLoadState();
    if (!(await page.textContent('main')).includes(`added staff e2e-${name}`)) throw new Error('the change is not in the log');
    await axe(page, `${name}-audit`);

    // The dispatcher may not open the staff page.
    const other = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await staffSignIn(other, base, dispatcher);
    if (await other.$('nav.main a[href="/staff/members"]')) throw new Error('the dispatcher is offered the staff page');
    const refused = await other.goto(`${base}/staff/members`);
    if (refused.status() !== 403) throw new Error(`the dispatcher got ${refused.status()} on the staff page`);
    await axe(other, `${name}-forbidden`);
    const noImport = await other.goto(`${base}/staff/import`);
    if (noImport.status() !== 403) throw new Error(`the dispatcher got ${noImport.status()} on the import page`);
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
