// The MAX bot in headless Chromium, on a 360 px phone and a desktop, against
// the fake MAX Bot API (crates/kabinet-max, example fake_max): the demo
// resident links MAX with the one-time link from Settings (the fake starts
// the bot with its code as MAX would), asks the bot for the meters, gives a
// reading in the chat and finds it on the Meters page; then a payment comes
// with a billing import (`kabinet import payments`) and the bot brings the
// "payment received" message. axe-core checks the settings page unlinked,
// with the link, and linked, and the meters page.
// Run: node e2e/max.mjs (needs target/debug/kabinet,
// target/debug/examples/fake_max, /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeChecker, bin, freePort, launch, root, serverEnv, signInDemo, sleep, viewports, waitHealthy } from './harness.mjs';

const { axe, report } = axeChecker('max');
const fakeBin = process.env.KABINET_FAKE_MAX || join(root, 'target', 'debug', 'examples', 'fake_max');
const TOKEN = 'e2e-max-token';
const BOT = 'uk_demo_bot';
const USER = 4242;

// Starts the fake MAX API; resolves to it and its URL.
function startFake() {
  return new Promise((resolve, reject) => {
    const child = spawn(fakeBin, ['127.0.0.1:0', TOKEN, BOT], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.on('error', reject);
    child.stdout.once('data', (d) => resolve({ child, url: d.toString().trim() }));
  });
}

async function act(fake, action, body) {
  const r = await fetch(`${fake}/_fake/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: USER, ...body }) });
  if (r.status !== 204) throw new Error(`the fake refused ${action}: ${r.status}`);
}

async function chat(fake) {
  const r = await fetch(`${fake}/_fake/messages?user_id=${USER}`);
  return (await r.json()).messages.map((m) => m.text);
}

// Waits (up to a minute and a half) for a message of the bot after the
// first `seen` that matches `re`.
async function waitFor(fake, seen, re) {
  for (let i = 0; i < 180; i++) {
    const found = (await chat(fake)).slice(seen).find((t) => re.test(t));
    if (found) return found;
    await sleep(500);
  }
  throw new Error(`the bot never wrote ${re}; it wrote: ${(await chat(fake)).join(' | ')}`);
}

async function say(fake, text, re) {
  const seen = (await chat(fake)).length;
  await act(fake, 'say', { text });
  return waitFor(fake, seen, re);
}

function moscowNow() {
  const d = new Date(Date.now() + 3 * 3600 * 1000 - 5 * 60 * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}.${p(d.getUTCMonth() + 1)}.${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

async function run(name, viewport) {
  const data = mkdtempSync(join(tmpdir(), `kabinet-max-${name}-`));
  let server;
  let fake;
  let browser;
  try {
    fake = await startFake();
    const port = await freePort();
    const env = { ...serverEnv(data, port), KABINET_QUIET_HOURS: '', KABINET_MAX_TOKEN: TOKEN, KABINET_MAX_BOT: BOT, KABINET_MAX_BASE_URL: fake.url };
    spawnSync(bin, ['demo', '--accounts', '50', '--months', '2', '--no-serve'], { env, encoding: 'utf8' });
    server = spawn(bin, ['serve'], { env, stdio: 'inherit' });
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(base);
    browser = await launch();
    const page = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    const account = await signInDemo(page, base);
    await page.goto(`${base}/settings#max-h`);
    if (!(await page.textContent('#max-h + p')).includes(`@${BOT}`)) throw new Error('the bot is not named');
    await axe(page, `${name}-unlinked`);
    await page.click('button:has-text("Привязать MAX")');
    await page.waitForLoadState();
    const link = await page.getAttribute('#max-link', 'href');
    if (!link.startsWith(`https://max.ru/${BOT}?start=`)) throw new Error(`not a link to the bot: ${link}`);
    await axe(page, `${name}-link`);

    // MAX opens the link: the bot starts with the code.
    await act(fake.url, 'start', { payload: new URL(link).searchParams.get('start'), locale: 'ru' });
    await waitFor(fake.url, 0, new RegExp(`MAX привязан.*${account}`, 's'));
    await page.goto(`${base}/settings`);
    if (!(await page.textContent('#max-h + p')).includes('MAX привязан')) throw new Error('Settings do not say MAX is linked');
    await axe(page, `${name}-linked`);

    // A reading by chat, found on the Meters page.
    const list = await say(fake.url, '/readings', /последнее:/);
    const line = list.split('\n').find((l) => /^\d+\. /.test(l) && /последнее: [\d ]+(,\d+)? /.test(l) && !l.includes(' / '));
    if (!line) throw new Error(`no one-zone meter in: ${list}`);
    const n = line.split('.')[0];
    const last = Number(line.match(/последнее: ([\d ]+)/)[1].replace(/\s/g, ''));
    const value = String(last + 2);
    await say(fake.url, `${n} ${value}`, /Показания приняты/);
    await page.goto(`${base}/meters`);
    if (!(await page.textContent('main')).includes(value)) throw new Error(`the reading ${value} is not on the Meters page`);
    await axe(page, `${name}-meters`);

    // A payment that comes with a billing import is told in MAX.
    const seen = (await chat(fake.url)).length;
    const csv = join(data, 'payments.csv');
    writeFileSync(csv, `account;source;external_id;amount;paid_at\n${account};bank;E2E-MAX-${name};1234,56;${moscowNow()}\n`);
    const imported = spawnSync(bin, ['import', 'payments', csv], { env, encoding: 'utf8' });
    if (imported.status !== 0) throw new Error(`import failed: ${imported.stderr}`);
    spawnSync(bin, ['notify'], { env, encoding: 'utf8' });
    const paid = await waitFor(fake.url, seen, /поступил платёж/);
    if (!/1\s?234,56/.test(paid) || !paid.includes(account)) throw new Error(`not this payment: ${paid}`);
  } finally {
    if (browser) await browser.close();
    if (server) server.kill('SIGTERM');
    if (fake) fake.child.kill('SIGTERM');
    rmSync(data, { recursive: true, force: true });
  }
}

for (const [name, viewport] of Object.entries(viewports)) {
  await run(name, viewport);
}
report();
