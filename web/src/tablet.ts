// The staff tablet (/tablet/): the store's floor plan with carts coloured by state, a cart's
// detail with the session override (proximity token from the cart over BLE — in the demo, from
// cartsim's loopback BLE bridge) and the maintenance toggle, the loss-prevention list and the
// fleet status of the store.
import { Api, CartDetail, CartRow, Page, SessionSummary, Store } from './api';
import { ago, errorText, h, loginForm, money, mount, poll, STATE_LABEL, stateBadge, svg } from './ui';

const api = new Api();
const app = document.getElementById('app')!;
let stopPolling = () => {};
let selected: string | null = null;
let storeId = '';

// Where the tablet's "BLE radio" is: a real tablet talks Bluetooth to the cart; the demo's
// simulated carts answer on cartsim's bridge.
const params = new URLSearchParams(location.search);
if (params.get('bridge')) localStorage.setItem('cartwright.bridge', params.get('bridge')!);
const bridge = () => localStorage.getItem('cartwright.bridge') ?? 'http://127.0.0.1:8090';

function start(): void {
  stopPolling();
  api.onSignedOut = start;
  if (!api.me) {
    mount(app, loginForm(api, 'Cartwright store floor', true, start));
    return;
  }
  void chooseStore();
}

async function chooseStore(): Promise<void> {
  const stores = (await api.get<{ items: Store[] }>('/api/v1/stores')).items;
  storeId = api.me?.store_id ?? stores[0]?.id ?? '';
  const sel = h('select', { name: 'store' }, ...stores.map((s) => h('option', { value: s.id }, s.name))) as HTMLSelectElement;
  sel.value = storeId;
  sel.addEventListener('change', () => {
    storeId = sel.value;
    selected = null;
    void render();
  });
  const floor = h('section', { class: 'panel', id: 'floor' });
  const detail = h('section', { class: 'panel', id: 'cart-panel' }, h('p', { class: 'muted' }, 'Tap a cart on the floor plan.'));
  const loss = h('section', { class: 'panel', id: 'loss-prevention' });
  const status = h('section', { class: 'panel', id: 'fleet-status' });
  const bridgeInput = h('input', { value: bridge(), size: 28 }) as HTMLInputElement;
  bridgeInput.addEventListener('change', () => localStorage.setItem('cartwright.bridge', bridgeInput.value.trim()));
  mount(
    app,
    h('header', { class: 'bar' }, h('h1', {}, 'Store floor'), stores.length > 1 ? sel : h('span', {}, stores[0]?.name ?? ''),
      h('span', { class: 'who' }, `${api.me?.name}`), h('button', { onclick: () => api.logout() }, 'Sign out')),
    h('main', {}, h('div', { class: 'split' }, floor, detail), h('div', { class: 'split' }, loss, status),
      h('label', {}, 'BLE bridge (demo)', bridgeInput)),
  );
  const render = async () => {
    const rows = await storeCarts();
    drawFloor(floor, rows);
    drawStatus(status, rows);
    const flagged = await api.get<Page<SessionSummary>>(`/api/v1/stores/${storeId}/loss-prevention`);
    drawLoss(loss, flagged.items);
    if (selected) await drawCart(detail, selected);
  };
  renderNow = render;
  stopPolling = poll(render, 3000);
}
let renderNow: () => Promise<void> = async () => {};
const render = () => renderNow();

async function storeCarts(): Promise<CartRow[]> {
  const rows: CartRow[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.get<Page<CartRow>>(`/api/v1/stores/${storeId}/carts`, { limit: 500, cursor });
    rows.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return rows;
}

function drawFloor(panel: HTMLElement, rows: CartRow[]): void {
  const placed = rows.filter((c) => typeof c.location?.x_m === 'number' && typeof c.location?.y_m === 'number');
  const unplaced = rows.filter((c) => !placed.includes(c));
  // The simulated stores are 60 × 40 m; a bigger one grows the plan.
  const width = Math.max(62, ...placed.map((c) => c.location!.x_m! + 3));
  const height = Math.max(42, ...placed.map((c) => c.location!.y_m! + 3));
  const strip = unplaced.length ? 5 : 0;
  const dot = (c: CartRow, x: number, y: number) =>
    svg('g', { 'data-cart': c.cart_id, 'data-state': c.state, onclick: () => { selected = c.cart_id; void render(); } },
      svg('circle', { cx: x, cy: y, r: 1.1, style: `fill: var(--${c.state})`, class: c.cart_id === selected ? 'selected' : '' },
        svg('title', {}, `${c.cart_id}: ${STATE_LABEL[c.state]}`)),
      svg('text', { x, y: y + 2.3, 'font-size': 1.1, 'text-anchor': 'middle' }, c.cart_id.slice(-3)));
  // A 10 m grid gives staff a sense of distance without a store-specific map.
  const grid = [];
  for (let x = 10; x < width; x += 10) grid.push(svg('line', { x1: x, y1: 0.5, x2: x, y2: height - 0.5, class: 'grid' }));
  for (let y = 10; y < height; y += 10) grid.push(svg('line', { x1: 0.5, y1: y, x2: width - 0.5, y2: y, class: 'grid' }));
  const plan = svg('svg', { class: 'floor', viewBox: `0 0 ${width} ${height + strip}`, role: 'img', 'aria-label': 'store floor plan' },
    svg('rect', { x: 0.5, y: 0.5, width: width - 1, height: height - 1, fill: 'none', stroke: '#c9d1d9', 'stroke-width': 0.2 }),
    ...grid,
    svg('text', { x: width - 1.5, y: height - 1.5, 'font-size': 1.2, 'text-anchor': 'end', class: 'scale' }, 'grid: 10 m'),
    ...placed.map((c) => dot(c, c.location!.x_m!, c.location!.y_m!)),
    ...unplaced.map((c, i) => dot(c, 2 + (i % 18) * 3.4, height + 2)));
  mount(panel, h('h2', {}, `Floor plan · ${rows.length} carts`), plan,
    h('div', { class: 'legend' }, ...Object.keys(STATE_LABEL).map((s) => stateBadge(s))),
    unplaced.length ? h('p', { class: 'muted' }, `Bottom row: ${unplaced.length} carts with no position (outside or never reported).`) : null);
}

function drawStatus(panel: HTMLElement, rows: CartRow[]): void {
  mount(panel, h('h2', {}, 'Fleet status'), h('div', { class: 'scroll' }, h('table', {},
    h('thead', {}, h('tr', {}, ...['Cart', 'State', 'Battery', 'Signal', 'Firmware'].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...rows.map((c) => h('tr', { class: 'clickable', onclick: () => { selected = c.cart_id; void render(); } },
      h('td', {}, c.cart_id), h('td', {}, stateBadge(c.state)),
      h('td', {}, c.battery_pct === null ? '–' : `${c.battery_pct}%`),
      h('td', {}, c.rssi_dbm === null ? '–' : `${c.link} ${c.rssi_dbm} dBm`), h('td', {}, c.firmware ?? '–')))))));
}

function drawLoss(panel: HTMLElement, sessions: SessionSummary[]): void {
  mount(panel, h('h2', {}, 'Loss prevention'), sessions.length === 0 ? h('p', { class: 'muted' }, 'Nothing flagged.') :
    h('table', {}, h('tbody', {}, ...sessions.map((s) => h('tr', { class: 'clickable', onclick: () => { selected = s.cart_id; void render(); } },
      h('td', {}, s.cart_id), h('td', {}, s.status),
      h('td', {}, s.exit_without_pay ? 'left without paying' : `${s.weight_mismatches} weight mismatch${s.weight_mismatches === 1 ? '' : 'es'}`),
      h('td', {}, money(s.scan_total_cents)))))));
}

let actionMessage = '';

async function drawCart(panel: HTMLElement, id: string): Promise<void> {
  let cart: CartDetail;
  try {
    cart = await api.get<CartDetail>(`/api/v1/carts/${id}`);
  } catch (e) {
    mount(panel, h('p', { class: 'error' }, errorText(e)));
    return;
  }
  const s = cart.open_session;
  const busy = (b: boolean) => panel.querySelectorAll('button').forEach((x) => ((x as HTMLButtonElement).disabled = b));
  const override = (action: 'pause' | 'cancel' | 'restart') => async () => {
    busy(true);
    try {
      // Proximity: the cart signs our challenge into a short-lived token for whoever stands next
      // to it, so the cloud can judge it by its own clock, whatever the cart's says.
      const { challenge } = await api.send<{ challenge: string }>('POST', `/api/v1/carts/${id}/proximity-challenge`, {});
      const res = await fetch(`${bridge()}/proximity/${id}?challenge=${challenge}`);
      if (!res.ok) throw new Error(`the cart did not hand out a proximity token (${res.status})`);
      const token = (await res.text()).trim();
      await api.send('POST', `/api/v1/sessions/${s!.id}/override`, { action, proximity_token: token, reason: 'staff tablet' });
      actionMessage = `${action} sent to ${id}; waiting for the cart to confirm`;
    } catch (e) {
      actionMessage = `override failed: ${errorText(e)}`;
    }
    await render();
  };
  const toggle = async () => {
    busy(true);
    try {
      const on = !cart.maintenance;
      await api.send('PUT', `/api/v1/carts/${id}/maintenance`, { in_maintenance: on, reason: on ? 'taken out by staff' : '' });
      actionMessage = on ? `${id} is out of service` : `${id} is back in service`;
    } catch (e) {
      actionMessage = `maintenance failed: ${errorText(e)}`;
    }
    await render();
  };
  mount(
    panel,
    h('h2', {}, cart.cart_id),
    h('dl', { class: 'kv' },
      h('dt', {}, 'State'), h('dd', { id: 'cart-state' }, stateBadge(cart.state)),
      h('dt', {}, 'Battery'), h('dd', {}, cart.battery_pct === null ? '–' : `${cart.battery_pct}%${cart.charging ? ' (charging)' : ''}`),
      h('dt', {}, 'Signal'), h('dd', {}, cart.rssi_dbm === null ? '–' : `${cart.link} ${cart.rssi_dbm} dBm`),
      h('dt', {}, 'Zone'), h('dd', {}, cart.location?.zone ?? '–'),
      h('dt', {}, 'Last seen'), h('dd', {}, ago(cart.last_seen_at)),
      h('dt', {}, 'Maintenance'), h('dd', {}, cart.maintenance ? cart.maintenance.reason || 'yes' : 'in service'),
      h('dt', {}, 'Session'), h('dd', { id: 'session-status', 'data-session': s?.id ?? '', 'data-status': s?.status ?? 'none' },
        s ? `${s.status} · ${s.scan_count} items · ${money(s.scan_total_cents)}${s.weight_mismatches ? ` · ${s.weight_mismatches} weight flags` : ''}` : 'none')),
    h('div', { class: 'actions' },
      h('button', { class: 'primary', id: 'override-pause', disabled: !s || s.status !== 'active', onclick: override('pause') }, 'Pause session'),
      h('button', { id: 'override-restart', disabled: !s, onclick: override('restart') }, 'Restart'),
      h('button', { class: 'danger', id: 'override-cancel', disabled: !s, onclick: override('cancel') }, 'Cancel session'),
      h('button', { id: 'maintenance-toggle', onclick: toggle }, cart.maintenance ? 'Back in service' : 'Out of service')),
    h('p', { id: 'action-message', class: actionMessage.includes('failed') ? 'error' : 'ok' }, actionMessage),
  );
}

start();
