// End to end in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core; never a
// downloaded browser): open /console, find a customer, see the timeline, see a new state appear live.
// Run with `npm run test:browser`; CI installs chromium first.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let t: TestApp;
let base: string;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (CI does)`);
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => {
  await browser?.close();
  await t?.close();
});

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

test('find a customer, see the timeline, see a new state appear live, open its details', async () => {
  const serviceId = await startService(t, { customer_id: 'E2E-1', service_type: 'Billing', timestamp: minutesAgo(6) });
  await t.request('POST', `/services/${serviceId}/states/start`, { state_type: 'Customer identification', timestamp: minutesAgo(6) });
  const task = (await t.request('POST', `/services/${serviceId}/tasks/start`, { state_id: 1, task_type: 'CollectPIN', timestamp: minutesAgo(5) })).json().task_id;
  await t.request('POST', `/services/${serviceId}/tasks/${task}/end`, { timestamp: minutesAgo(3) });
  const other = await startService(t, { customer_id: 'E2E-1', service_type: 'NewAccount', timestamp: minutesAgo(4) });
  await t.request('POST', `/services/${other}/end`, {});

  const page = await browser.newPage({ viewport: { width: 1280, height: 620 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${base}/console`);
  await page.selectOption('#mode', 'customer');
  await page.fill('#query', 'E2E-1');
  await page.click('button[type=submit]');

  await page.waitForSelector('[data-kind="service"]');
  assert.equal(await page.locator('[data-kind="service"]').count(), 2, 'one lane per service');
  assert.equal(await page.locator('[data-kind="state"]').count(), 1);
  assert.equal(await page.locator('[data-kind="task"]').count(), 1);
  assert.equal(await page.locator('[data-kind="state"].open').count(), 1, 'the active state is drawn open');
  assert.match((await page.textContent('#summary')) ?? '', /2 service\(s\), 1 active/);
  await page.waitForSelector('#live.on');

  // a new state arrives through the API: the console redraws by itself
  const transition = await t.request('POST', `/services/${serviceId}/states/transition`, {
    from: { state_id: 1 },
    to: { state_type: 'Waiting for service agent' },
    timestamp: minutesAgo(2),
  });
  assert.equal(transition.statusCode, 201);
  await page.waitForFunction(() => document.querySelectorAll('[data-kind="state"]').length === 2, undefined, { timeout: 5000 });
  assert.equal(await page.locator('[data-kind="state"].open').count(), 1, 'the old state closed, the new one is open');

  if (process.env.UPDATE_SCREENSHOT) await page.screenshot({ path: 'docs/console.png' });
  await page.locator('[data-kind="state"]').first().click();
  await page.waitForSelector('#details:not([hidden])');
  assert.match((await page.textContent('#details-body')) ?? '', /"state_type": "Customer identification"/);

  assert.deepEqual(errors, []);
  await page.close();
});

test("a completed service's states and tasks that were never ended are drawn to the service's end, as left open", async () => {
  const serviceId = await startService(t, { customer_id: 'E2E-LEFT', service_type: 'Billing', timestamp: minutesAgo(30) });
  await t.request('POST', `/services/${serviceId}/states/start`, { state_type: 'Waiting for service agent', timestamp: minutesAgo(29) });
  await t.request('POST', `/services/${serviceId}/tasks/start`, { task_type: 'Callback', timestamp: minutesAgo(28) });
  await t.request('POST', `/services/${serviceId}/end`, { timestamp: minutesAgo(20) });
  // a later, active service: the axis runs to now, well past the first service's end
  await startService(t, { customer_id: 'E2E-LEFT', service_type: 'Sales', timestamp: minutesAgo(1) });

  const page = await browser.newPage({ viewport: { width: 1280, height: 620 } });
  await page.goto(`${base}/console`);
  await page.selectOption('#mode', 'customer');
  await page.fill('#query', 'E2E-LEFT');
  await page.click('button[type=submit]');
  await page.waitForSelector(`[data-kind="state"][data-service="${serviceId}"]`);
  const state = page.locator(`[data-kind="state"][data-service="${serviceId}"]`);
  assert.equal(await state.getAttribute('class'), 'state-seg left-open', 'not drawn as active');
  assert.match((await state.locator('title').textContent()) ?? '', /left open$/);
  assert.equal(await page.locator(`[data-kind="task"][data-service="${serviceId}"].left-open`).count(), 1);
  // the axis carries the date on its first tick (the first service's start, 30 minutes ago)
  const firstDay = new Date(Date.parse(minutesAgo(30))).toLocaleDateString('en-US', { month: 'short', day: 'numeric' });
  assert.ok((await page.locator('text.tick').first().textContent())?.startsWith(firstDay), await page.locator('text.tick').first().textContent() ?? '');
  const bar = await page.locator(`[data-kind="service"][data-id="${serviceId}"]`).boundingBox();
  const seg = await state.boundingBox();
  assert.ok(bar && seg && Math.abs(seg.x + seg.width - (bar.x + bar.width)) < 2, `ends with its service: ${JSON.stringify([seg, bar])}`);
  await page.close();
});

test('the password is kept in memory only: never in localStorage or sessionStorage', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/console`);
  await page.evaluate(() => localStorage.setItem('contextd.password', 'left-by-an-older-console'));
  await page.reload();
  await page.click('#connection summary');
  await page.fill('#user', 'admin');
  await page.fill('#password', 's3cret-typed');
  await page.dispatchEvent('#password', 'change');
  await page.dispatchEvent('#user', 'change');
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.doesNotMatch(stored, /s3cret-typed|left-by-an-older-console/);
  assert.match(stored, /admin/, 'the user name is remembered');
  await page.close();
});

test('search by contact key and by an identification attribute', async () => {
  await t.request('POST', '/metadata/identification-keys', { name: 'idPhone', attributes: ['PhoneNumber'] });
  const profile = (await t.request('POST', '/profiles', { FirstName: 'Eve', PhoneNumber: '5550142' })).json().customer_id;
  await startService(t, { customer_id: profile, service_type: 'Support' });
  await startService(t, { contact_key: '5550142', service_type: 'Anonymous call' });

  const page = await browser.newPage();
  await page.goto(`${base}/console/`);
  await page.selectOption('#mode', 'contact');
  await page.fill('#query', '5550142');
  await page.click('button[type=submit]');
  await page.waitForSelector('text=Anonymous call');
  await page.selectOption('#mode', 'identify');
  await page.fill('#query', 'PhoneNumber=5550142');
  await page.click('button[type=submit]');
  await page.waitForSelector('text=Support');
  assert.match((await page.textContent('#summary')) ?? '', new RegExp(`customer ${profile}`));
  await page.close();
});
