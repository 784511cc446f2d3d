// The ops dashboard (/): fleet health tiles, the fleet table with filters, a per-cart drill-down
// (connectivity, recent events, battery sparkline, faults, audit trail), the ingest's rejects and
// the alarms, and the staged OTA rollouts.
import { Alarms, Api, AuditEntry, CartConnectivity, CartDetail, CartRow, CartStats, FirmwareRelease, FleetDiff, FleetHealth, IngestStats, Page, Reject, Rollout, RolloutStage, Store, StoredEvent } from './api';
import { ago, errorText, h, loginForm, money, mount, poll, stateBadge, svg, time } from './ui';

const api = new Api();
const app = document.getElementById('app')!;
let stopPolling = () => {};

type View = { kind: 'fleet' } | { kind: 'cart'; id: string } | { kind: 'rejects' } | { kind: 'alarms' } | { kind: 'health' } | { kind: 'pipeline' } | { kind: 'rollouts' };
const filters = { store: '', region: '', firmware: '', battery_below: '' };

function start(): void {
  stopPolling();
  api.onSignedOut = start;
  if (!api.me) {
    mount(app, loginForm(api, 'Cartwright fleet operations', true, start));
    return;
  }
  show({ kind: 'fleet' });
}

function header(view: View): HTMLElement {
  const tab = (label: string, target: View) =>
    h('button', { class: view.kind === target.kind ? 'active' : '', onclick: () => show(target) }, label);
  return h(
    'header',
    { class: 'bar' },
    h('h1', {}, 'Cartwright · fleet operations'),
    h('nav', {}, tab('Fleet', { kind: 'fleet' }), tab('Fleet health', { kind: 'health' }), tab('Pipeline', { kind: 'pipeline' }),
      tab('Rejects', { kind: 'rejects' }), tab('Alarms', { kind: 'alarms' }), tab('Rollouts', { kind: 'rollouts' })),
    h('span', { class: 'who' }, `${api.me?.name} (${api.me?.role})`),
    h('button', { onclick: () => api.logout() }, 'Sign out'),
  );
}

function show(view: View): void {
  stopPolling();
  const main = h('main');
  mount(app, header(view), main);
  const render =
    view.kind === 'fleet' ? fleetView(main)
    : view.kind === 'cart' ? cartView(main, view.id)
    : view.kind === 'alarms' ? alarmsView(main)
    : view.kind === 'health' ? healthView(main, 'fleet')
    : view.kind === 'pipeline' ? healthView(main, 'pipeline')
    : view.kind === 'rollouts' ? rolloutsView(main)
    : rejectsView(main);
  stopPolling = poll(render, 5000);
}

// ---- fleet ------------------------------------------------------------------------------------------

async function allFleet(query: Record<string, string>): Promise<CartRow[]> {
  const rows: CartRow[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.get<Page<CartRow>>('/api/v1/fleet', { ...query, limit: 500, cursor });
    rows.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && rows.length < 5000);
  return rows;
}

// Messages per minute from the ingest's running count, the way Prometheus's rate() works: the
// difference between readings about a minute apart, timed by the server, so no cart's clock
// (simulated carts run fast) skews it. A restarted server resets the count and the window.
const readings: { at: number; received: number }[] = [];
function messageRate(now: IngestStats): number | null {
  const at = Date.parse(now.at);
  if (readings.length && (now.received < readings[readings.length - 1].received || at <= readings[readings.length - 1].at)) {
    readings.length = 0;
  }
  readings.push({ at, received: now.received });
  while (readings.length > 2 && at - readings[1].at >= 60_000) readings.shift();
  if (readings.length < 2) return null;
  const first = readings[0];
  return ((now.received - first.received) * 60_000) / (at - first.at);
}

function fleetView(main: HTMLElement): () => Promise<void> {
  const tiles = h('div', { class: 'tiles', id: 'tiles' });
  const table = h('div', { class: 'scroll' });
  const missing = h('section', { class: 'panel', id: 'fleet-missing' });
  const storeSel = h('select', { name: 'store' }, h('option', { value: '' }, 'all stores')) as HTMLSelectElement;
  const regionSel = h('select', { name: 'region' }, ...['', 'eu', 'us'].map((r) => h('option', { value: r }, r || 'all regions'))) as HTMLSelectElement;
  const fw = h('input', { name: 'firmware', placeholder: 'e.g. 1.4.2', size: 10 }) as HTMLInputElement;
  const battery = h('input', { name: 'battery_below', type: 'number', min: 1, max: 101, placeholder: '%', style: 'width:6em' }) as HTMLInputElement;
  storeSel.value = filters.store;
  regionSel.value = filters.region;
  fw.value = filters.firmware;
  battery.value = filters.battery_below;
  let refresh = async () => {};
  const apply = () => {
    Object.assign(filters, { store: storeSel.value, region: regionSel.value, firmware: fw.value.trim(), battery_below: battery.value });
    void refresh();
  };
  for (const el of [storeSel, regionSel, fw, battery]) el.addEventListener('change', apply);
  void api.get<{ items: Store[] }>('/api/v1/stores').then((s) => {
    for (const st of s.items) storeSel.append(h('option', { value: st.id }, `${st.id} · ${st.name}`));
    storeSel.value = filters.store;
  });
  main.append(
    tiles,
    missing,
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'Fleet'),
      h('div', { class: 'filters' }, h('label', {}, 'Store', storeSel), h('label', {}, 'Region', regionSel),
        h('label', {}, 'Firmware', fw), h('label', {}, 'Battery below', battery)),
      table,
    ),
  );
  refresh = async () => {
    const [everything, shown, rejects, counters, alarms, diff] = await Promise.all([
      allFleet({}),
      allFleet({ store: filters.store, region: filters.region, firmware: filters.firmware, battery_below: filters.battery_below }),
      api.get<Page<Reject>>('/api/v1/rejects', { limit: 500 }),
      api.get<IngestStats>('/api/v1/ingest/stats').catch(() => null),
      api.get<Alarms>('/api/v1/alarms', { limit: 1 }).catch(() => null),
      api.get<FleetDiff>('/api/v1/fleet/diff').catch(() => null),
    ]);
    const rate = counters ? messageRate(counters) : null;
    const count = (state: string) => everything.filter((c) => c.state === state).length;
    const hourAgo = Date.now() - 3_600_000;
    const recentRejects = rejects.items.filter((r) => Date.parse(r.received_at) > hourAgo).length;
    const tile = (n: number | string, l: string, id: string) => h('div', { class: 'tile', id }, h('div', { class: 'n' }, n), h('div', { class: 'l' }, l));
    // Connected is the fleet monitor's judgement (online: heard from within the cart's cadence);
    // carts out of service are not expected online, connected or not.
    const inService = everything.filter((c) => !c.maintenance);
    const link = (state: string) => inService.filter((c) => c.connectivity?.state === state).length;
    const firing = alarms ? alarms.active.filter((a) => a.state === 'firing').length : 0;
    mount(
      tiles,
      // The fleet diff also leaves out carts whose store is closed by its opening hours.
      diff ? tile(diff.connected, `connected of ${diff.expected} expected online`, 'tile-connected')
        : tile(link('online'), `connected of ${inService.length} expected online`, 'tile-connected'),
      tile(link('stale'), 'stale (silent past their cadence)', 'tile-stale'),
      h('div', { class: `tile${firing ? ' alert' : ''}`, id: 'tile-alarms', onclick: () => show({ kind: 'alarms' }) },
        h('div', { class: 'n' }, alarms ? firing : '–'), h('div', { class: 'l' }, 'alarms firing')),
      tile(rate === null ? '…' : Math.round(rate), rate === null ? 'messages/min (measuring)' : 'messages/min', 'tile-messages'),
      tile(recentRejects >= 500 ? '500+' : recentRejects, 'rejects in the last hour', 'tile-rejects'),
      tile(count('fault'), 'carts in fault', 'tile-faults'),
      tile(count('low_battery'), 'low battery', 'tile-low-battery'),
      tile(count('maintenance'), 'in maintenance', 'tile-maintenance'),
    );
    mount(
      table,
      h(
        'table',
        { id: 'fleet-table' },
        h('thead', {}, h('tr', {}, ...['Cart', 'Store', 'State', 'Battery', 'Link', 'RSSI', 'Firmware', 'Last seen'].map((t) => h('th', {}, t)))),
        h(
          'tbody',
          {},
          ...shown.map((c) =>
            h(
              'tr',
              { class: 'clickable', 'data-cart': c.cart_id, onclick: () => show({ kind: 'cart', id: c.cart_id }) },
              h('td', {}, c.cart_id),
              h('td', {}, c.store_id),
              h('td', {}, stateBadge(c.state)),
              h('td', {}, c.battery_pct === null ? '–' : `${c.battery_pct}%${c.charging ? ' ⚡' : ''}`),
              h('td', { 'data-link': c.connectivity?.state ?? 'unknown' }, `${c.connectivity?.state ?? '–'}${c.link ? ` · ${c.link}` : ''}`),
              h('td', {}, c.rssi_dbm === null ? '–' : `${c.rssi_dbm} dBm`),
              h('td', {}, c.firmware ?? '–'),
              h('td', {}, ago(c.last_seen_at)),
            ),
          ),
        ),
      ),
      shown.length === 0 ? h('p', { class: 'muted' }, 'No carts match.') : null,
    );
    missing.hidden = !(diff && diff.missing.length);
    mount(missing, ...(diff && diff.missing.length ? [
      h('h2', {}, `Expected online, not connected (${diff.missing.length})`),
      h('table', { id: 'missing-table' }, h('tbody', {}, ...diff.missing.slice(0, 50).map((m) =>
        h('tr', { class: 'clickable', onclick: () => show({ kind: 'cart', id: m.cart_id }) },
          h('td', {}, m.cart_id), h('td', {}, m.store_id), h('td', {}, m.state), h('td', {}, m.cause.replace(/_/g, ' ')),
          h('td', {}, m.since ? ago(m.since) : '–'))))),
      diff.closed_stores.length ? h('p', { class: 'muted' }, `Closed now by their hours: ${diff.closed_stores.join(', ')}`) : null,
    ] : []));
  };
  return refresh;
}

// ---- one cart ---------------------------------------------------------------------------------------

function sparkline(values: number[]): SVGElement {
  const w = 200, hgt = 40;
  if (values.length < 2) return svg('svg', { class: 'spark', viewBox: `0 0 ${w} ${hgt}` });
  const pts = values.map((v, i) => `${(i / (values.length - 1)) * w},${hgt - (Math.max(0, Math.min(100, v)) / 100) * hgt}`).join(' ');
  return svg('svg', { class: 'spark', viewBox: `0 0 ${w} ${hgt}`, preserveAspectRatio: 'none', id: 'battery-spark' },
    svg('polyline', { points: pts, fill: 'none', stroke: '#1f6feb', 'stroke-width': 1.5 }));
}

function cartView(main: HTMLElement, id: string): () => Promise<void> {
  const top = h('section', { class: 'panel', id: 'cart-detail' });
  const events = h('section', { class: 'panel' });
  const faults = h('section', { class: 'panel' });
  const audit = h('section', { class: 'panel', id: 'cart-audit' });
  const link = h('section', { class: 'panel', id: 'cart-connectivity' });
  main.append(h('div', {}, h('button', { onclick: () => show({ kind: 'fleet' }) }, '← Fleet')), top,
    h('div', { class: 'split' }, events, h('div', {}, link, faults, audit)));
  return async () => {
    try {
      const [cart, recent, health, faultEvents, trail, stats] = await Promise.all([
        api.get<CartDetail>(`/api/v1/carts/${id}`),
        api.get<Page<StoredEvent>>(`/api/v1/carts/${id}/events`, { limit: 25 }),
        api.get<Page<StoredEvent>>(`/api/v1/carts/${id}/events`, { type: 'health', limit: 60 }),
        api.get<Page<StoredEvent>>(`/api/v1/carts/${id}/events`, { type: 'fault', limit: 10 }),
        api.get<Page<AuditEntry>>(`/api/v1/carts/${id}/audit`, { limit: 500 }),
        api.get<CartStats>(`/api/v1/carts/${id}/stats`, { window: '15m' }).catch(() => null),
      ]);
      const connectivity = await api.get<CartConnectivity>(`/api/v1/carts/${id}/connectivity`, { limit: 10 });
      mount(link, h('h2', {}, 'Connectivity'),
        h('p', { 'data-link': connectivity.state }, h('strong', {}, connectivity.state),
          ` since ${connectivity.since ? time(connectivity.since) : '–'} (${connectivity.cause.replace(/_/g, ' ')})`),
        h('table', {}, h('tbody', {}, ...connectivity.transitions.map((t) =>
          h('tr', {}, h('td', {}, time(t.at)), h('td', {}, `${t.from} → ${t.to}`), h('td', {}, t.cause.replace(/_/g, ' ')))))));
      const ms = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${v} ms`);
      const battery = health.items.map((e) => Number(e.event['battery_pct'])).reverse();
      const s = cart.open_session;
      mount(
        top,
        h('h2', {}, `${cart.cart_id} · ${cart.store_id}`),
        h('div', { class: 'split' },
          h('dl', { class: 'kv' },
            h('dt', {}, 'State'), h('dd', {}, stateBadge(cart.state)),
            h('dt', {}, 'Battery'), h('dd', {}, cart.battery_pct === null ? '–' : `${cart.battery_pct}%`),
            h('dt', {}, 'Link'), h('dd', {}, `${cart.link ?? '–'} ${cart.rssi_dbm ?? ''} dBm`),
            h('dt', {}, 'Firmware'), h('dd', {}, cart.firmware ?? '–'),
            h('dt', {}, 'Last seen'), h('dd', {}, ago(cart.last_seen_at)),
            h('dt', {}, 'Serial'), h('dd', {}, cart.serial),
            h('dt', {}, 'Session'), h('dd', {}, s ? `${s.status}, ${s.scan_count} items, ${money(s.scan_total_cents)}` : 'none')),
          stats ? h('dl', { class: 'kv', id: 'cart-stats' },
            h('dt', {}, 'Messages'), h('dd', { 'data-messages': stats.messages }, `${stats.messages} (${stats.late} late)`),
            h('dt', {}, 'Rejects'), h('dd', {}, stats.rejects),
            h('dt', {}, 'Faults'), h('dd', {}, stats.faults),
            h('dt', {}, 'Latency, 15 min'), h('dd', {}, `p50 ${ms(stats.latency.p50_ms)} · p95 ${ms(stats.latency.p95_ms)} · p99 ${ms(stats.latency.p99_ms)}`),
            h('dt', {}, ''), h('dd', { class: 'muted' }, `${stats.latency.samples} live events, since the server started`)) : null,
          h('div', {}, h('div', { class: 'muted' }, `Battery, last ${battery.length} health reports`), sparkline(battery))),
      );
      mount(events, h('h2', {}, 'Recent events'), h('div', { class: 'scroll' }, h('table', { id: 'cart-events' },
        h('thead', {}, h('tr', {}, ...['Time', 'Seq', 'Type', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, ...recent.items.map((e) => h('tr', {}, h('td', {}, time(e.ts)), h('td', {}, e.seq), h('td', {}, e.type), h('td', {}, e.late ? 'late' : '')))))));
      mount(faults, h('h2', {}, 'Faults'), faultEvents.items.length === 0 ? h('p', { class: 'muted' }, 'None stored.') :
        h('table', {}, h('tbody', {}, ...faultEvents.items.map((e) => h('tr', {}, h('td', {}, time(e.ts)), h('td', {}, String(e.event['code'])), h('td', {}, String(e.event['severity'])))))));
      mount(audit, h('h2', {}, 'Audit trail'), h('div', { class: 'scroll' }, h('table', {},
        h('tbody', {}, ...trail.items.slice().reverse().map((a) => h('tr', {}, h('td', {}, time(a.at)), h('td', {}, `${a.actor} (${a.role})`), h('td', {}, a.action), h('td', {}, a.outcome)))))));
    } catch (e) {
      mount(top, h('p', { class: 'error' }, errorText(e)));
    }
  };
}

// ---- fleet and pipeline health --------------------------------------------------------------------

const COLORS = ['#1f6feb', '#d1242f', '#2da44e', '#8250df', '#d29922', '#0a7d8c', '#6a7485', '#bf3989'];

// A line chart of named series over the same times; gaps where a value is null.
function chart(id: string, title: string, times: string[], lines: [string, (number | null)[]][], unit = ''): HTMLElement {
  const w = 560, hgt = 160, pad = 34;
  const values = lines.flatMap(([, v]) => v.filter((x): x is number => x !== null));
  const max = Math.max(1e-9, ...values);
  const x = (i: number) => pad + (times.length < 2 ? 0 : (i / (times.length - 1)) * (w - pad - 8));
  const y = (v: number) => hgt - 18 - (v / max) * (hgt - 30);
  const fmt = (v: number) => (unit === 's' ? `${(v * 1000).toFixed(v < 0.01 ? 1 : 0)} ms` : unit === '%' ? `${(v * 100).toFixed(1)}%` : `${+v.toFixed(1)}`);
  const paths = lines.map(([name, v], k) => {
    let d = '';
    v.forEach((val, i) => { if (val !== null) d += `${d && v[i - 1] !== null ? 'L' : 'M'}${x(i).toFixed(1)},${y(val).toFixed(1)}`; });
    // A value with no neighbour (the first minute of a server's history) shows as a dot.
    const dots = v.map((val, i) => (val !== null && (v[i - 1] ?? null) === null && (v[i + 1] ?? null) === null
      ? svg('circle', { cx: x(i).toFixed(1), cy: y(val).toFixed(1), r: 2.5, fill: COLORS[k % COLORS.length] }) : null));
    return svg('g', {}, svg('path', { d, fill: 'none', stroke: COLORS[k % COLORS.length], 'stroke-width': 1.6, 'data-series': name }), ...dots);
  });
  const last = (v: (number | null)[]) => [...v].reverse().find((val) => val !== null);
  return h('section', { class: 'panel chart', id },
    h('h2', {}, title),
    svg('svg', { viewBox: `0 0 ${w} ${hgt}`, class: 'chart-svg' },
      svg('line', { x1: pad, y1: hgt - 18, x2: w - 8, y2: hgt - 18, stroke: '#dde1e8' }),
      svg('text', { x: 2, y: 14, 'font-size': 11, fill: '#6a7485' }, fmt(max)),
      svg('text', { x: 2, y: hgt - 20, 'font-size': 11, fill: '#6a7485' }, '0'),
      svg('text', { x: pad, y: hgt - 4, 'font-size': 11, fill: '#6a7485' }, times.length ? time(times[0]) : ''),
      svg('text', { x: w - 8, y: hgt - 4, 'font-size': 11, fill: '#6a7485', 'text-anchor': 'end' }, times.length ? time(times[times.length - 1]) : ''),
      ...paths),
    h('div', { class: 'legend' }, ...lines.map(([name, v], k) => {
      const now = last(v);
      return h('span', {}, h('i', { style: `background:${COLORS[k % COLORS.length]}` }), `${name}${now === undefined ? '' : ` ${fmt(now)}`}`);
    })));
}

function healthView(main: HTMLElement, which: 'fleet' | 'pipeline'): () => Promise<void> {
  const grid = h('div', { class: 'charts', id: `${which}-health` });
  main.append(grid);
  return async () => {
    try {
      const r = await api.get<FleetHealth>('/api/v1/fleet/health', { window: '1h', step: '1m' });
      const t = r.times;
      if (which === 'fleet') {
        const f = r.fleet;
        mount(grid,
          chart('chart-connected', 'Connected carts', t, [['connected', f.connected], ['expected online', f.expected_online], ['stale', f.stale], ['offline', f.offline]]),
          chart('chart-messages', 'Messages per minute by type', t, Object.entries(f.messages_per_min)),
          chart('chart-latency', 'Publish-to-cloud latency (live events)', t, [['p50', f.latency_p50_s], ['p95', f.latency_p95_s], ['p99', f.latency_p99_s]], 's'),
          chart('chart-auth', 'Authentication failures per minute', t, [['refused', f.auth_failures_per_min]]),
          chart('chart-errors', 'Ingest error rate', t, [['errors / received', f.error_rate]], '%'));
      } else {
        const p = r.pipeline;
        mount(grid,
          chart('chart-pipeline-errors', 'Ingest errors per minute', t, [['failed writes', p.commit_failures_per_min], ['failed sinks', p.sink_failures_per_min], ...Object.entries(p.rejects_per_min).filter(([, v]) => v.some((x) => x))]),
          chart('chart-write', 'Store write latency (one durable batch)', t, [['p50', p.write_p50_s], ['p99', p.write_p99_s]], 's'),
          chart('chart-queue', 'Queue depth', t, [['waiting for the committer', p.queue_depth]]),
          chart('chart-rejects', 'Rejects by reason per minute', t, Object.entries(p.rejects_per_min)),
          chart('chart-stored', 'Stored and duplicates per minute', t, [['stored', p.stored_per_min], ['duplicates', p.duplicates_per_min]]));
      }
    } catch (e) {
      mount(grid, h('p', { class: 'error' }, errorText(e)));
    }
  };
}

// ---- alarms -----------------------------------------------------------------------------------------

function alarmsView(main: HTMLElement): () => Promise<void> {
  const active = h('section', { class: 'panel', id: 'alarms-active' });
  const history = h('section', { class: 'panel', id: 'alarms-history' });
  main.append(active, history);
  const name = (alarm: string, subject: string | null) => (subject ? `${alarm} · ${subject}` : alarm);
  return async () => {
    try {
      const a = await api.get<Alarms>('/api/v1/alarms', { limit: 100 });
      mount(active, h('h2', {}, 'Now'), a.active.length === 0 ? h('p', { class: 'muted' }, 'All quiet: nothing pending or firing.') :
        h('table', {}, h('thead', {}, h('tr', {}, ...['Alarm', 'State', 'Severity', 'Since', 'What'].map((t) => h('th', {}, t)))),
          h('tbody', {}, ...a.active.map((x) => h('tr', { 'data-alarm': x.alarm, 'data-state': x.state, class: x.state === 'firing' ? 'alert' : '' },
            h('td', {}, name(x.alarm, x.subject)), h('td', {}, x.state), h('td', {}, x.severity), h('td', {}, time(x.since)), h('td', {}, x.summary))))));
      mount(history, h('h2', {}, 'History'), a.history.length === 0 ? h('p', { class: 'muted' }, 'No alarm has fired yet.') :
        h('table', {}, h('thead', {}, h('tr', {}, ...['At', 'Alarm', 'State', 'Severity', 'What'].map((t) => h('th', {}, t)))),
          h('tbody', {}, ...a.history.map((x) => h('tr', {},
            h('td', {}, time(x.at)), h('td', {}, name(x.alarm, x.subject)), h('td', {}, x.state), h('td', {}, x.severity), h('td', {}, x.summary))))));
    } catch (e) {
      mount(active, h('p', { class: 'error' }, errorText(e)));
    }
  };
}

// ---- rejects ----------------------------------------------------------------------------------------

function rejectsView(main: HTMLElement): () => Promise<void> {
  const reason = h('input', { name: 'reason', placeholder: 'e.g. bad_signature' }) as HTMLInputElement;
  const list = h('div', { class: 'scroll' });
  let refresh = async () => {};
  reason.addEventListener('change', () => void refresh());
  main.append(h('section', { class: 'panel' }, h('h2', {}, 'Rejected messages (dead letters)'),
    h('div', { class: 'filters' }, h('label', {}, 'Reason', reason)), list));
  refresh = async () => {
    try {
      const page = await api.get<Page<Reject>>('/api/v1/rejects', { reason: reason.value.trim(), limit: 200 });
      mount(list, h('table', { id: 'rejects-table' },
        h('thead', {}, h('tr', {}, ...['Received', 'Cart', 'Reason', 'Detail'].map((t) => h('th', {}, t)))),
        h('tbody', {}, ...page.items.map((r) => h('tr', {}, h('td', {}, time(r.received_at)), h('td', {}, r.cart_id ?? '–'), h('td', {}, r.reason), h('td', {}, r.detail))))),
        page.items.length === 0 ? h('p', { class: 'muted' }, 'No rejects.') : null);
    } catch (e) {
      mount(list, h('p', { class: 'error' }, errorText(e)));
    }
  };
  return refresh;
}

// ---- rollouts ---------------------------------------------------------------------------------------

// Stage plans to start from: the product's default, and one that runs in minutes (the demo).
const STAGE_PLANS: Record<string, { label: string; stages?: RolloutStage[] }> = {
  default: { label: 'canary 10 carts for 24 h, then 1% for 72 h, 10% and 25% for 24 h, 100%' },
  quick: {
    label: 'quick: canary 2 carts for 1 min, 50% for 1 min, 100%',
    stages: [{ name: 'canary', carts: 2, duration: '1m' }, { name: '50%', percent: 50, duration: '1m' }, { name: '100%', percent: 100 }],
  },
};

function rolloutsView(main: HTMLElement): () => Promise<void> {
  const version = h('select', { name: 'version' }) as HTMLSelectElement;
  const plan = h('select', { name: 'plan' }, ...Object.entries(STAGE_PLANS).map(([k, p]) => h('option', { value: k }, p.label))) as HTMLSelectElement;
  const pace = h('input', { name: 'pace', type: 'number', min: 1, value: 60 }) as HTMLInputElement;
  const jitter = h('input', { name: 'jitter', value: '30s', size: 6 }) as HTMLInputElement;
  const message = h('p', { id: 'action-message', class: 'muted' });
  const list = h('section', { class: 'panel', id: 'rollouts' });
  const detail = h('section', { class: 'panel', id: 'rollout-detail' });
  let selected = '';
  let refresh = async () => {};
  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      message.className = 'muted';
      message.textContent = done;
    } catch (e) {
      message.className = 'error';
      message.textContent = errorText(e);
    }
    await refresh();
  };
  const startButton = h('button', { id: 'rollout-start', onclick: () => void act(async () => {
    const body: Record<string, unknown> = { version: version.value, pace_per_minute: Number(pace.value), jitter: jitter.value.trim() };
    const stages = STAGE_PLANS[plan.value].stages;
    if (stages) body.stages = stages;
    const r = await api.send<Rollout>('POST', '/api/v1/rollouts', body);
    selected = r.id;
  }, `Rollout of ${version.value || '?'} started.`) }, 'Start rollout');
  main.append(
    h('section', { class: 'panel' }, h('h2', {}, 'Start a rollout'),
      h('div', { class: 'filters' }, h('label', {}, 'Firmware', version), h('label', {}, 'Stages', plan), h('label', {}, 'Jobs per minute', pace), h('label', {}, 'Jitter', jitter), startButton),
      h('p', { class: 'muted' }, 'The next stage is held automatically when a cart rolls back or the new version errs 1.5× more than the old; release it here.'),
      message),
    list, detail);
  const pct = (x: number) => `${x.toFixed(1)}%`;
  const buttons = (r: Rollout) => h('td', { class: 'actions' },
    r.state === 'running' ? h('button', { 'data-action': 'halt', onclick: (e: Event) => { e.stopPropagation(); void act(() => api.send('POST', `/api/v1/rollouts/${r.id}/halt`, { reason: 'from the dashboard' }), 'Halted.'); } }, 'Halt') : null,
    r.state === 'halted' ? h('button', { 'data-action': 'release', onclick: (e: Event) => { e.stopPropagation(); void act(() => api.send('POST', `/api/v1/rollouts/${r.id}/release`, {}), 'Released.'); } }, 'Release') : null,
    r.state === 'running' || r.state === 'halted'
      ? h('button', { 'data-action': 'abort', onclick: (e: Event) => { e.stopPropagation(); if (confirm(`Abort the rollout of ${r.version}? Jobs not yet sent are withdrawn.`)) void act(() => api.send('POST', `/api/v1/rollouts/${r.id}/abort`, {}), 'Aborted.'); } }, 'Abort')
      : null);
  refresh = async () => {
    try {
      const [releases, rollouts] = await Promise.all([
        api.get<{ releases: FirmwareRelease[] }>('/api/v1/firmware'),
        api.get<{ rollouts: Rollout[] }>('/api/v1/rollouts'),
      ]);
      const keep = version.value;
      mount(version, ...releases.releases.map((f) => h('option', { value: f.version }, f.simulated_defect ? `${f.version} (test image: ${f.simulated_defect})` : f.version)));
      if (keep) version.value = keep;
      (startButton as HTMLButtonElement).disabled = releases.releases.length === 0;
      if (!selected && rollouts.rollouts.length) selected = rollouts.rollouts[0].id;
      mount(list, h('h2', {}, 'Rollouts'), rollouts.rollouts.length === 0 ? h('p', { class: 'muted' }, 'No rollout yet. Upload a release with `cartwright firmware upload`, then start one above.') :
        h('table', { id: 'rollouts-table' },
          h('thead', {}, h('tr', {}, ...['Firmware', 'State', 'Stage', 'Carts', 'On new version', 'Rolled back', 'Why halted', ''].map((t) => h('th', {}, t)))),
          h('tbody', {}, ...rollouts.rollouts.map((r) => h('tr', {
            'data-rollout': r.id, 'data-state': r.state, class: `${r.state === 'halted' ? 'alert ' : ''}${r.id === selected ? 'selected' : ''}`,
            onclick: () => { selected = r.id; void refresh(); },
          },
          h('td', {}, r.version), h('td', { class: 'state' }, r.state), h('td', {}, `${r.stage + 1}/${r.stages.length} ${r.stage_name}`), h('td', {}, r.carts),
          h('td', { 'data-new': r.on_new_version_pct }, pct(r.on_new_version_pct)), h('td', {}, pct(r.rolled_back_pct)), h('td', {}, r.halt_reason), buttons(r))))));
      if (!selected) {
        mount(detail);
        return;
      }
      const r = await api.get<Rollout>(`/api/v1/rollouts/${selected}`);
      const counts = Object.entries(r.jobs_by_state).map(([k, v]) => h('span', { class: 'pill', 'data-job-state': k, 'data-n': v }, `${k} ${v}`));
      mount(detail, h('h2', {}, `Rollout of ${r.version} · started by ${r.created_by} ${ago(r.created_at)}`), h('p', {}, ...counts),
        h('div', { class: 'scroll' }, h('table', { id: 'rollout-jobs' },
          h('thead', {}, h('tr', {}, ...['Cart', 'Stage', 'State', 'From', 'Sent', 'Detail'].map((t) => h('th', {}, t)))),
          h('tbody', {}, ...(r.jobs ?? []).map((j) => h('tr', { 'data-cart': j.cart, 'data-state': j.state, class: j.state === 'ROLLED_BACK' || j.state === 'FAILED' ? 'alert' : '' },
            h('td', {}, j.cart), h('td', {}, r.stages[j.stage]?.name ?? j.stage), h('td', {}, j.state), h('td', {}, j.from_version),
            h('td', {}, j.sent_at ? time(j.sent_at) : '–'), h('td', {}, j.detail)))))));
    } catch (e) {
      mount(list, h('p', { class: 'error' }, errorText(e)));
    }
  };
  return refresh;
}

start();
