// Notifications in headless Chromium, on a 360 px phone and a desktop: a demo
// server with no quiet hours announces the demo's newest period to its
// residents by e-mail (files in the data folder); the one-click unsubscribe
// link of such an e-mail opens without signing in, names what it turns off,
// and turns it off with its button; opened again, it says it was used.
// axe-core checks both pages for WCAG 2.1 A/AA.
// Run: node e2e/notify.mjs (needs target/debug/kabinet, /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeChecker, bin, freePort, launch, serverEnv, sleep, viewports, waitHealthy } from './harness.mjs';

const { axe, report } = axeChecker('notify');

// The unsubscribe path of the first notification e-mail written, waiting up
// to a minute for the server's jobs to produce and send it.
async function unsubscribePath(mailDir) {
  for (let i = 0; i < 120; i++) {
    if (existsSync(mailDir)) {
      for (const f of readdirSync(mailDir)) {
        const raw = readFileSync(join(mailDir, f), 'utf8');
        if (!/^List-Unsubscribe-Post: List-Unsubscribe=One-Click/m.test(raw)) continue;
        const m = raw.replace(/\r?\n[ \t]+/g, '').match(/\/unsubscribe\/(\d+-[A-Za-z0-9_-]+)/);
        if (m) return `/unsubscribe/${m[1]}`;
      }
    }
    await sleep(500);
  }
  throw new Error('no notification e-mail with a one-click unsubscribe link');
}

async function run(name, viewport) {
  const data = mkdtempSync(join(tmpdir(), `kabinet-notify-${name}-`));
  let server;
  let browser;
  try {
    const port = await freePort();
    const env = { ...serverEnv(data, port), KABINET_QUIET_HOURS: '', KABINET_NOTIFY_EMAIL_PER_SECOND: '100' };
    spawnSync(bin, ['demo', '--accounts', '100', '--months', '2', '--no-serve'], { env, encoding: 'utf8' });
    server = spawn(bin, ['serve'], { env, stdio: 'inherit' });
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(base);
    const path = await unsubscribePath(join(data, 'mail'));
    browser = await launch();
    const page = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await page.goto(`${base}${path}`);
    if (!(await page.textContent('h1')).includes('Отписка')) throw new Error('not the unsubscribe page');
    if (!(await page.textContent('main')).includes('«')) throw new Error('the kind of message is not named');
    await axe(page, `${name}-offer`);
    await page.click('button:has-text("Отписаться")');
    await page.waitForLoadState();
    if (!(await page.textContent('h1')).includes('Вы отписались')) throw new Error(`not unsubscribed: ${await page.textContent('main')}`);
    await axe(page, `${name}-done`);
    await page.goto(`${base}${path}`);
    if (!(await page.textContent('h1')).includes('уже использована')) throw new Error('the link worked twice');
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
