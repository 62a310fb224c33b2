// The resident portal in headless Chromium: the demo resident signs in, opens
// every resident page in Russian and English on a 360 px phone and a desktop,
// and axe-core checks each for WCAG 2.1 A/AA violations. Screenshots go to
// e2e/out/ (and, with SCREENSHOTS=docs, to docs/screenshots/).
// Run: node e2e/portal.mjs (needs target/debug/kabinet, /usr/bin/chromium).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, freePort, launch, root, serverEnv, signInDemo, waitHealthy, wcagViolations } from './harness.mjs';

const data = mkdtempSync(join(tmpdir(), 'kabinet-portal-'));
const out = join(root, 'e2e', 'out');
mkdirSync(out, { recursive: true });

const pages = ['/cabinet', '/invoices', '/charges', '/payments', '/meters', '/requests', '/settings', '/help', '/rules', '/consent'];
const viewports = { phone: { width: 360, height: 780 }, desktop: { width: 1280, height: 900 } };
let server;
let browser;
let passed = 0;
const failures = [];
try {
  const port = await freePort();
  const env = serverEnv(data, port);
  execFileSync(bin, ['demo', '--accounts', '5', '--months', '14', '--no-serve'], { env, stdio: 'ignore' });
  server = spawn(bin, ['serve'], { env, stdio: 'inherit' });
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(base);
  browser = await launch();
  for (const [name, viewport] of Object.entries(viewports)) {
    const context = await browser.newContext({ viewport, locale: 'ru-RU' });
    const page = await context.newPage();
    // The sign-in page of a demo database tells the demo resident's sign-in.
    await signInDemo(page, base);
    for (const lang of ['ru', 'en']) {
      for (const path of pages) {
        await page.goto(`${base}${path}?lang=${lang}`);
        const htmlLang = await page.getAttribute('html', 'lang');
        const label = `${name} ${lang} ${path}`;
        if (htmlLang !== lang) { failures.push(`${label}: html lang ${htmlLang}`); continue; }
        const violations = await wcagViolations(page);
        const shot = join(out, `portal-${name}-${lang}-${path.slice(1)}.png`);
        await page.screenshot({ path: shot, fullPage: true });
        if (process.env.SCREENSHOTS === 'docs' && lang === 'ru' && ['/cabinet', '/charges', '/invoices'].includes(path)) {
          mkdirSync(join(root, 'docs', 'screenshots'), { recursive: true });
          copyFileSync(shot, join(root, 'docs', 'screenshots', `${path.slice(1)}-${name}.png`));
        }
        if (violations) {
          failures.push(`${label}: ${violations}`);
        } else {
          passed++;
        }
      }
    }
    // Keyboard: the first Tab reaches the skip link, which is visible when focused.
    await page.goto(`${base}/cabinet?lang=ru`);
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.className);
    if (focused !== 'skip') failures.push(`${name}: the first Tab lands on ${focused}`); else passed++;
    // The switcher: another linked account through the GET form.
    const options = await page.$$eval('#account-switch option', (os) => os.map((o) => o.value));
    if (options.length < 2) failures.push(`${name}: the switcher has ${options.length} accounts`);
    else {
      await page.selectOption('#account-switch', options[1]);
      await page.click('.who button:has-text("Показать")');
      const h1 = await page.textContent('h1');
      if (!h1.includes(options[1])) failures.push(`${name}: switched to ${h1}`); else passed++;
    }
    await context.close();
  }
  console.log(`portal e2e: ${passed} passed, ${failures.length} failed`);
  for (const f of failures) console.error(`  ${f}`);
} catch (e) {
  failures.push(String(e));
  console.error(e);
} finally {
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  rmSync(data, { recursive: true, force: true });
}
process.exit(failures.length ? 1 : 0);
