/**
 * The JSON messages of VAPIX event streaming over WebSocket
 * (`/vapix/ws-data-stream?sources=events`): the `events:configure` request
 * we send, and the configure replies and `events:notify` notifications the
 * camera sends. Parsing is lenient (values are strings on the wire) and never
 * throws: anything unrecognised is `{ kind: 'other' }`.
 */

export const API_VERSION = '1.0';

/** What msg.payload carries for one event. */
export interface AxisEvent {
  topic: string;
  /** Camera time of the event, ms since epoch (receive time when the camera sent none). */
  timestamp: number;
  source: Record<string, string>;
  key: Record<string, string>;
  data: Record<string, string>;
  /**
   * The state of a stateful event as a boolean: the value of its state item
   * (`stateKey`) when that reads as on/off. Undefined for stateless events and
   * for states that are not on/off (e.g. a PTZ queue owner).
   */
  active: boolean | undefined;
  /** The data item that carries the state (`active`, `day`, `is_moving`, ...); undefined for a stateless event. */
  stateKey?: string;
}

/** What the camera's topic list says about one topic (see parseEventInstances). */
export interface TopicStateInfo {
  stateful?: boolean;
  stateKey?: string;
}

/** Looks up what is known of a topic; undefined when nothing is. */
export type TopicStateLookup = (topic: string) => TopicStateInfo | undefined;

export type IncomingMessage =
  | { kind: 'configured' }
  | { kind: 'configure-error'; code: number | string; message: string }
  | { kind: 'notify'; event: AxisEvent }
  | { kind: 'other'; method?: string };

/**
 * Splits what the user typed (one filter per line, or comma separated) and
 * joins them into the single `a|b` alternative list VAPIX accepts.
 */
export function normaliseTopicFilters(input: string | string[] | undefined): string[] {
  const raw = Array.isArray(input) ? input : String(input ?? '').split(/[\n,]/);
  const out: string[] = [];
  for (const part of raw) {
    for (const alt of String(part).split('|')) {
      const t = alt.trim();
      if (t && !out.includes(t)) out.push(t);
    }
  }
  return out;
}

export function configureMessage(filters: string[], context?: string): string {
  return JSON.stringify({
    apiVersion: API_VERSION,
    ...(context !== undefined ? { context } : {}),
    method: 'events:configure',
    params: { eventFilterList: [{ topicFilter: filters.join('|') }] },
  });
}

/**
 * Data items that carry the state of a stateful event, in order of
 * preference, for topics the camera's list does not describe. From real
 * firmware (test/fixtures/axis): the items Axis marks `isPropertyState`.
 */
export const KNOWN_STATE_KEYS: readonly string[] = [
  'active', // virtual inputs, VMD, analytics, schedules
  'state', // I/O ports, PIR, light status
  'logicalstate', // relays, digital inputs
  'triggered', // audio detection
  'ismotion',
  'day', // day/night vision
  'is_moving', // PTZ movement
  'on_preset', // PTZ preset reached
  'alert', // storage alert
  'accessed', // live stream accessed
  'disruption', // storage disruption / failure
  'ready', // system ready, PTZ ready
  'recording', // recording ongoing
  'lost', // network lost
  'sensor_level', // temperature above/below/inside
  'queue_owner', // PTZ control queue (a name, not on/off)
  'value',
];
const TRUE_VALUES = new Set(['1', 'true', 'yes', 'on', 'active']);
const FALSE_VALUES = new Set(['0', 'false', 'no', 'off', 'inactive']);

function asBoolean(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  if (TRUE_VALUES.has(s)) return true;
  if (FALSE_VALUES.has(s)) return false;
  return undefined;
}

/** Finds data keys by name, exactly or else ignoring case (one pass over the keys, however many there are). */
function keyFinder(data: Record<string, string>): (name: string) => string | undefined {
  let lower: Map<string, string> | null = null;
  return (name) => {
    if (Object.prototype.hasOwnProperty.call(data, name)) return name;
    if (!lower) {
      lower = new Map();
      for (const k of Object.keys(data)) if (!lower.has(k.toLowerCase())) lower.set(k.toLowerCase(), k);
    }
    return lower.get(name.toLowerCase());
  };
}

/**
 * Which data item is the state, and what it says. The camera's topic list
 * decides when it describes the topic (its `isPropertyState` item; a topic it
 * calls stateless has none); otherwise the first of KNOWN_STATE_KEYS present.
 */
export function eventState(data: Record<string, string>, known?: TopicStateInfo): { stateKey?: string; active: boolean | undefined } {
  const findKey = keyFinder(data);
  let key: string | undefined;
  if (known?.stateKey) key = findKey(known.stateKey);
  if (key === undefined) {
    if (known?.stateful === false) return { active: undefined };
    for (const k of KNOWN_STATE_KEYS) {
      key = findKey(k);
      if (key !== undefined) break;
    }
  }
  if (key === undefined) return { active: undefined };
  return { stateKey: key, active: asBoolean(String(data[key])) };
}

/** The on/off state by the known-keys rule alone. */
export function deriveActive(data: Record<string, string>): boolean | undefined {
  const { stateKey, active } = eventState(data);
  return stateKey === undefined ? undefined : active;
}

function strings(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x !== undefined && x !== null) out[k] = typeof x === 'object' ? JSON.stringify(x) : String(x);
    }
  }
  return out;
}

export function parseMessage(text: string, now: () => number = Date.now, topics?: TopicStateLookup): IncomingMessage {
  let m: Record<string, unknown>;
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object') return { kind: 'other' };
    m = v as Record<string, unknown>;
  } catch {
    return { kind: 'other' };
  }
  const method = typeof m.method === 'string' ? m.method : undefined;
  const error = m.error as { code?: unknown; message?: unknown } | undefined;
  if (error && typeof error === 'object' && (method === 'events:configure' || method === undefined)) {
    const code = typeof error.code === 'number' || typeof error.code === 'string' ? error.code : 'unknown';
    return { kind: 'configure-error', code, message: String(error.message ?? 'configure failed') };
  }
  if (method === 'events:configure') return { kind: 'configured' };
  if (method === 'events:notify') {
    const n = (m.params as { notification?: Record<string, unknown> } | undefined)?.notification;
    if (!n || typeof n.topic !== 'string') return { kind: 'other', method };
    const msg = (n.message ?? {}) as Record<string, unknown>;
    const data = strings(msg.data);
    const ts = Number(n.timestamp);
    const state = eventState(data, topics?.(n.topic));
    const event: AxisEvent = {
      topic: n.topic,
      timestamp: Number.isFinite(ts) && ts > 0 ? ts : now(),
      source: strings(msg.source),
      key: strings(msg.key),
      data,
      active: state.active,
    };
    if (state.stateKey !== undefined) event.stateKey = state.stateKey;
    return { kind: 'notify', event };
  }
  return { kind: 'other', method };
}

/** Identity of one event instance: its topic plus its source (e.g. port 1). */
export function instanceKey(e: Pick<AxisEvent, 'topic' | 'source'>): string {
  const src = Object.keys(e.source)
    .sort()
    .map((k) => `${k}=${e.source[k]}`)
    .join('&');
  return `${e.topic}?${src}`;
}

/** Characters of a token as Axis shows it (`1331901001644832701`), or any URL-safe/base64 token. */
const BARE_TOKEN = /^[A-Za-z0-9._~+/=-]{1,1024}$/;

/**
 * Pulls the session token out of a wssession.cgi answer. Axis documents a bare
 * token (`1331901001644832701`); JSON shapes (`{"data":{"wssession":...}}`,
 * `{"wssession":...}`) are accepted too. The token is always a string taken
 * from the text itself: a number would go through JSON.parse into a double and
 * lose digits (1331901001644832701 -> 1331901001644832800).
 */
export function parseWsSessionToken(body: string): string | null {
  const text = body.trim();
  if (!text) return null;
  if (BARE_TOKEN.test(text)) return text;
  if (text.startsWith('"')) {
    try {
      const s = JSON.parse(text) as unknown;
      return typeof s === 'string' && BARE_TOKEN.test(s) ? s : null;
    } catch {
      return null;
    }
  }
  if (!text.startsWith('{')) return null;
  try {
    JSON.parse(text); // well-formed JSON only
  } catch {
    return null;
  }
  // From the raw text, so a numeric token keeps every digit.
  const m = /"wssession"\s*:\s*(?:"([^"\\]{1,1024})"|(\d{1,1024}))/.exec(text);
  const t = m ? (m[1] ?? m[2]) : undefined;
  if (t !== undefined) return BARE_TOKEN.test(t) ? t : null;
  const j = JSON.parse(text) as { data?: unknown };
  return typeof j.data === 'string' && BARE_TOKEN.test(j.data) ? j.data : null;
}
