// DOM helpers shared by the pages. Text always goes in as text nodes, never as HTML, so nothing a
// cart or a user sent can become markup.
import './style.css';
import { Api, ApiError } from './api';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  setAttrs(el, attrs);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function mount(root: Element, ...children: Child[]): void {
  root.replaceChildren();
  for (const c of children) if (c !== null && c !== undefined && c !== false) root.append(c instanceof Node ? c : String(c));
}

export function money(cents: number): string {
  return (cents / 100).toFixed(2);
}

export function ago(iso: string | null): string {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function time(iso: string): string {
  return new Date(iso).toLocaleTimeString();
}

export const STATE_LABEL: Record<string, string> = {
  idle: 'idle',
  in_use: 'in use',
  low_battery: 'low battery',
  fault: 'fault',
  offline: 'offline',
  maintenance: 'maintenance',
};

export function stateBadge(state: string): HTMLElement {
  return h('span', { class: `badge state-${state}`, 'data-state': state }, STATE_LABEL[state] ?? state);
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.body.message} (${e.status} ${e.body.code})`;
  return e instanceof Error ? e.message : String(e);
}

// The login form; `withTotp` adds the one-time code field (ops).
export function loginForm(api: Api, title: string, withTotp: boolean, onDone: () => void): HTMLElement {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true }) as HTMLInputElement;
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true }) as HTMLInputElement;
  const totp = h('input', { name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}' }) as HTMLInputElement;
  const msg = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { class: 'login' },
    h('h1', {}, title),
    h('label', {}, 'User', user),
    h('label', {}, 'Password', pass),
    withTotp && h('label', {}, 'One-time code (ops)', totp),
    h('button', { type: 'submit' }, 'Sign in'),
    msg,
  ) as HTMLFormElement;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    try {
      await api.login(user.value.trim(), pass.value, totp.value.trim());
      onDone();
    } catch (e) {
      msg.textContent = errorText(e);
    }
  });
  return form;
}

// Calls `fn` now and every `ms` while the page is visible; returns a stop function.
export function poll(fn: () => Promise<void>, ms: number): () => void {
  let stopped = false;
  let timer = 0;
  const tick = async () => {
    if (stopped) return;
    if (document.visibilityState === 'visible') {
      try {
        await fn();
      } catch (e) {
        console.warn('refresh failed', e);
      }
    }
    if (!stopped) timer = window.setTimeout(tick, ms);
  };
  void tick();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
