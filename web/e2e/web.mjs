// End-to-end in headless Chromium (Debian's chromium, driven by playwright-core) against a real
// `cartwright serve` with cartsim shopping behind a real broker. Started by
// tests/e2e/web_test.cc, which passes everything through the environment:
//   CW_URL          https://127.0.0.1:PORT
//   CW_STORE        the store the staff member works in
//   CW_STAFF, CW_STAFF_PASSWORD, CW_OPS, CW_OPS_PASSWORD, CW_OPS_TOTP_SECRET (base32)
//   CW_BRIDGE       cartsim's BLE bridge, http://127.0.0.1:PORT
//   CW_CARTS        how many carts the store has
//   CW_SHOTS        where to save screenshots
// Exits 0 when every step held, 1 with the failing step otherwise.
import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`missing ${k}`);
  return v;
};
const URL = env('CW_URL'), SHOTS = env('CW_SHOTS');
mkdirSync(SHOTS, { recursive: true });

// RFC 6238, as an authenticator app computes it.
function totp(secretB32, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretB32.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[19] & 0xf;
  const code = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}

let step = 'launch';
const pages = [];
const log = (s) => {
  step = s;
  console.log(`step: ${s}`);
};

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  // A 10-inch tablet in landscape.
  const staff = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  const tab = await staff.newPage();
  pages.push(tab);
  tab.on('pageerror', (e) => console.log(`tablet page error: ${e.message}`));

  log('staff log in on the tablet');
  await tab.goto(`${URL}/tablet/?bridge=${encodeURIComponent(env('CW_BRIDGE'))}`);
  await tab.fill('input[name=username]', env('CW_STAFF'));
  await tab.fill('input[name=password]', env('CW_STAFF_PASSWORD'));
  await tab.click('button[type=submit]');

  log('the demo carts are on the floor plan');
  const carts = Number(env('CW_CARTS'));
  await tab.waitForFunction((n) => document.querySelectorAll('svg.floor g[data-cart]').length === n, carts, { timeout: 30_000 });
  await tab.screenshot({ path: `${SHOTS}/1-tablet-floor-plan.png` });

  log('find a cart with a shopper');
  const store = env('CW_STORE');
  const cart = await tab.waitForFunction(async (storeId) => {
    const token = JSON.parse(sessionStorage.getItem('cartwright.tokens')).access_token;
    const get = async (p) => (await fetch(p, { headers: { Authorization: `Bearer ${token}` } })).json();
    const rows = (await get(`/api/v1/stores/${storeId}/carts?limit=500`)).items;
    for (const r of rows) {
      const c = await get(`/api/v1/carts/${r.cart_id}`);
      if (c.open_session && c.open_session.status === 'active' && c.location && c.location.x_m !== undefined) return c.cart_id;
    }
    return null;
  }, store, { timeout: 90_000, polling: 1000 }).then((h) => h.jsonValue());
  console.log(`cart with an active session: ${cart}`);

  log('open the cart and pause its session with a proximity token');
  // Markers may overlap where shoppers crowd, so the tap goes to the cart's own marker.
  await tab.locator(`svg.floor g[data-cart="${cart}"]`).dispatchEvent('click');
  await tab.waitForSelector('#session-status[data-status="active"]', { timeout: 15_000 });
  await tab.click('#override-pause');
  await tab.waitForFunction(() => document.querySelector('#action-message')?.textContent?.includes('pause sent'), null, { timeout: 15_000 });

  log('the cart confirms: the session shows paused');
  await tab.waitForSelector('#session-status[data-status="paused"]', { timeout: 45_000 });
  await tab.screenshot({ path: `${SHOTS}/2-tablet-session-paused.png` });

  log('take the cart out of service and back');
  await tab.click('#maintenance-toggle');
  await tab.waitForSelector('#cart-state [data-state="maintenance"]', { timeout: 15_000 });
  await tab.waitForSelector(`svg.floor g[data-cart="${cart}"][data-state="maintenance"]`, { timeout: 15_000 });
  await tab.screenshot({ path: `${SHOTS}/3-tablet-maintenance.png` });
  await tab.click('#maintenance-toggle');
  await tab.waitForFunction(() => document.querySelector('#cart-state [data-state]')?.getAttribute('data-state') !== 'maintenance',
                            null, { timeout: 15_000 });

  log('ops log in with a one-time code');
  const opsCtx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1440, height: 900 } });
  const ops = await opsCtx.newPage();
  pages.push(ops);
  ops.on('pageerror', (e) => console.log(`dashboard page error: ${e.message}`));
  await ops.goto(`${URL}/`);
  await ops.fill('input[name=username]', env('CW_OPS'));
  await ops.fill('input[name=password]', env('CW_OPS_PASSWORD'));
  await ops.fill('input[name=totp]', totp(env('CW_OPS_TOTP_SECRET')));
  await ops.click('button[type=submit]');
  await ops.waitForSelector(`#fleet-table tr[data-cart="${cart}"]`, { timeout: 30_000 });
  // Connected is the fleet monitor's judgement: the carts' births and traffic make them online.
  await ops.waitForFunction(() => Number(document.querySelector('#tile-connected .n')?.textContent) > 0, null, { timeout: 20_000 });
  // The rate needs two readings of the ingest counter; the carts are busy, so it is above zero.
  await ops.waitForFunction(() => Number(document.querySelector('#tile-messages .n')?.textContent) > 0, null, { timeout: 20_000 });
  await ops.screenshot({ path: `${SHOTS}/4-ops-fleet.png` });

  log('ops drill into the cart and see what staff did');
  await ops.click(`#fleet-table tr[data-cart="${cart}"]`);
  await ops.waitForSelector('#cart-events tbody tr', { timeout: 15_000 });
  await ops.waitForFunction((id) => {
    const text = document.querySelector('#cart-audit')?.textContent ?? '';
    return text.includes('POST /api/v1/sessions/{session}/override') && text.includes('PUT /api/v1/carts/{cart}/maintenance');
  }, cart, { timeout: 15_000 });
  // The cart's own statistics: what the server has counted of it.
  await ops.waitForFunction(() => Number(document.querySelector('#cart-stats [data-messages]')?.getAttribute('data-messages')) > 0,
                            null, { timeout: 15_000 });
  // Its link as the monitor judges it, with the transitions that led there.
  await ops.waitForSelector('#cart-connectivity [data-link="online"]', { timeout: 15_000 });
  await ops.screenshot({ path: `${SHOTS}/5-ops-cart-drilldown.png` });

  log('ops open the fleet-health charts');
  await ops.click('header nav button:has-text("Fleet health")');
  await ops.waitForFunction(() => (document.querySelector('#chart-connected path[data-series="connected"]')?.getAttribute('d') ?? '').length > 0,
                            null, { timeout: 20_000 });
  await ops.screenshot({ path: `${SHOTS}/6-ops-fleet-health.png` });

  log('ops open the alarms');
  await ops.click('header nav button:has-text("Alarms")');
  await ops.waitForSelector('#alarms-active h2', { timeout: 15_000 });
  await ops.screenshot({ path: `${SHOTS}/7-ops-alarms.png` });

  log('ops start a firmware rollout, halt it, release it and abort it');
  await ops.click('header nav button:has-text("Rollouts")');
  const firmware = env('CW_FIRMWARE');
  await ops.waitForSelector(`select[name=version] option[value="${firmware}"]`, { state: 'attached', timeout: 15_000 });
  await ops.selectOption('select[name=version]', firmware);
  await ops.selectOption('select[name=plan]', 'quick');
  await ops.fill('input[name=pace]', '600');
  await ops.fill('input[name=jitter]', '0s');
  await ops.click('#rollout-start');
  await ops.waitForSelector('#rollouts-table tr[data-state="running"]', { timeout: 15_000 });
  // The canary's two jobs go out (the engine sends them within its tick); the rest wait.
  await ops.waitForFunction(() => document.querySelectorAll('#rollout-jobs tr[data-state="IN_PROGRESS"], #rollout-jobs tr[data-state="SUCCEEDED"]').length === 2,
                            null, { timeout: 30_000 });
  await ops.screenshot({ path: `${SHOTS}/8-ops-rollout.png` });
  await ops.click('#rollouts-table tr[data-state="running"] button[data-action="halt"]');
  await ops.waitForSelector('#rollouts-table tr[data-state="halted"]', { timeout: 15_000 });
  await ops.click('#rollouts-table tr[data-state="halted"] button[data-action="release"]');
  await ops.waitForSelector('#rollouts-table tr[data-state="running"]', { timeout: 15_000 });
  ops.once('dialog', (d) => d.accept());
  await ops.click('#rollouts-table tr[data-state="running"] button[data-action="abort"]');
  await ops.waitForSelector('#rollouts-table tr[data-state="aborted"]', { timeout: 15_000 });
  console.log('e2e: every step held');
} catch (e) {
  console.error(`e2e failed at "${step}": ${e.message}`);
  process.exitCode = 1;
  for (const [i, p] of pages.entries()) {
    const message = await p.locator('#action-message').textContent({ timeout: 1000 }).catch(() => '');
    if (message) console.error(`page ${i} says: ${message}`);
    await p.screenshot({ path: `${SHOTS}/failed-${i}.png` }).catch(() => {});
  }
} finally {
  await browser.close();
}
