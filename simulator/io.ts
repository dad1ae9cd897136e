/**
 * Simulated I/O ports and virtual inputs, behind the APIs current firmware
 * has (`io/portmanagement.cgi` JSON, `virtualinput/activate.cgi` XML) and the
 * older ones (`io/port.cgi`, `io/virtualinput.cgi`). `legacy: true` is a
 * camera from before port management and the virtual input API: those answer
 * 404 and clients must use the old CGIs.
 *
 * Ports: inputs first, then outputs, ids from "0" as port management numbers
 * them; normal state open, so active = closed circuit. Sequences and virtual
 * input durations run on timers owned here (cleared by close()).
 */

export interface IoSimOptions {
  inputs?: number;
  outputs?: number;
  /** Old firmware: no portmanagement.cgi, no virtualinput/*.cgi (404). */
  legacy?: boolean;
  names?: string[];
}

export interface SimPort {
  port: string;
  name: string;
  direction: 'input' | 'output';
  normalState: 'open' | 'closed';
  state: 'open' | 'closed';
}

const VI_XMLNS =
  'xmlns="http://www.axis.com/vapix/http_cgi/virtualinput1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" SchemaVersion="1.1" ' +
  'xsi:schemaLocation="http://www.axis.com/vapix/http_cgi/virtualinput1 http://www.axis.com/vapix/http_cgi/virtualinput1_0.xsd"';

function viXml(inner: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<VirtualInputResponse ${VI_XMLNS}>\n${inner}\n</VirtualInputResponse>\n`;
}

function viError(code: number, description: string): string {
  return viXml(`  <Error>\n    <GeneralError>\n      <ErrorCode>${code}</ErrorCode>\n      <ErrorDescription>${description}</ErrorDescription>\n    </GeneralError>\n  </Error>`);
}

export class IoSimulator {
  readonly ports: SimPort[] = [];
  readonly legacy: boolean;
  /** Every request (path + query or JSON method), for tests that count what was sent. */
  readonly requests: string[] = [];
  /** Called when a port's state changes. */
  onPort?: (p: SimPort) => void;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly viTimers = new Map<number, NodeJS.Timeout>();

  constructor(
    opts: IoSimOptions,
    private readonly virtual: { get(port: number): boolean | undefined; set(port: number, active: boolean): void },
  ) {
    this.legacy = opts.legacy === true;
    const inputs = opts.inputs ?? 1;
    const outputs = opts.outputs ?? 1;
    for (let i = 0; i < inputs + outputs; i++) {
      const direction = i < inputs ? 'input' : 'output';
      const n = direction === 'input' ? i + 1 : i - inputs + 1;
      this.ports.push({ port: String(i), name: opts.names?.[i] ?? `${direction === 'input' ? 'Input' : 'Output'} ${n}`, direction, normalState: 'open', state: 'open' });
    }
  }

  isActive(port: string): boolean {
    const p = this.ports.find((x) => x.port === port);
    return !!p && p.state !== p.normalState;
  }

  /** Sets an input's state, as wiring would (tests, demo). */
  setInput(port: string, active: boolean): void {
    const p = this.ports.find((x) => x.port === port && x.direction === 'input');
    if (!p) throw new Error(`simulator: no input port ${port}`);
    this.apply(p, active ? 'closed' : 'open');
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const t of this.viTimers.values()) clearTimeout(t);
    this.viTimers.clear();
  }

  params(): [string, string][] {
    const out: [string, string][] = [
      ['Input.NbrOfInputs', String(this.ports.filter((p) => p.direction === 'input').length)],
      ['Output.NbrOfOutputs', String(this.ports.filter((p) => p.direction === 'output').length)],
      ['Properties.VirtualInput.VirtualInput', this.legacy ? 'no' : 'yes'],
      ['IOPort.ManualTriggerNbr', '1'],
    ];
    for (const p of this.ports) {
      const g = `IOPort.I${p.port}`;
      out.push([`${g}.Configurable`, 'no'], [`${g}.Direction`, p.direction]);
      if (p.direction === 'input') out.push([`${g}.Input.Name`, p.name], [`${g}.Input.Trig`, 'closed']);
      else out.push([`${g}.Output.Name`, p.name], [`${g}.Output.Active`, 'closed'], [`${g}.Output.Mode`, 'bistable']);
    }
    return out;
  }

  /** POST io/portmanagement.cgi: [status, JSON body] (errors in the JSON, status 200, as the API does). */
  portManagement(body: string): [number, unknown] {
    if (this.legacy) return [404, null];
    let req: { apiVersion?: string; context?: string; method?: string; params?: Record<string, unknown> };
    try {
      req = JSON.parse(body) as typeof req;
    } catch {
      return [200, { apiVersion: '1.0', error: { code: 4000, message: 'Invalid JSON' } }];
    }
    this.requests.push(`portmanagement:${req.method ?? ''}`);
    const base = { apiVersion: '1.0', ...(req.context !== undefined ? { context: req.context } : {}), method: req.method };
    const fail = (code: number, message: string): [number, unknown] => [200, { ...base, error: { code, message } }];
    if (typeof req.apiVersion !== 'string' || !/^1(\.\d+)?$/.test(req.apiVersion)) return fail(2003, 'Requested API version is not supported');
    switch (req.method) {
      case 'getPorts':
        return [
          200,
          {
            ...base,
            data: {
              numberOfPorts: this.ports.length,
              items: this.ports.map((p) => ({ port: p.port, configurable: false, usage: '', name: p.name, direction: p.direction, state: p.state, normalState: p.normalState })),
            },
          },
        ];
      case 'setPorts': {
        const list = (req.params?.ports ?? []) as { port?: unknown; state?: unknown }[];
        if (!Array.isArray(list) || !list.length) return fail(4002, 'Required parameter missing or invalid');
        for (const item of list) {
          const p = this.ports.find((x) => x.port === String(item.port));
          if (!p) return fail(1000, `Invalid parameter value specified: port ${String(item.port)}`);
          if (item.state !== undefined && item.state !== 'open' && item.state !== 'closed') return fail(1000, 'Invalid parameter value specified: state');
          if (item.state !== undefined && p.direction !== 'output') return fail(1000, `Invalid parameter value specified: port ${p.port} is an input`);
        }
        for (const item of list) {
          const p = this.ports.find((x) => x.port === String(item.port))!;
          if (item.state === 'open' || item.state === 'closed') this.apply(p, item.state);
        }
        return [200, { ...base, data: {} }];
      }
      case 'setStateSequence': {
        const port = this.ports.find((x) => x.port === String(req.params?.port));
        const seq = req.params?.sequence as { state?: unknown; time?: unknown }[] | undefined;
        if (!port || port.direction !== 'output') return fail(1000, `Invalid parameter value specified: port ${String(req.params?.port)}`);
        if (!Array.isArray(seq) || !seq.length || seq.some((s) => (s.state !== 'open' && s.state !== 'closed') || !Number.isInteger(s.time) || (s.time as number) < 0)) {
          return fail(4002, 'Required parameter missing or invalid');
        }
        this.runSequence(port, seq.map((s) => ({ state: s.state as 'open' | 'closed', time: s.time as number })));
        return [200, { ...base, data: {} }];
      }
      case 'getSupportedVersions':
        return [200, { ...base, data: { apiVersions: ['1.0'] } }];
      default:
        return fail(2004, 'Method not supported');
    }
  }

  /** GET io/port.cgi: [status, text]. */
  portCgi(q: URLSearchParams): [number, string] {
    this.requests.push(`port.cgi?${q.toString()}`);
    const byNumber = (n: string): SimPort | undefined => this.ports.find((p) => Number(p.port) + 1 === Number(n));
    const checkactive = q.get('checkactive');
    if (checkactive !== null) {
      return [200, checkactive.split(',').map((n) => `port${n}=${byNumber(n) ? (this.isActive(byNumber(n)!.port) ? 'active' : 'inactive') : 'unknown'}`).join('\r\n') + '\r\n'];
    }
    const check = q.get('check');
    if (check !== null) return [200, check.split(',').map((n) => `port${n}=${byNumber(n)?.state === 'closed' ? 1 : 0}`).join('\r\n') + '\r\n'];
    const action = q.get('action');
    if (action !== null) {
      const m = /^(\d+)?:([/\\](?:\d+[/\\])*)$/.exec(action);
      if (!m) return [200, `Error: invalid action ${action}\r\n`];
      const port = byNumber(m[1] ?? '1');
      if (!port) return [200, `Error: port ${m[1] ?? '1'} does not exist\r\n`];
      if (port.direction !== 'output') return [200, `Error: port ${m[1] ?? '1'} is not an output\r\n`];
      const steps: { state: 'open' | 'closed'; time: number }[] = [];
      for (const t of m[2]!.matchAll(/([/\\])(\d*)/g)) steps.push({ state: t[1] === '/' ? 'closed' : 'open', time: t[2] ? Number(t[2]) : 0 });
      this.runSequence(port, steps);
      return [200, ''];
    }
    return [200, 'Error: no argument\r\n'];
  }

  /** GET virtualinput/activate.cgi | deactivate.cgi: [status, XML]. */
  virtualInput(which: 'activate' | 'deactivate', q: URLSearchParams): [number, string] {
    if (this.legacy) return [404, ''];
    this.requests.push(`virtualinput/${which}?${q.toString()}`);
    const schema = q.get('schemaversion');
    const portArg = q.get('port');
    if (schema === null || portArg === null) return [200, viError(10, 'Missing argument.')];
    if (schema !== '1') return [200, viError(30, 'The specified schema version is not supported.')];
    const port = Number(portArg);
    if (!Number.isInteger(port) || this.virtual.get(port) === undefined) return [200, viError(20, 'The specified virtual input does not exist.')];
    const before = this.virtual.get(port) === true;
    const old = this.viTimers.get(port);
    if (old) clearTimeout(old);
    this.viTimers.delete(port);
    if (which === 'activate') {
      this.virtual.set(port, true);
      const d = q.get('duration');
      if (d !== null) {
        const s = Number(d);
        if (!Number.isInteger(s) || s < 0) return [200, viError(40, 'Invalid argument value.')];
        const t = setTimeout(() => {
          this.viTimers.delete(port);
          this.virtual.set(port, false);
        }, s * 1000);
        t.unref();
        this.viTimers.set(port, t);
      }
      return [200, viXml(`  <Success>\n    <ActivateSuccess>\n      <StateChanged>${!before}</StateChanged>\n    </ActivateSuccess>\n  </Success>`)];
    }
    this.virtual.set(port, false);
    return [200, viXml(`  <Success>\n    <DeactivateSuccess>\n      <StateChanged>${before}</StateChanged>\n    </DeactivateSuccess>\n  </Success>`)];
  }

  /** GET io/virtualinput.cgi (the old manual trigger): `N:/`, `N:\`, `N:/ms\`. */
  manualTrigger(q: URLSearchParams): [number, string] {
    this.requests.push(`io/virtualinput.cgi?${q.toString()}`);
    const m = /^(\d+):([/\\])(?:(\d+)\\)?$/.exec(q.get('action') ?? '');
    if (!m) return [200, 'Error: invalid action\r\n'];
    const port = Number(m[1]);
    if (this.virtual.get(port) === undefined) return [200, `Error: virtual input ${port} does not exist\r\n`];
    this.virtual.set(port, m[2] === '/');
    if (m[2] === '/' && m[3]) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.virtual.set(port, false);
      }, Number(m[3]));
      t.unref();
      this.timers.add(t);
    }
    return [200, ''];
  }

  private runSequence(port: SimPort, steps: { state: 'open' | 'closed'; time: number }[]): void {
    const next = (i: number): void => {
      const s = steps[i];
      if (!s) return;
      this.apply(port, s.state);
      if (i + 1 >= steps.length) return;
      const t = setTimeout(() => {
        this.timers.delete(t);
        next(i + 1);
      }, s.time);
      t.unref();
      this.timers.add(t);
    };
    next(0);
  }

  private apply(p: SimPort, state: 'open' | 'closed'): void {
    if (p.state === state) return;
    p.state = state;
    this.onPort?.(p);
  }
}
