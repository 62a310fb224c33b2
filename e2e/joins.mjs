// Joining a neighbour's request and the "my data" archive in headless
// Chromium, on a 360 px phone and a desktop. On a demo of 100 accounts the
// demo resident's building has open requests about its common property from
// other residents: the resident finds them above the new-request form (what
// and when, not the neighbour's text), joins one, sees it in their list; the
// demo dispatcher sees who joined on the request; the resident downloads
// "my data" as a zip with data.json inside and leaves the request. axe-core
// checks every page for WCAG 2.1 A/AA.
// Run: node e2e/joins.mjs (needs target/debug/kabinet, /usr/bin/chromium).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeChecker, bin, demoStaff, freePort, launch, serverEnv, signInDemo, staffSignIn, viewports, waitHealthy } from './harness.mjs';

const { axe, report } = axeChecker('joins');

async function run(name, viewport) {
  const data = mkdtempSync(join(tmpdir(), `kabinet-joins-${name}-`));
  let server;
  let browser;
  try {
    const port = await freePort();
    const env = serverEnv(data, port);
    const demo = spawnSync(bin, ['demo', '--accounts', '100', '--months', '1', '--no-serve'], { env, encoding: 'utf8' });
    const dispatcher = demoStaff(demo.stderr, 'Dispatcher');
    server = spawn(bin, ['serve'], { env, stdio: 'inherit' });
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(base);
    browser = await launch();

    // Neighbours' open requests above the form; the resident joins one.
    const context = await browser.newContext({ viewport, locale: 'ru-RU', acceptDownloads: true });
    const resident = await context.newPage();
    await signInDemo(resident, base);
    await resident.goto(`${base}/requests/new`);
    if (!(await resident.$('#shared-h'))) throw new Error('no neighbours\' requests above the form');
    await axe(resident, `${name}-shared`);
    const button = resident.locator('section[aria-labelledby=shared-h] button:has-text("Присоединиться")').first();
    const label = await button.getAttribute('aria-label');
    const number = label.match(/№ (\d+)/)[1];
    await button.click();
    await resident.waitForURL(new RegExp(`/requests\\?joined=${number}`));
    if (!(await resident.textContent('.notice')).includes(`№ ${number}`)) throw new Error('no notice of joining');
    const row = resident.locator(`section[aria-labelledby=joined] li:has(strong:text-is("№ ${number}"))`);
    if (!(await row.count())) throw new Error('the joined request is not in the list');
    await axe(resident, `${name}-joined`);

    // The dispatcher sees who joined.
    const staff = await (await browser.newContext({ viewport, locale: 'ru-RU' })).newPage();
    await staffSignIn(staff, base, dispatcher);
    await staff.goto(`${base}/staff/requests/${number}`);
    const joiners = await staff.textContent('#joiners-h');
    if (!/Присоединились жители: \d+/.test(joiners)) throw new Error(`no joiners on the staff page: ${joiners}`);
    await axe(staff, `${name}-staff-joiners`);

    // "My data" as a zip with data.json inside.
    await resident.goto(`${base}/settings`);
    const [download] = await Promise.all([
      resident.waitForEvent('download'),
      resident.click('a:has-text("ZIP с фотографиями")'),
    ]);
    const file = join(data, 'my-data.zip');
    await download.saveAs(file);
    if (readFileSync(file).subarray(0, 2).toString() !== 'PK') throw new Error('the download is not a zip');
    const joined = execFileSync('python3', ['-c', `
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
d = json.loads(z.read("data.json"))
print(",".join(str(j["number"]) for j in d["joined_requests"]))
`, file]).toString().trim();
    if (!joined.split(',').includes(number)) throw new Error(`data.json does not list the joined request: ${joined}`);

    // Leaving it.
    await resident.goto(`${base}/requests`);
    await resident.locator(`section[aria-labelledby=joined] li:has(strong:text-is("№ ${number}")) button:has-text("Отказаться")`).click();
    await resident.waitForURL(new RegExp(`/requests\\?left=${number}`));
    if (!(await resident.textContent('.notice')).includes('больше не присоединены')) throw new Error('no notice of leaving');
    await axe(resident, `${name}-left`);
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
