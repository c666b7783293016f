// The console with roles and tenants on, in headless Chromium: a sign-in form on 401 (never the
// browser's own Basic prompt, which would leave the page waiting), the password kept in memory only,
// and a tenant and group picker listing what the user may use; nothing found names where it looked.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { hashPassword } from '../../src/domain/access.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, listen, pageErrors } from '../helpers/browser.js';

let t: TestApp;
let base: string;
let browser: Browser;
const PASSWORD = 's3cret-typed';

before(async () => {
  const hash = hashPassword(PASSWORD);
  t = await createTestApp({
    tenants: [{ id: 101, name: 'Acme', groups: ['Sales'] }, { id: 102, name: 'Globex' }],
    users: [
      { name: 'admin', password_hash: hash, roles: ['Administrator'], tenants: ['*'] },
      { name: 'acme-sup', password_hash: hash, roles: ['Supervisor'], tenants: ['Acme'] },
    ],
  });
  base = await listen(t);
  browser = await launchBrowser();
  const admin = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
  const sales = await t.request('POST', '/services/start', { customer_id: 'IN-SALES', service_type: 'Billing' }, { ...admin, ContactCenterId: 'Acme', GroupId: 'Sales' });
  assert.equal(sales.statusCode, 201);
});
after(async () => {
  await browser?.close();
  await t?.close();
});

test('401 opens the sign-in form; signed in, the picker offers the tenants and groups the user may use', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const errors = pageErrors(page);
  await page.goto(`${base}/console/?customer_id=IN-SALES`);
  await page.waitForSelector('#signin[open]');
  assert.match((await page.textContent('#signin-reason')) ?? '', /credentials required/);
  await page.fill('#signin-user', 'acme-sup');
  await page.fill('#signin-password', PASSWORD);
  await page.click('#signin-form button[type=submit]');

  await page.waitForSelector('#partition:not([hidden])');
  assert.deepEqual(await page.locator('#partition option').allTextContents(), ['Acme', 'Acme › Sales'], 'Globex is not offered');
  assert.equal(await page.textContent('#account'), 'acme-sup ▾');
  // looking in Acme, the customer of Acme › Sales is not there, and the message says where it looked
  await page.waitForSelector('#timeline .message[data-state="empty"]');
  assert.match((await page.textContent('#timeline .message')) ?? '', /looking in Acme;/);
  await page.selectOption('#partition', { label: 'Acme › Sales' });
  await page.waitForSelector('text.lane-label:has-text("Billing")');

  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.doesNotMatch(stored, new RegExp(PASSWORD), 'the password is never stored');
  assert.match(stored, /acme-sup/, 'the user name is remembered');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a wrong password asks again, with the reason', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/console/`);
  await page.waitForSelector('#signin[open]');
  await page.fill('#signin-user', 'acme-sup');
  await page.fill('#signin-password', 'wrong');
  await page.click('#signin-form button[type=submit]');
  await page.waitForFunction(() => /wrong password/.test(document.getElementById('signin-reason')?.textContent ?? ''));
  assert.equal(await page.locator('#signin[open]').count(), 1);
  await page.close();
});
