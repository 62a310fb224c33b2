// Notification texts in the office, in headless Chromium on a 360 px phone
// and a desktop: the demo administrator opens the list, words the SMS of a
// new invoice with a placeholder the message has not (refused, named), sees
// a preview with sample values, saves it and finds it marked as the
// organization's own. axe-core checks the list, the form, the refusal and
// the preview for WCAG 2.1 A/AA.
// Run: node e2e/texts.mjs (needs target/debug/kabinet, /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeChecker, bin, demoStaff, freePort, launch, serverEnv, staffSignIn, viewports, waitHealthy } from './harness.mjs';

const { axe, report } = axeChecker('texts');

async function run(name, viewport) {
  const data = mkdtempSync(join(tmpdir(), `kabinet-texts-${name}-`));
  let server;
  let browser;
  try {
    const port = await freePort();
    const env = serverEnv(data, port);
    const demo = spawnSync(bin, ['demo', '--accounts', '20', '--months', '1', '--no-serve'], { env, encoding: 'utf8' });
    const admin = demoStaff(demo.stderr, 'Administrator');
    server = spawn(bin, ['serve'], { env, stdio: 'inherit' });
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(base);
    browser = await launch();
    const page = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await staffSignIn(page, base, admin);
    await page.goto(`${base}/staff/texts`);
    if (!(await page.textContent('h1')).includes('Тексты уведомлений')) throw new Error('not the texts page');
    await axe(page, `${name}-list`);
    await page.click('a[href="/staff/texts/new_invoice/sms/ru"]');
    await page.waitForURL(`${base}/staff/texts/new_invoice/sms/ru`);
    if (!(await page.textContent('main')).includes('{account}')) throw new Error('the placeholders are not listed');
    await axe(page, `${name}-form`);
    await page.fill('#t-body', 'Счёт {title}');
    await page.click('button[value=save]');
    await page.waitForLoadState();
    if (!(await page.textContent('[role=alert]')).includes('«title»')) throw new Error('the unknown placeholder is not named');
    await axe(page, `${name}-refused`);
    await page.fill('#t-body', 'Счёт по л/с {account}: {amount} до {date}. {url}');
    await page.click('button[value=preview]');
    await page.waitForLoadState();
    if (!(await page.textContent('#preview-h + p')).includes('Счёт по л/с 7100000001')) throw new Error('no preview with sample values');
    await axe(page, `${name}-preview`);
    await page.click('button[value=save]');
    await page.waitForURL(`${base}/staff/texts?saved=1`);
    if (!(await page.textContent('a[href="/staff/texts/new_invoice/sms/ru"]')).includes('свой')) throw new Error('not marked as own');
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
