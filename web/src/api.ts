// The REST API client both pages use: bearer tokens in sessionStorage (per tab, gone when the tab
// closes), one silent refresh on a 401, and errors as values with the API's code and field.

export interface ApiErrorBody {
  code: string;
  message: string;
  field: string | null;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public body: ApiErrorBody,
  ) {
    super(body.message);
  }
}

export interface Me {
  name: string;
  role: 'ops' | 'staff' | 'auditor';
  store_id: string | null;
}

export interface Store {
  id: string;
  name: string;
  region: string;
  timezone: string;
  opening_hours: string | null;
}

export type LocatorState = 'idle' | 'in_use' | 'low_battery' | 'fault' | 'offline' | 'maintenance';

export interface CartRow {
  cart_id: string;
  store_id: string;
  region: string;
  state: LocatorState;
  battery_pct: number | null;
  charging: boolean | null;
  link: string | null;
  rssi_dbm: number | null;
  firmware: string | null;
  activity: string | null;
  location: { x_m?: number; y_m?: number; zone?: string; lat?: number; lon?: number } | null;
  reported_at: string | null;
  last_seen_at: string | null;
  maintenance: { reason: string; since: string } | null;
  last_fault: { code: string; severity: string; at: string } | null;
  connectivity: Connectivity | null;
}

// The fleet monitor's judgement of a cart's link (docs/observability.md).
export interface Connectivity {
  state: 'online' | 'stale' | 'offline';
  since: string | null;
  cause: string;
  connection_started_at: string | null;
}

export interface CartConnectivity extends Connectivity {
  cart_id: string;
  transitions: { from: string; to: string; at: string; cause: string; connection_started_at: string | null }[];
  next_cursor: string | null;
}

export interface RolloutStage {
  name?: string;
  carts?: number;
  percent?: number;
  duration?: string;
}

export type JobState = 'QUEUED' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'ROLLED_BACK';

export interface Rollout {
  id: string;
  version: string;
  state: 'running' | 'halted' | 'completed' | 'aborted';
  stage: number;
  stage_name: string;
  stage_started_at: string;
  stages: RolloutStage[];
  targets: { stores: string[]; carts: string[] };
  pace_per_minute: number;
  jitter: string;
  created_by: string;
  created_at: string;
  halt_reason: string;
  carts: number;
  on_new_version_pct: number;
  rolled_back_pct: number;
  jobs_by_state: Record<JobState, number>;
  jobs?: { cart: string; job_id: string; stage: number; state: JobState; from_version: string; sent_at: string | null; detail: string }[];
}

export interface FirmwareRelease {
  version: string;
  size: number;
  issued_at: string;
  simulated_defect?: string;
}

export interface Alarms {
  active: { alarm: string; subject: string | null; state: 'pending' | 'firing'; severity: string; since: string; value: number; threshold: number; summary: string }[];
  history: { alarm: string; subject: string | null; state: 'firing' | 'resolved'; severity: string; at: string; value: number; threshold: number; summary: string }[];
  next_cursor: string | null;
}

export interface SessionSummary {
  id: string;
  cart_id: string;
  store_id: string;
  status: string;
  started_at: string;
  ended_at: string | null;
  scan_count: number;
  scan_total_cents: number;
  weight_mismatches: number;
  totals_mismatch: boolean;
  fault_codes: string[];
  exit_without_pay?: boolean;
}

export interface CartDetail extends CartRow {
  serial: string;
  registration: string;
  open_session: SessionSummary | null;
}

export interface StoredEvent {
  cart_id: string;
  seq: number;
  type: string;
  ts: string;
  received_at: string;
  late: boolean;
  event: Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  role: string;
  action: string;
  target: string;
  outcome: string;
}

export interface Reject {
  received_at: string;
  topic: string;
  cart_id: string | null;
  reason: string;
  detail: string;
}

export interface IngestStats {
  at: string;
  received: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  rejected_by_reason: Record<string, number>;
}

export interface CartStats {
  cart_id: string;
  window_s: number;
  messages: number;
  stored: number;
  rejects: number;
  faults: number;
  late: number;
  last_seen_at: string | null;
  latency: { samples: number; p50_ms: number | null; p95_ms: number | null; p99_ms: number | null };
}

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

interface Tokens {
  access_token: string;
  refresh_token: string;
  user: Me;
}

const KEY = 'cartwright.tokens';

export class Api {
  onSignedOut: () => void = () => {};

  get me(): Me | null {
    return this.tokens()?.user ?? null;
  }

  async login(username: string, password: string, totp: string): Promise<Me> {
    const t = await this.request<Tokens>('POST', '/api/v1/auth/token', { username, password, totp }, false);
    sessionStorage.setItem(KEY, JSON.stringify(t));
    return t.user;
  }

  logout(): void {
    sessionStorage.removeItem(KEY);
    this.onSignedOut();
  }

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const q = Object.entries(query)
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    return this.request<T>('GET', q ? `${path}?${q}` : path);
  }

  send<T>(method: 'POST' | 'PUT', path: string, body: unknown): Promise<T> {
    return this.request<T>(method, path, body);
  }

  private tokens(): Tokens | null {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Tokens) : null;
  }

  private async request<T>(method: string, path: string, body?: unknown, auth = true, retried = false): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const tokens = this.tokens();
    if (auth && tokens) headers['Authorization'] = `Bearer ${tokens.access_token}`;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status === 401 && auth && tokens && !retried) {
      // The access token lives 15 minutes: refresh once, then give up and sign out.
      try {
        const fresh = await this.request<Tokens>(
          'POST',
          '/api/v1/auth/token',
          { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
          false,
        );
        sessionStorage.setItem(KEY, JSON.stringify(fresh));
        return this.request<T>(method, path, body, auth, true);
      } catch {
        this.logout();
      }
    }
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : {};
    if (!res.ok) {
      const err = (parsed as { error?: ApiErrorBody }).error ?? { code: 'http_' + res.status, message: res.statusText, field: null };
      throw new ApiError(res.status, err);
    }
    return parsed as T;
  }
}

export interface FleetDiff {
  at: string;
  carts: number;
  expected: number;
  connected: number;
  missing: { cart_id: string; store_id: string; state: string; cause: string; since: string | null }[];
  unexpected: string[];
  closed_stores: string[];
  problems: string[];
}

type Series = (number | null)[];
export interface FleetHealth {
  at: string;
  step_s: number;
  times: string[];
  fleet: {
    connected: Series; stale: Series; offline: Series; expected_online: Series;
    messages_per_min: Record<string, Series>;
    latency_p50_s: Series; latency_p95_s: Series; latency_p99_s: Series;
    auth_failures_per_min: Series; error_rate: Series;
  };
  pipeline: {
    rejects_per_min: Record<string, Series>;
    commit_failures_per_min: Series; sink_failures_per_min: Series; stored_per_min: Series; duplicates_per_min: Series;
    write_p50_s: Series; write_p99_s: Series; queue_depth: Series;
  };
}
