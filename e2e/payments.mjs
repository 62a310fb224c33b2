// Card and СБП payments in headless Chromium, on a 360 px phone and a
// desktop: the demo resident opens the payment form from the current
// invoice, sees the fee of each method (СБП free, a card at 1.5 %) with the
// total before leaving, pays by СБП on the sandbox's test bank app (a QR code
// on the page), comes back to the return page, and sees the payment on the
// overview and in the payment history. A second payment, by card, is left
// pending to see the return page follow it (it reloads itself). The demo
// accountant then finds the СБП payment in the office and refunds part of
// it. The resident kept the СБП method with that payment: they switch on
// autopay, a new invoice is imported with `kabinet import invoices`, autopay
// runs (`kabinet payments --autopay`) and the overview shows the debit.
// axe-core checks every page on the way for WCAG 2.1 A/AA.
// Run: node e2e/payments.mjs (needs target/debug/kabinet, /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, demoStaff, freePort, launch, root, serverEnv, signInDemo, staffSignIn, waitHealthy, wcagViolations } from './harness.mjs';

const out = join(root, 'e2e', 'out');
mkdirSync(out, { recursive: true });
const viewports = { phone: { width: 360, height: 780 }, desktop: { width: 1280, height: 900 } };
const failures = [];
let checked = 0;

async function axe(page, label) {
  const violations = await wcagViolations(page);
  await page.screenshot({ path: join(out, `payments-${label}.png`), fullPage: true });
  if (violations) {
    failures.push(`${label}: ${violations}`);
  } else {
    checked++;
  }
}

async function run(name, viewport) {
  const data = mkdtempSync(join(tmpdir(), `kabinet-payments-${name}-`));
  let server;
  let browser;
  try {
    const port = await freePort();
    // No notice days: the new invoice is paid in the same autopay run.
    const env = { ...serverEnv(data, port), KABINET_PAYMENT_FEE_CARD: '1.5% min 10', KABINET_AUTOPAY_NOTICE_DAYS: '0' };
    const demo = spawnSync(bin, ['demo', '--accounts', '12', '--months', '4', '--no-serve'], { env, encoding: 'utf8' });
    const accountant = demoStaff(demo.stderr, 'Accountant');
    server = spawn(bin, ['serve'], { env, stdio: 'inherit' });
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(base);
    browser = await launch();
    const context = await browser.newContext({ viewport, locale: 'ru-RU' });
    const page = await context.newPage();
    await signInDemo(page, base);

    // From the current invoice to the form (the overview has the same
    // button); pay 1 234,56 ₽ for the account.
    await page.click('#invoice-h a');
    await page.waitForURL(/\/invoices\//);
    await page.click('a.button:has-text("Оплатить")');
    await page.waitForURL(/\/pay/);
    await axe(page, `${name}-form`);
    const field = await page.$eval('input[name^=amount_]', (i) => i.id);
    await page.fill(`#${field}`, '0,5');
    await page.click('button[type=submit]:has-text("Перейти к оплате")');
    await page.waitForLoadState();
    const error = await page.textContent('.error');
    if (!error.includes('не меньше 1 ₽')) throw new Error(`no amount error: ${error}`);
    await axe(page, `${name}-form-error`);
    const note = await page.textContent('main form[action="/pay"]');
    if (!note.includes('СБП (Система быстрых платежей): без комиссии') || !note.includes('1,50 %')) throw new Error(`no fees on the form: ${note}`);
    await page.fill(`#${field}`, '1 234,56');
    await page.check('input[name=save]');
    await page.click('button[type=submit]:has-text("Перейти к оплате")');
    await page.waitForSelector('table.methods');
    const review = await page.textContent('table.methods');
    // 1.5 % of 1 234,56 ₽ is 18,52 ₽ (above the 10 ₽ minimum).
    if (!review.includes('без комиссии') || !review.includes('18,52') || !/1\s253,08/.test(review)) throw new Error(`review: ${review}`);
    await axe(page, `${name}-review`);
    await page.click('button[value=sbp]');
    await page.waitForURL(/\/sandbox\/pay\//);
    const sandbox = await page.textContent('main');
    if (!sandbox.includes('Тестовый платёжный сервис') || !sandbox.includes('234,56') || !sandbox.includes('Тестовое приложение банка (СБП)')) throw new Error(`sandbox page: ${sandbox}`);
    if (!(await page.$('.qr svg'))) throw new Error('no СБП QR code');
    await axe(page, `${name}-sandbox`);
    await page.click('button:has-text("Оплатить")');
    await page.waitForURL(/\/payments\/card\//);
    const status = await page.textContent('.status-line');
    if (!status.includes('оплачено')) throw new Error(`return page: ${status}`);
    if (!(await page.textContent('main')).includes('СБП')) throw new Error('the method is not shown');
    const paidUrl = page.url();
    await axe(page, `${name}-paid`);

    // A sandbox payment is a test: the return page says so, every page
    // carries the banner, and nothing is credited to the account.
    if (!(await page.textContent('main')).includes('тестовый платёж')) throw new Error('the return page does not say it was a test');
    await page.goto(`${base}/cabinet`);
    if (/1\s234,56/.test(await page.textContent('main'))) throw new Error('a test payment was credited');
    if (!(await page.textContent('.banner.test')).includes('Тестовый режим оплаты')) throw new Error('no test banner');
    await axe(page, `${name}-overview`);
    await page.goto(`${base}/payments`);
    await axe(page, `${name}-history`);

    // A payment left pending: the return page says so and refreshes itself.
    await page.goto(`${base}/pay`);
    await page.fill(`#${field}`, '10');
    await page.click('button[type=submit]:has-text("Перейти к оплате")');
    await page.click('button[value=bank_card]');
    await page.waitForURL(/\/sandbox\/pay\//);
    await page.click('button:has-text("Оставить в обработке")');
    await page.waitForURL(/\/payments\/card\//);
    if (!(await page.textContent('.status-line')).includes('в обработке')) throw new Error('not shown as in progress');
    if (!(await page.$('[data-refresh]')) || !(await page.$('a:has-text("Обновить")'))) throw new Error('the pending page does not refresh');
    await axe(page, `${name}-pending`);
    await page.goto(`${base}/pay?lang=en`);
    await axe(page, `${name}-form-en`);

    // The accountant finds the СБП payment in the office and refunds part.
    const id = paidUrl.split('/').pop();
    const office = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await staffSignIn(office, base, accountant);
    await office.goto(`${base}/staff/payments`);
    await axe(office, `${name}-office-payments`);
    await office.click(`a:has-text("${id}")`);
    await office.waitForURL(`${base}/staff/payments/${id}`);
    await axe(office, `${name}-office-payment`);
    await office.fill('#amount', '100');
    await office.fill('#reason', 'Переплата');
    await office.click('button:has-text("Вернуть деньги")');
    await office.waitForURL(/saved=1/);
    if (!(await office.textContent('main')).includes('возвращено')) throw new Error('the refund is not shown');
    await axe(office, `${name}-office-refunded`);
    await page.goto(`${paidUrl}?lang=ru`);
    const refundedText = await page.textContent('main');
    if (!refundedText.includes('Возвращено частично: 100,00')) throw new Error('the resident does not see the refund');
    await axe(page, `${name}-refunded`);

    // Autopay with the kept СБП method; a new invoice is paid by itself.
    await page.goto(`${base}/autopay?lang=ru`);
    if (!(await page.textContent('main')).includes('СБП (Система быстрых платежей)')) throw new Error('the kept method is not listed');
    await axe(page, `${name}-autopay`);
    const account = await page.$eval('input[name=account]', (i) => i.value);
    await page.fill(`#max-${account}`, '10 000');
    await page.click(`section:has(#ap-${account}) button[value=on]`);
    await page.waitForURL(/saved=1/);
    if (!(await page.textContent('main')).includes('Автоплатёж включён')) throw new Error('autopay is not on');
    await axe(page, `${name}-autopay-on`);
    const csv = join(data, 'invoices.csv');
    writeFileSync(csv, `account;period;opening_balance;charged;paid;total_due;due_date\n${account};2027-06;0;1500,00;0;1500,00;15.07.2027\n`);
    const imported = spawnSync(bin, ['import', 'invoices', csv], { env, encoding: 'utf8' });
    if (imported.status !== 0) throw new Error(`import failed: ${imported.stderr}`);
    const ran = spawnSync(bin, ['payments', '--autopay'], { env, encoding: 'utf8' });
    if (!ran.stdout.includes('1 paid')) throw new Error(`autopay did not pay: ${ran.stdout} ${ran.stderr}`);
    await page.goto(`${base}/cabinet`);
    const overview = await page.textContent('main');
    if (!overview.includes('Автоплатёж') || !overview.includes('оплачено') || !/1\s500,00/.test(overview)) throw new Error(`the overview does not show the debit: ${overview}`);
    await axe(page, `${name}-overview-autopay`);
    await context.close();
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
  console.error(`payments: ${failures.length} failure(s)\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`payments: paying by СБП through the sandbox, following a pending card payment, a refund from the office and autopay of a new invoice pass; ${checked} pages axe-clean`);
