// Meter readings in headless Chromium, on a 360 px phone and a desktop: the
// demo resident finds an account with a two-zone electricity meter and a
// water meter, hands in readings for both, is asked to confirm a water
// reading far above the usual, confirms it, and sees the new readings in the
// meter's history. axe-core checks every page on the way for WCAG 2.1 A/AA.
// The window is set to the whole month so the test does not depend on the day.
// Run: node e2e/readings.mjs (needs target/debug/kabinet, /usr/bin/chromium).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, freePort, launch, root, serverEnv, signInDemo, waitHealthy, wcagViolations } from './harness.mjs';

const out = join(root, 'e2e', 'out');
mkdirSync(out, { recursive: true });
const viewports = { phone: { width: 360, height: 780 }, desktop: { width: 1280, height: 900 } };
const failures = [];
let checked = 0;

async function axe(page, label) {
  const violations = await wcagViolations(page);
  await page.screenshot({ path: join(out, `readings-${label}.png`), fullPage: true });
  if (violations) {
    failures.push(`${label}: ${violations}`);
  } else {
    checked++;
  }
}

// "Предыдущее: 1234,567 м³ — …" → 1234.567
function previous(hint) {
  const m = hint.match(/Предыдущее: (?:Т\d \([^)]*\): )?([\d\s,]+)/);
  if (!m) throw new Error(`no previous value in "${hint}"`);
  return Number(m[1].replace(/\s/g, '').replace(',', '.'));
}

const fmt = (v, digits) => v.toFixed(digits).replace('.', ',');

async function run(name, viewport) {
  const data = mkdtempSync(join(tmpdir(), `kabinet-readings-${name}-`));
  let server;
  let browser;
  try {
    const port = await freePort();
    const env = { ...serverEnv(data, port), KABINET_READINGS_FROM_DAY: '1', KABINET_READINGS_TO_DAY: '31' };
    execFileSync(bin, ['demo', '--accounts', '12', '--months', '8', '--no-serve'], { env, stdio: 'ignore' });
    server = spawn(bin, ['serve'], { env, stdio: 'inherit' });
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(base);
    browser = await launch();
    const context = await browser.newContext({ viewport, locale: 'ru-RU' });
    const page = await context.newPage();
    await signInDemo(page, base);

    // An account of the resident's with a two-zone meter and a water meter.
    await page.goto(`${base}/meters`);
    const accounts = await page.$$eval('#account-switch option', (os) => os.map((o) => o.value));
    let found = null;
    for (const a of accounts.length ? accounts : ['']) {
      await page.goto(`${base}/meters${a ? `?account=${encodeURIComponent(a)}` : ''}`);
      const cards = await page.$$eval('section.meter', (ss) => ss.map((s) => ({
        title: s.querySelector('h2').textContent,
        fields: [...s.querySelectorAll('input[type=text]')].map((i) => ({ name: i.name, hint: document.getElementById(`${i.name}-hint`).textContent })),
      })));
      const electricity = cards.find((c) => c.title.startsWith('Электроэнергия') && c.fields.length === 2 && c.fields.every((f) => f.hint.startsWith('Предыдущее')));
      const water = cards.find((c) => /вода/.test(c.title) && c.fields.length === 1 && c.fields[0].hint.startsWith('Предыдущее'));
      if (electricity && water) { found = { account: a, electricity, water }; break; }
    }
    if (!found) throw new Error('no demo account with a two-zone meter and a water meter');
    await axe(page, `${name}-form`);

    const [z1, z2] = found.electricity.fields;
    const w = found.water.fields[0];
    const values = {
      [z1.name]: fmt(previous(z1.hint) + 12.3, 1),
      [z2.name]: fmt(previous(z2.hint) + 4, 1),
      // A water reading 60 m³ up: far above any flat's month.
      [w.name]: fmt(previous(w.hint) + 60, 3),
    };
    for (const [field, v] of Object.entries(values)) await page.fill(`#${field}`, v);
    await page.click('button[type=submit]:has-text("Передать показания")');
    await page.waitForLoadState();
    const warning = await page.textContent(`#${w.name}-error`);
    if (!/намного больше обычного|необычно много/.test(warning)) throw new Error(`no high-consumption question: ${warning}`);
    for (const [field, v] of Object.entries(values)) {
      if ((await page.inputValue(`#${field}`)) !== v) throw new Error(`${field} lost what was typed`);
    }
    await axe(page, `${name}-confirm`);
    const meterId = w.name.slice(1).split('_')[0];
    await page.check(`input[name=confirm_${meterId}]`);
    await page.click('button[type=submit]:has-text("Передать показания")');
    await page.waitForURL(/\/meters\?saved=/);
    const notice = await page.textContent('.notice');
    if (!notice.includes('Показания приняты')) throw new Error(`no confirmation: ${notice}`);
    const body = await page.textContent('main');
    for (const v of Object.values(values)) {
      const shown = v.replace(/,?0+$/, '').replace(/,$/, '');
      if (!body.includes(shown)) throw new Error(`the page does not show ${shown}`);
    }
    await axe(page, `${name}-saved`);

    // The water meter's history has the new reading, its consumption and a chart.
    await page.click(`section[aria-labelledby=meter-${meterId}] a:has-text("История показаний")`);
    await page.waitForURL(/\/history/);
    const rows = await page.$$eval('tbody tr', (trs) => trs.map((tr) => tr.textContent));
    const shownWater = values[w.name].replace(/,?0+$/, '').replace(/,$/, '');
    if (!rows[0] || !rows[0].includes(shownWater) || !rows[0].includes('личный кабинет')) throw new Error(`history: ${rows[0]}`);
    if (!rows[0].includes('60')) throw new Error(`history consumption: ${rows[0]}`);
    if (!(await page.$('.chart svg[role=img]'))) throw new Error('no chart');
    await axe(page, `${name}-history`);
    await page.goto(`${page.url()}${page.url().includes('?') ? '&' : '?'}lang=en`);
    await axe(page, `${name}-history-en`);
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
  console.error(`readings: ${failures.length} failure(s)\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`readings: the submission, confirmation and history pass; ${checked} pages axe-clean`);
