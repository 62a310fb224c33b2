// SMS settings in headless Chromium, on a 360 px phone and a desktop: the
// demo resident gives a phone and ticks "new invoice" by SMS, asks for a
// code, reads it from the SMS the `log` transport wrote into the data
// folder, types it, and the page says the phone is verified. axe-core
// checks the settings page before and after for WCAG 2.1 A/AA.
// Run: node e2e/sms.mjs (needs target/debug/kabinet, /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeChecker, bin, freePort, launch, serverEnv, signInDemo, sleep, viewports, waitHealthy } from './harness.mjs';

const { axe, report } = axeChecker('sms');

// The code of the newest SMS to 79123456789, waiting for the job to send it.
async function code(dir) {
  for (let i = 0; i < 100; i++) {
    if (existsSync(dir)) {
      const files = readdirSync(dir).filter((f) => f.endsWith('-79123456789.txt')).sort();
      if (files.length) {
        const m = readFileSync(join(dir, files[files.length - 1]), 'utf8').match(/\b(\d{6})\b/);
        if (m) return m[1];
      }
    }
    await sleep(200);
  }
  throw new Error('no code SMS in the data folder');
}

async function run(name, viewport) {
  const data = mkdtempSync(join(tmpdir(), `kabinet-sms-${name}-`));
  let server;
  let browser;
  try {
    const port = await freePort();
    const env = serverEnv(data, port);
    spawnSync(bin, ['demo', '--accounts', '50', '--months', '1', '--no-serve'], { env, encoding: 'utf8' });
    server = spawn(bin, ['serve'], { env, stdio: 'inherit' });
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(base);
    browser = await launch();
    const page = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await signInDemo(page, base);
    await page.goto(`${base}/settings`);
    await page.fill('#phone', '+7 912 345-67-89');
    await page.check('input[name=sms_new_invoice]');
    await page.click('form[action="/settings"] button[type=submit]');
    await page.waitForLoadState();
    if (!(await page.textContent('#sms-h + p')).includes('ещё не подтверждён')) throw new Error('the phone is not offered for verification');
    await axe(page, `${name}-unverified`);
    await page.click('button:has-text("Получить код")');
    await page.waitForLoadState();
    if (!(await page.textContent('main')).includes('Код отправлен')) throw new Error('no word of the code sent');
    await page.fill('#phone-code', await code(join(data, 'sms')));
    await page.click('button:has-text("Подтвердить телефон")');
    await page.waitForLoadState();
    if (!(await page.textContent('#sms-h + p')).includes('подтверждён: SMS приходят')) throw new Error(`not verified: ${await page.textContent('main')}`);
    if (!(await page.isChecked('input[name=sms_new_invoice]'))) throw new Error('the SMS choice was not kept');
    await axe(page, `${name}-verified`);
  } finally {
    if (browser) await browser.close();
    if (server) server.kill('SIGTERM');
    rmSync(data, { recursive: true, force: true });
  }
}

await run('phone', viewports.phone);
await run('desktop', viewports.desktop);
report();
