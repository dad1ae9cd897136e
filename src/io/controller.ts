/**
 * I/O ports and virtual inputs over VAPIX.
 *
 * Current firmware: the JSON port management API (`io/portmanagement.cgi`:
 * getPorts, setPorts, setStateSequence) and the virtual input API
 * (`virtualinput/activate.cgi`, `deactivate.cgi`, XML answers). Firmware
 * without them (404) falls back to `io/port.cgi` with the port list from
 * `param.cgi` (`root.IOPort`), and to the manual trigger
 * `io/virtualinput.cgi`. Which one a camera has is found once and kept.
 *
 * Port numbers are the camera's port ids as port management and the
 * `tns1:Device/tnsaxis:IO/Port` events give them: the first port is 0
 * (port.cgi's 1). Virtual inputs are numbered from 1, as the camera does.
 *
 * "Active" follows the port's normal state: a port whose normal state is open
 * is active when closed, and the other way round.
 */
import { paramCgiText, parseParamList, decodeBody } from '../device-info';
import { CameraError, ErrorCodes } from '../errors';
import type { CameraHttpClient } from '../http';
import { parseKeyValueLines, untilAborted, vapixCommand, vapixErrorText } from '../vapix-command';

export const PORT_MANAGEMENT_PATH = '/axis-cgi/io/portmanagement.cgi';
export const PORT_CGI_PATH = '/axis-cgi/io/port.cgi';
export const VIRTUAL_INPUT_PATH = '/axis-cgi/virtualinput';
export const MANUAL_TRIGGER_PATH = '/axis-cgi/io/virtualinput.cgi';
const API_VERSION = '1.0';
/** setStateSequence and port.cgi take ms; a pulse longer than an hour is a typo. */
export const MAX_PULSE_MS = 3_600_000;
/** The virtual input `duration` is whole seconds. */
export const MAX_VIRTUAL_DURATION_S = 86_400;

export interface IoPort {
  /** The camera's port id ("0" is the first port). */
  port: string;
  name: string;
  direction: 'input' | 'output';
  /** open/closed circuit now, when the camera says. */
  state?: 'open' | 'closed';
  normalState?: 'open' | 'closed';
  active?: boolean;
  configurable?: boolean;
  usage?: string;
}

export type IoApi = 'portmanagement' | 'port.cgi';

function invalid(message: string): CameraError {
  return new CameraError(ErrorCodes.INVALID_SETTING, message);
}

function refused(what: string, detail: string): CameraError {
  return new CameraError(ErrorCodes.CAMERA_REFUSED, `The camera refused ${what}: ${detail}`, { body: detail.slice(0, 200) });
}

function isNotFound(e: unknown): boolean {
  return e instanceof CameraError && e.code === ErrorCodes.NOT_FOUND;
}

const other = (s: 'open' | 'closed'): 'open' | 'closed' => (s === 'open' ? 'closed' : 'open');

/** The port id a user gave (number or numeric string), as the camera writes it. */
export function portId(v: unknown): string {
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  if (!/^\d{1,3}$/.test(s)) throw invalid(`port must be a port number from 0 (the first port), got "${String(v)}"`);
  return String(Number(s));
}

/** getPorts answer → ports. Throws CAMERA_REFUSED for a JSON error. */
export function parseGetPorts(json: unknown): IoPort[] {
  const j = json as { error?: { code?: number; message?: string }; data?: { items?: unknown[] } };
  if (j?.error) throw refused('getPorts', `error ${j.error.code ?? '?'}: ${j.error.message ?? ''}`.trim());
  const items = Array.isArray(j?.data?.items) ? j.data.items : [];
  const out: IoPort[] = [];
  for (const raw of items.slice(0, 256)) {
    const it = raw as Record<string, unknown>;
    if (typeof it.port !== 'string' && typeof it.port !== 'number') continue;
    const direction = it.direction === 'output' ? 'output' : 'input';
    const p: IoPort = { port: String(it.port), name: typeof it.name === 'string' ? it.name : '', direction };
    if (it.state === 'open' || it.state === 'closed') p.state = it.state;
    if (it.normalState === 'open' || it.normalState === 'closed') p.normalState = it.normalState;
    if (p.state && p.normalState) p.active = p.state !== p.normalState;
    if (typeof it.configurable === 'boolean') p.configurable = it.configurable;
    if (typeof it.usage === 'string' && it.usage) p.usage = it.usage;
    out.push(p);
  }
  return out;
}

/** `root.IOPort.I#` parameters → ports (no state: port.cgi tells it). */
export function portsFromParams(values: Record<string, string>): IoPort[] {
  const ids = new Set<number>();
  for (const k of Object.keys(values)) {
    const m = /^root\.IOPort\.I(\d+)\./.exec(k);
    if (m) ids.add(Number(m[1]));
  }
  return [...ids]
    .sort((a, b) => a - b)
    .map((i) => {
      const v = (k: string): string | undefined => values[`root.IOPort.I${i}.${k}`];
      const direction = v('Direction') === 'output' ? 'output' : 'input';
      const p: IoPort = { port: String(i), name: (direction === 'output' ? v('Output.Name') : v('Input.Name')) ?? '', direction };
      const cfg = v('Configurable');
      if (cfg !== undefined) p.configurable = cfg === 'yes';
      const usage = v('Usage');
      if (usage) p.usage = usage;
      // Trig / Active say which circuit state counts as active.
      const activeWhen = direction === 'output' ? v('Output.Active') : v('Input.Trig');
      if (activeWhen === 'open' || activeWhen === 'closed') p.normalState = other(activeWhen);
      return p;
    });
}

/** A virtual input API answer: StateChanged, or CAMERA_REFUSED with the camera's error code. */
export function parseVirtualInputResponse(xml: string, what: string): { stateChanged: boolean | undefined } {
  const err = /<ErrorCode>\s*(\d+)\s*<\/ErrorCode>/i.exec(xml);
  if (err || /<Error>/i.test(xml)) {
    const desc = /<ErrorDescription>\s*([^<]*?)\s*<\/ErrorDescription>/i.exec(xml)?.[1] ?? 'error';
    const code = err?.[1];
    const e = refused(what, `${code ? `error ${code}: ` : ''}${desc}`);
    // 20: "The specified virtual input does not exist".
    if (code === '20') throw new CameraError(ErrorCodes.NOT_SUPPORTED, e.message);
    throw e;
  }
  const m = /<StateChanged>\s*(true|false)\s*<\/StateChanged>/i.exec(xml);
  if (!m && !/<Success>/i.test(xml)) throw refused(what, `unexpected answer: ${xml.replace(/\s+/g, ' ').trim().slice(0, 120)}`);
  return { stateChanged: m ? m[1]!.toLowerCase() === 'true' : undefined };
}

export class IoController {
  private api: Promise<IoApi> | null = null;
  private legacyVirtual = false;

  constructor(private readonly client: CameraHttpClient) {}

  /** Which API this camera has (port management, else port.cgi); asked once, shared (so not cancelled by one caller's signal). */
  whichApi(signal?: AbortSignal): Promise<IoApi> {
    if (!this.api) {
      const p = this.getPortsJson().then(
        () => 'portmanagement' as const,
        (e) => {
          if (isNotFound(e)) return 'port.cgi' as const;
          throw e;
        },
      );
      this.api = p;
      p.catch(() => {
        if (this.api === p) this.api = null;
      });
    }
    return untilAborted(this.api, signal);
  }

  /** Every port with its direction and, where the camera says, its state. */
  async ports(signal?: AbortSignal): Promise<IoPort[]> {
    if ((await this.whichApi(signal)) === 'portmanagement') return parseGetPorts(await this.getPortsJson(signal));
    const res = await vapixCommand(this.client, '/axis-cgi/param.cgi?action=list&group=root.IOPort', { idempotent: true, signal });
    const parsed = parseParamList(paramCgiText(res));
    const ports = parsed.error && !Object.keys(parsed.values).length ? [] : portsFromParams(parsed.values);
    if (!ports.length) return ports;
    // port.cgi numbers ports from 1.
    const text = await this.portCgi(`checkactive=${ports.map((p) => Number(p.port) + 1).join(',')}`, true, 'checkactive', signal);
    const kv = parseKeyValueLines(text);
    for (const p of ports) {
      const v = kv[`port${Number(p.port) + 1}`];
      if (v === 'active' || v === 'inactive') {
        p.active = v === 'active';
        if (p.normalState) p.state = p.active ? other(p.normalState) : p.normalState;
      }
    }
    return ports;
  }

  /** One port, checked to exist (and to be an output when `output`). */
  async port(id: string, signal?: AbortSignal, output = false): Promise<IoPort> {
    const ports = await this.ports(signal);
    const p = ports.find((x) => x.port === id);
    if (!p) {
      const list = ports.length ? ports.map((x) => `${x.port} (${x.direction}${x.name ? ` "${x.name}"` : ''})`).join(', ') : 'none';
      throw new CameraError(ErrorCodes.NOT_SUPPORTED, `The camera has no I/O port ${id}; its ports: ${list}`);
    }
    if (output && p.direction !== 'output') {
      throw new CameraError(ErrorCodes.NOT_SUPPORTED, `I/O port ${id}${p.name ? ` ("${p.name}")` : ''} is an input; only outputs can be set or pulsed`);
    }
    return p;
  }

  /** Sets an output active or inactive (the same twice is harmless: retried once after a dropped connection). */
  async setOutput(id: string, active: boolean, signal?: AbortSignal): Promise<IoPort> {
    const p = await this.port(id, signal, true);
    if ((await this.whichApi(signal)) === 'portmanagement') {
      const normal = p.normalState ?? 'open';
      const state = active ? other(normal) : normal;
      await this.portManagement('setPorts', { ports: [{ port: id, state }] }, true, signal);
      return { ...p, state, active };
    }
    await this.portCgi(`action=${encodeURIComponent(`${Number(id) + 1}:${active ? '/' : '\\'}`)}`, true, 'the output', signal);
    return { ...p, active };
  }

  /**
   * Activates an output for `ms`, then back to inactive, on the camera's own
   * clock (setStateSequence / port.cgi `N:/ms\`). Never resent: a second pulse is not harmless.
   */
  async pulse(id: string, ms: number, signal?: AbortSignal): Promise<IoPort> {
    if (!Number.isInteger(ms) || ms < 1 || ms > MAX_PULSE_MS) throw invalid(`pulse length must be a whole number of ms from 1 to ${MAX_PULSE_MS}`);
    const p = await this.port(id, signal, true);
    if ((await this.whichApi(signal)) === 'portmanagement') {
      const normal = p.normalState ?? 'open';
      await this.portManagement(
        'setStateSequence',
        { port: id, sequence: [{ state: other(normal), time: ms }, { state: normal, time: 0 }] },
        false,
        signal,
      );
      return p;
    }
    await this.portCgi(`action=${encodeURIComponent(`${Number(id) + 1}:/${ms}\\`)}`, false, 'the pulse', signal);
    return p;
  }

  /**
   * Activates or deactivates virtual input `port` (1-based); `durationS`
   * deactivates it again on the camera after that many seconds. Older firmware
   * (no virtualinput/activate.cgi) gets the manual trigger `io/virtualinput.cgi`.
   */
  async virtualInput(port: number, active: boolean, durationS?: number, signal?: AbortSignal): Promise<{ port: number; active: boolean; stateChanged?: boolean; api: 'virtualinput' | 'manual-trigger' }> {
    if (!Number.isInteger(port) || port < 1 || port > 1024) throw invalid(`virtual input must be a number from 1, got ${String(port)}`);
    if (durationS !== undefined && (!Number.isInteger(durationS) || durationS < 0 || durationS > MAX_VIRTUAL_DURATION_S)) {
      throw invalid(`virtual input duration must be whole seconds from 0 to ${MAX_VIRTUAL_DURATION_S}`);
    }
    if (!this.legacyVirtual) {
      const q = `schemaversion=1&port=${port}${active && durationS !== undefined ? `&duration=${durationS}` : ''}`;
      try {
        const res = await vapixCommand(this.client, `${VIRTUAL_INPUT_PATH}/${active ? 'activate' : 'deactivate'}.cgi?${q}`, { idempotent: true, signal });
        const r = parseVirtualInputResponse(decodeBody(res, 'utf8'), `virtual input ${port}`);
        return { port, active, ...(r.stateChanged !== undefined ? { stateChanged: r.stateChanged } : {}), api: 'virtualinput' };
      } catch (e) {
        if (!isNotFound(e)) throw e;
        this.legacyVirtual = true;
      }
    }
    // The manual trigger: `N:/` on, `N:\` off, `N:/ms\` on for a while (its port numbers are the camera's ManualTriggerNbr range).
    const action = active ? (durationS !== undefined ? `${port}:/${durationS * 1000}\\` : `${port}:/`) : `${port}:\\`;
    const res = await vapixCommand(this.client, `${MANUAL_TRIGGER_PATH}?action=${encodeURIComponent(action)}`, { idempotent: true, signal });
    const text = decodeBody(res, 'latin1');
    const err = vapixErrorText(text);
    if (err) throw refused(`virtual input ${port}`, err);
    return { port, active, api: 'manual-trigger' };
  }

  private async getPortsJson(signal?: AbortSignal): Promise<unknown> {
    return this.postJson({ apiVersion: API_VERSION, context: 'axmjpeg', method: 'getPorts' }, true, signal);
  }

  private async portManagement(method: string, params: unknown, idempotent: boolean, signal?: AbortSignal): Promise<unknown> {
    const j = (await this.postJson({ apiVersion: API_VERSION, context: 'axmjpeg', method, params }, idempotent, signal)) as {
      error?: { code?: number; message?: string };
    };
    if (j?.error) throw refused(method, `error ${j.error.code ?? '?'}: ${j.error.message ?? ''}`.trim());
    return j;
  }

  private async postJson(body: unknown, idempotent: boolean, signal?: AbortSignal): Promise<unknown> {
    const res = await vapixCommand(this.client, PORT_MANAGEMENT_PATH, {
      idempotent,
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
      signal,
    });
    const text = decodeBody(res, 'utf8');
    try {
      return JSON.parse(text);
    } catch {
      throw refused('the I/O request', `not JSON: ${text.replace(/\s+/g, ' ').trim().slice(0, 120)}`);
    }
  }

  private async portCgi(query: string, idempotent: boolean, what: string, signal?: AbortSignal): Promise<string> {
    const res = await vapixCommand(this.client, `${PORT_CGI_PATH}?${query}`, { idempotent, signal });
    const text = decodeBody(res, 'latin1');
    const err = vapixErrorText(text);
    if (err) throw refused(what, err);
    return text;
  }
}
