// The analytics page end to end in headless Chromium (Debian's /usr/bin/chromium via playwright-core):
// the live board shows what is open by type; time in state, outcomes and a funnel the window's
// journeys; and the page redraws by itself when a write commits — also while writes keep coming.
// UPDATE_SCREENSHOT=1 writes docs/console-analytics.png.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';
import { launchBrowser, listen, minutesAgo } from '../helpers/browser.js';

let t: TestApp;
let base: string;
let browser: Browser;

before(async () => {
  t = await createTestApp();
  base = await listen(t);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await t?.close();
});

test('the live board and time in state, redrawn as writes commit', async () => {
  for (let i = 0; i < 3; i++) {
    const id = await startService(t, { customer_id: `AN-${i}`, service_type: 'Billing', timestamp: minutesAgo(20 + i) });
    const first = await t.request('POST', `/services/${id}/states/start`, { state_type: 'Customer identification', timestamp: minutesAgo(20 + i), media_type: 'voice' });
    await t.request('POST', `/services/${id}/states/transition`, { from: { state_id: first.json().state_id, timestamp: minutesAgo(18) }, to: { state_type: 'Waiting for service agent', timestamp: minutesAgo(18) } });
  }
  const sales = await startService(t, { customer_id: 'AN-S', service_type: 'Sales', timestamp: minutesAgo(12) });
  await t.request('POST', `/services/${sales}/end`, {});

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${base}/console/analytics.html`);

  const billing = page.locator('#live-services tr[data-type="Billing"]');
  await billing.waitFor();
  assert.equal((await billing.locator('td').nth(1).textContent())?.trim(), '3', 'three Billing services open');
  assert.match((await billing.locator('td').nth(2).textContent()) ?? '', /^2[0-9]m/, 'the oldest opened 22 minutes ago');
  assert.equal(await page.locator('#live-services tr[data-type="Sales"]').count(), 0, 'the ended service is not open');
  const waiting = page.locator('#live-states tr[data-type="Waiting for service agent"]');
  assert.equal((await waiting.locator('td').nth(1).textContent())?.trim(), '3');
  assert.equal((await page.textContent('#active-services'))?.trim(), '3');

  await page.click('#week');
  const identification = page.locator('#states tr[data-type="Customer identification"]');
  await identification.waitFor();
  const cells = await identification.locator('td').allTextContents();
  assert.deepEqual(cells.slice(1, 4), ['3', '3', '0'], 'started, completed, open');
  assert.match(cells[4], /^[234]m/, 'p50: two to four minutes in identification');
  assert.equal(await identification.locator('.range').count(), 1, 'the p50–p99 bar');
  const salesOutcome = page.locator('#outcomes tr[data-type="Sales"]');
  await salesOutcome.waitFor();
  assert.deepEqual((await salesOutcome.locator('td').allTextContents()).slice(1, 4), ['1', '1', '0'], 'outcomes: started, completed, open');
  assert.equal(await salesOutcome.locator('.part').count(), 1, 'one disposition segment');

  await page.fill('#funnel-type', 'Billing');
  await page.fill('#funnel-steps', 'Customer identification, Waiting for service agent, Offering callback');
  await page.click('#funnel-form button[type=submit]');
  await page.waitForSelector('#funnel .step[data-step="3"]');
  assert.deepEqual(await page.locator('#funnel .fill').allTextContents(), ['3', '3', '3', '0'], 'services, then each step reached');
  assert.match((await page.textContent('#funnel .drop')) ?? '', /3 stopped here: 3 still open/);
  await page.waitForSelector('#live.on');

  // a write through the API: the page redraws by itself
  await startService(t, { customer_id: 'AN-NEW', service_type: 'Billing' });
  await page.waitForFunction(() => document.querySelector('#live-services tr[data-type="Billing"] td:nth-child(2)')?.textContent?.trim() === '4');

  await page.selectOption('#group-by', 'media_type');
  await page.click('#range button[type=submit]');
  await page.waitForSelector('#states th:nth-child(2)');
  assert.equal((await page.textContent('#states th:nth-child(2)'))?.trim(), 'media type');
  await page.selectOption('#group-by', '');
  await page.click('#range button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#states th:nth-child(2)')?.textContent?.trim() === 'started');
  if (process.env.UPDATE_SCREENSHOT) await page.screenshot({ path: 'docs/console-analytics.png', fullPage: true });
  assert.deepEqual(errors, []);
});

test('the board keeps redrawing while writes keep coming', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${base}/console/analytics.html`);
  await page.waitForSelector('#live.on');
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('#active-services')?.textContent?.trim() ?? ''));
  const before = Number((await page.textContent('#active-services'))?.trim());
  // a busy contact center: an event every 50 ms or so, never a quiet moment until the board has moved
  let writing = true;
  let written = 0;
  const writer = (async () => {
    while (writing) {
      await startService(t, { customer_id: `STEADY-${written++}`, service_type: 'Steady' });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    await page.waitForFunction((n) => Number(document.querySelector('#active-services')?.textContent?.trim()) >= n, before + 5, { timeout: 15_000 });
    assert.ok(writing, 'redrawn while the writes went on');
  } finally {
    writing = false;
    await writer;
  }
  await page.close();
  assert.deepEqual(errors, []);
});
