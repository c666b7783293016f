// The journey console end to end in headless Chromium: the one search box, the profile header, the
// timeline (newest first, completed services folded, presets, zoom, pan, fit), live redraws, ticking
// durations, details as a table, the distinct empty / not-found / error states, the unreachable banner,
// the "Active now" overview (redrawn while events keep coming), and the page at 390 px in the dark scheme.
// Run with `npm run test:browser`; UPDATE_SCREENSHOT=1 rewrites the screenshots in docs/.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';
import { launchBrowser, listen, minutesAgo, pageErrors } from '../helpers/browser.js';

let t: TestApp;
let base: string;
let browser: Browser;

before(async () => {
  t = await createTestApp();
  base = await listen(t);
  browser = await launchBrowser();
  // identification keys the search box tries: a core attribute, and an extension's attribute
  await t.request('POST', '/metadata/identification-keys', { name: 'idEmail', attributes: ['EmailAddress'] });
  await t.request('POST', '/metadata/profiles/extensions', { name: 'Phone', type: 'multi-valued', unique: ['PhoneNumber'], attributes: [{ name: 'PhoneNumber', type: 'string', length: 15, mandatory: true }] });
  await t.request('POST', '/metadata/identification-keys', { name: 'idPhone', source: 'Phone', attributes: ['PhoneNumber'] });
});
after(async () => {
  await browser?.close();
  await t?.close();
});

const screenshot = async (page: Page, name: string) => {
  if (process.env.UPDATE_SCREENSHOT) await page.screenshot({ path: `docs/${name}` });
};

async function find(page: Page, text: string): Promise<void> {
  await page.fill('#query', text);
  await page.click('#search button[type=submit]');
}

/** A lane's header with this service type. */
const lane = (type: string) => `text.lane-label:has-text("${type}")`;

/** The drawn window, from the SVG's data attributes. */
const windowOf = async (page: Page) =>
  page.locator('#timeline svg').evaluate((svg) => ({ from: Number(svg.getAttribute('data-from')), to: Number(svg.getAttribute('data-to')) }));

test('find by customer id: the profile above newest-first lanes, a live new state, details as a table with raw JSON on demand', async () => {
  const customer = (await t.request('POST', '/profiles', { customer_id: 'E2E-1', FirstName: 'Ada', LastName: 'Lovelace', EmailAddress: ['ada@example.org'], Phone: [{ PhoneNumber: '5550101' }] })).json().customer_id;
  const older = await startService(t, { customer_id: customer, service_type: 'NewAccount', timestamp: minutesAgo(9) });
  await t.request('POST', `/services/${older}/end`, { timestamp: minutesAgo(7) });
  const serviceId = await startService(t, { customer_id: customer, service_type: 'Billing', timestamp: minutesAgo(6), media_type: 'voice' });
  await t.request('POST', `/services/${serviceId}/states/start`, { state_type: 'Customer identification', timestamp: minutesAgo(6) });
  const task = (await t.request('POST', `/services/${serviceId}/tasks/start`, { state_id: 1, task_type: 'CollectPIN', timestamp: minutesAgo(5) })).json().task_id;
  await t.request('POST', `/services/${serviceId}/tasks/${task}/end`, { timestamp: minutesAgo(3), disposition: 'PIN ok' });

  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const errors = pageErrors(page);
  await page.goto(`${base}/console`);
  await find(page, 'E2E-1');
  await page.waitForSelector('[data-kind="state"]');
  assert.match((await page.textContent('#profile h2')) ?? '', /^Ada Lovelace/);
  const facts = (await page.textContent('#profile .facts')) ?? '';
  assert.match(facts, /ada@example\.org/);
  assert.match(facts, /5550101/);
  assert.match(facts, /Services 2, 1 active/);
  assert.deepEqual(await page.locator('g.lane').evaluateAll((lanes) => lanes.map((l) => l.getAttribute('data-service'))), [serviceId, older], 'newest first');
  assert.equal(await page.locator('[data-kind="state"].open').count(), 1, 'the active state is drawn open');
  await page.waitForSelector('#live.on');

  // a new state arrives through the API: the console redraws by itself
  const transition = await t.request('POST', `/services/${serviceId}/states/transition`, { from: { state_id: 1 }, to: { state_type: 'Waiting for service agent' }, timestamp: minutesAgo(2) });
  assert.equal(transition.statusCode, 201);
  await page.waitForFunction(() => document.querySelectorAll('[data-kind="state"]').length === 2, undefined, { timeout: 5000 });
  assert.equal(await page.locator('[data-kind="state"].open').count(), 1, 'the old state closed, the new one is open');
  await screenshot(page, 'console.png');

  await page.locator(`[data-kind="task"][data-service="${serviceId}"]`).click();
  await page.waitForSelector('#details:not([hidden])');
  const table = (await page.textContent('#details-table')) ?? '';
  assert.match(table, /TypeCollectPIN/);
  assert.match(table, /Duration2 min 0 s/);
  assert.match(table, /DispositionPIN ok/);
  assert.equal(await page.isVisible('#details-body'), false, 'raw JSON only on demand');
  await page.click('#details-raw summary');
  assert.match((await page.textContent('#details-body')) ?? '', /"task_type": "CollectPIN"/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('one search box: a phone number or e-mail through identification keys, a contact key after association, a choice when several match', async () => {
  await t.request('POST', '/profiles', { customer_id: 'E2E-PHONE', FirstName: 'Grace', EmailAddress: ['grace@example.org'], Phone: [{ PhoneNumber: '5550142' }] });
  await startService(t, { customer_id: 'E2E-PHONE', service_type: 'Support' });
  // a call from another number, associated with the customer once identified
  const call = await startService(t, { contact_key: '5550177', service_type: 'Callback' });
  await t.request('POST', `/customers/E2E-PHONE/services/${call}`, {});
  // the number also names an anonymous caller
  await startService(t, { contact_key: '5550142', service_type: 'Anonymous call' });

  const page = await browser.newPage();
  const errors = pageErrors(page);
  await page.goto(`${base}/console/`);
  await find(page, 'grace@example.org');
  await page.waitForSelector(lane('Support'));
  assert.match((await page.textContent('#profile h2')) ?? '', /^Grace/);

  await find(page, '5550177');
  await page.waitForSelector(lane('Callback'));
  assert.match((await page.textContent('#profile')) ?? '', /customer E2E-PHONE/, 'the contact key found the customer after association');

  await find(page, '5550142');
  await page.waitForSelector('#choices:not([hidden])');
  const choices = await page.locator('#choices .chip').allTextContents();
  assert.deepEqual(choices, ['customer E2E-PHONE · Phone.PhoneNumber (idPhone)', 'anonymous calls from 5550142']);
  await page.click('#choices .chip >> text=anonymous calls');
  await page.waitForSelector(lane('Anonymous call'));
  assert.match((await page.textContent('#profile h2')) ?? '', /Anonymous calls from 5550142/);

  // the API's own identification query still works
  await find(page, 'Phone.PhoneNumber=5550142');
  await page.waitForSelector(lane('Support'));
  assert.deepEqual(errors, []);
  await page.close();
});

test('nothing found, no services and an error each look different', async () => {
  await t.request('POST', '/profiles', { customer_id: 'E2E-EMPTY', FirstName: 'Nobody' });
  const page = await browser.newPage();
  await page.goto(`${base}/console/`);
  await find(page, 'no-such-customer-4711');
  await page.waitForSelector('#timeline .message[data-state="not-found"]');
  assert.match((await page.textContent('#timeline .message')) ?? '', /Nothing matches “no-such-customer-4711”/);

  await find(page, 'E2E-EMPTY');
  await page.waitForSelector('#timeline .message[data-state="empty"]');
  assert.match((await page.textContent('#timeline .message')) ?? '', /Customer E2E-EMPTY has no services/);
  assert.match((await page.textContent('#profile h2')) ?? '', /^Nobody/, 'the profile is shown above');

  // the server goes away: the search fails as an error, and a banner says so until it is back
  await page.route('**/genesys/**', (route) => route.abort('connectionrefused'));
  await find(page, 'E2E-EMPTY');
  await page.waitForSelector('#timeline .message[data-state="error"]');
  assert.match((await page.textContent('#timeline .message')) ?? '', /cannot be reached/);
  await page.waitForSelector('#banner:not([hidden])');
  assert.match((await page.textContent('#banner')) ?? '', /cannot be reached/);
  const classes = await page.locator('#timeline .message').getAttribute('class');
  assert.equal(classes, 'message error');
  await page.unroute('**/genesys/**');
  // the probe of /health finds it back; the banner goes and the journey redraws
  await page.waitForSelector('#banner', { state: 'hidden', timeout: 10_000 });
  await page.waitForSelector('#timeline .message[data-state="empty"]');
  await page.close();
});

test("a completed service's elements never ended are drawn to its end, as left open; the axis is dated", async () => {
  const serviceId = await startService(t, { customer_id: 'E2E-LEFT', service_type: 'Billing', timestamp: minutesAgo(30) });
  await t.request('POST', `/services/${serviceId}/states/start`, { state_type: 'Waiting for service agent', timestamp: minutesAgo(29) });
  await t.request('POST', `/services/${serviceId}/tasks/start`, { task_type: 'Callback', timestamp: minutesAgo(28) });
  await t.request('POST', `/services/${serviceId}/end`, { timestamp: minutesAgo(20) });
  await startService(t, { customer_id: 'E2E-LEFT', service_type: 'Sales', timestamp: minutesAgo(1) });

  const page = await browser.newPage({ viewport: { width: 1280, height: 620 } });
  await page.goto(`${base}/console/?customer_id=E2E-LEFT`);
  const state = page.locator(`[data-kind="state"][data-service="${serviceId}"]`);
  await state.waitFor();
  assert.equal(await state.getAttribute('class'), 'state-seg left-open', 'not drawn as active');
  assert.match((await state.locator('title').textContent()) ?? '', /left open$/);
  assert.equal(await page.locator(`[data-kind="task"][data-service="${serviceId}"].left-open`).count(), 1);
  const day = new Date().toLocaleDateString('en-US', { month: 'short', day: 'numeric' });
  const yesterday = new Date(Date.now() - 86400_000).toLocaleDateString('en-US', { month: 'short', day: 'numeric' });
  const first = (await page.locator('text.tick').first().textContent()) ?? '';
  assert.ok(first.startsWith(day) || first.startsWith(yesterday), `the first tick carries its date: ${first}`);
  const bar = await page.locator(`[data-kind="service"][data-id="${serviceId}"]`).boundingBox();
  const seg = await state.boundingBox();
  assert.ok(bar && seg && Math.abs(seg.x + seg.width - (bar.x + bar.width)) < 2, `ends with its service: ${JSON.stringify([seg, bar])}`);
  await page.close();
});

test('a caller with 60 services over 60 days on one screen: completed ones folded, presets, zoom, pan and fit', async () => {
  const day = 86400_000;
  for (let i = 0; i < 60; i++) {
    const at = Date.now() - (60 - i) * day + 3600_000;
    const id = await startService(t, { customer_id: 'E2E-60', service_type: i % 3 ? 'Billing' : 'Sales', timestamp: new Date(at).toISOString() });
    await t.request('POST', `/services/${id}/states/start`, { state_type: 'Waiting for service agent', timestamp: new Date(at + 60_000).toISOString() });
    if (i < 57) await t.request('POST', `/services/${id}/end`, { timestamp: new Date(at + 10 * 60_000).toISOString() });
  }
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = pageErrors(page);
  await page.goto(`${base}/console/?customer_id=E2E-60`);
  await page.waitForSelector('g.lane');
  assert.equal(await page.locator('g.lane').count(), 3, 'the 3 active services have lanes');
  assert.equal(await page.locator('rect[data-packed]').count(), 57, 'the 57 completed share packed rows');
  const box = await page.locator('#timeline').boundingBox();
  assert.ok(box && box.y + box.height < 800, `the journey fits on one screen: ${JSON.stringify(box)}`);
  await screenshot(page, 'console-60-services.png');

  const all = await windowOf(page);
  assert.ok(all.to - all.from > 59 * day, 'fit shows all 60 days');
  await page.click('[data-range="week"]');
  let now = await windowOf(page);
  assert.ok(Math.abs(now.to - now.from - 7.14 * day) < 0.1 * day, `a week: ${(now.to - now.from) / day} days`);
  await page.click('[data-range="day"]');
  now = await windowOf(page);
  assert.ok(now.to - now.from < 1.1 * day && now.to >= Date.now() - 60_000, 'the last day, up to now');
  await page.click('#zoom-in');
  const zoomed = await windowOf(page);
  assert.ok(Math.abs((zoomed.to - zoomed.from) * 2 - (now.to - now.from)) < 1000, 'zoom in halves the span');
  const svg = (await page.locator('#timeline svg').boundingBox())!;
  await page.mouse.move(svg.x + 600, svg.y + 200);
  await page.mouse.down();
  await page.mouse.move(svg.x + 900, svg.y + 200, { steps: 5 });
  await page.mouse.up();
  const panned = await windowOf(page);
  assert.ok(panned.from < zoomed.from && Math.abs(panned.to - panned.from - (zoomed.to - zoomed.from)) < 1000, 'dragging right shows earlier times');
  await page.click('#fit');
  const fitted = await windowOf(page);
  // it runs to now (services are active): a few seconds later than the first fit
  assert.ok(Math.abs(fitted.from - all.from) < 5000 && fitted.to >= all.to && fitted.to - all.to < 10_000, 'fit shows all 60 days again');

  await page.click('#fold');
  await page.waitForFunction(() => document.querySelectorAll('g.lane').length === 60);
  assert.equal(await page.locator('rect[data-packed]').count(), 0);
  // a lane folds to its bar by its header
  const newest = page.locator('g.lane-header').first();
  await newest.click();
  assert.match((await page.locator('g.lane-header').first().textContent()) ?? '', /^▸/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('active durations tick, without a reload', async () => {
  const serviceId = await startService(t, { customer_id: 'E2E-TICK', service_type: 'Billing', timestamp: minutesAgo(3) });
  await t.request('POST', `/services/${serviceId}/states/start`, { state_type: 'Waiting for service agent', timestamp: minutesAgo(3) });
  const page = await browser.newPage({ viewport: { width: 1280, height: 620 } });
  await page.clock.install();
  await page.goto(`${base}/console/?customer_id=E2E-TICK`);
  const label = page.locator('text.state-label.open');
  await label.waitFor();
  const before = await label.textContent();
  assert.match(before ?? '', /^Waiting for service agent · 3 min \d+ s$/);
  // zoomed, the window no longer follows now and is not redrawn: only the ticker changes the text
  await page.click('#zoom-in');
  await page.clock.fastForward(61_000);
  const later = await label.textContent();
  assert.match(later ?? '', /^Waiting for service agent · 4 min \d+ s$/, `${before} → ${later}`);
  await page.close();
});

test('Active now: the newest active services across customers, a page at a time, each opening its journey', async () => {
  for (let i = 0; i < 30; i++) await startService(t, { customer_id: `E2E-OV-${i}`, service_type: 'Overview', timestamp: minutesAgo(0.5 - i / 100) });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = pageErrors(page);
  await page.goto(`${base}/console/?view=overview`);
  await page.waitForSelector('#overview tbody tr');
  assert.equal(await page.locator('#overview tbody tr').count(), 25);
  const order = (await page.locator('#overview tbody tr').allTextContents()).flatMap((row) => /E2E-OV-(\d+)/.exec(row)?.[1] ?? []).map(Number);
  assert.deepEqual(order.slice(0, 5), [29, 28, 27, 26, 25], 'newest first');
  await screenshot(page, 'console-overview.png');
  await page.click('#more');
  await page.waitForFunction(() => document.querySelectorAll('#overview tbody tr').length > 25);
  await page.locator('#overview tbody tr', { hasText: 'E2E-OV-3' }).first().click();
  await page.waitForSelector('#journey-view:not([hidden]) g.lane');
  assert.match((await page.textContent('#profile')) ?? '', /E2E-OV-3\b/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('Active now keeps redrawing while new services keep starting', async () => {
  await startService(t, { customer_id: 'E2E-QUIET', service_type: 'Steady' });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = pageErrors(page);
  await page.goto(`${base}/console/?view=overview`);
  await page.waitForSelector('#overview tbody tr');
  await page.waitForSelector('#live.on');
  // a busy contact center: a new service every 50 ms or so, never a quiet moment until the list has moved
  let writing = true;
  let written = 0;
  const writer = (async () => {
    while (writing) {
      await startService(t, { customer_id: `E2E-STEADY-${written++}`, service_type: 'Steady' });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    // the newest service on top, twice: redrawn again and again, not once
    const top = async (after: number) => {
      await page.waitForFunction((n) => Number(/E2E-STEADY-(\d+)/.exec(document.querySelector('#overview tbody tr')?.textContent ?? '')?.[1] ?? -1) > n, after, { timeout: 15_000 });
      return Number(/E2E-STEADY-(\d+)/.exec((await page.textContent('#overview tbody tr')) ?? '')![1]);
    };
    const first = await top(-1);
    await top(first);
    assert.ok(writing, 'redrawn while the writes went on');
  } finally {
    writing = false;
    await writer;
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test('live redraws: at most one at a time, again and again under a steady stream of calls (atMostEvery)', async () => {
  const page = await browser.newPage();
  const errors = pageErrors(page);
  await page.goto(`${base}/console/`);
  const result = await page.evaluate(async () => {
    // the page's own module, by URL (a variable, so the type checker does not look for it on disk)
    const moduleUrl = '/console/connection.js';
    const { atMostEvery } = (await import(moduleUrl)) as { atMostEvery: (ms: number, run: () => Promise<void>) => () => void };
    let active = 0;
    let most = 0;
    let runs = 0;
    // a redraw slower than its interval, called every 5 ms for 400 ms
    const redraw = atMostEvery(10, async () => {
      active++;
      most = Math.max(most, active);
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      active--;
    });
    for (const until = Date.now() + 400; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 5))) redraw();
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { most, runs };
  });
  assert.equal(result.most, 1, 'never two redraws at once');
  assert.ok(result.runs >= 4, `redrawn while the calls went on (${result.runs} runs)`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('at 390 px in the dark scheme: nothing overflows, the details panel is a sheet', async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
  const errors = pageErrors(page);
  await page.goto(`${base}/console/?customer_id=E2E-1`);
  await page.waitForSelector('[data-kind="state"]');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no horizontal scroll');
  const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  assert.equal(background, 'rgb(18, 21, 27)', 'the dark scheme');
  await page.locator('[data-kind="state"]').first().click();
  await page.waitForSelector('#details:not([hidden])');
  const sheet = (await page.locator('#details').boundingBox())!;
  assert.ok(sheet.x <= 1 && sheet.width >= 388, `a full-width sheet: ${JSON.stringify(sheet)}`);
  await screenshot(page, 'console-mobile-dark.png');
  assert.deepEqual(errors, []);
  await page.close();
});
