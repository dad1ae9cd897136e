/**
 * A fake Axis camera speaking VAPIX over real sockets, for tests and the demo.
 *
 * Faithful where clients break: the MJPEG stream is written by hand as
 * HTTP/1.0, close-delimited, no chunking (or chunked HTTP/1.1 on request);
 * bad parameters answer 200 text/plain; Basic/Digest/both with two
 * WWW-Authenticate headers; a viewer limit answering 503; and switchable
 * faults (stall, truncation, wrong lengths, garbage, reboot, ...).
 *
 * Things tests can rely on:
 * - Every frame sent carries a JPEG comment `axis-sim seq=N t=<epoch ms> cam=C`
 *   (seq counts per stream from 1), so order, loss and duplication are
 *   visible without comparing pixels.
 * - Stream faults act on running streams too; `afterFrames` (default 0)
 *   counts from the moment each stream first sees the fault, so
 *   `setFault({ kind: 'stall' })` mid-stream means "stall now".
 * - `reboot` is one-shot: it drops every connection, refuses connections
 *   for `ms`, then listens on the same port with a new `bootId`, nonces and
 *   opaque, and clears itself. `whenListening()` resolves when it is back.
 * - Frames come from a process-wide cache (frame-cache.ts): the first
 *   start() in a process pre-renders the default cycle (about 2 s for VGA);
 *   a new resolution's first frame takes one encode (up to ~0.5 s at 1080p).
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import { AuthVerifier, type AuthMode, type DigestAlgorithm } from './auth';
import { basicDeviceInfo, paramList, systemReady, type DeviceIdentity } from './device';
import { EventSimulator, TOPIC_IO_PORT, TOPIC_PTZ_PRESET, TOPIC_RELAY, VIRTUAL_INPUTS } from './events';
import { IoSimulator, type IoSimOptions } from './io';
import { selfSignedCertificate } from './self-signed';
import { frameCache } from './frame-cache';
import { parseStreamParams, type StreamParams } from './params';
import { PtzSimulator, type PtzSimOptions } from './ptz';
import type { FrameSpec } from './render';
import { FRAME_COMMENT_PREFIX, MJPEG_CONTENT_TYPE, MjpegStream, stampJpeg, type Fault, type Sink } from './stream';

export type { Fault } from './stream';
export type { PtzSimOptions, PtzPresetDef, PtzState } from './ptz';
export type { IoSimOptions, SimPort } from './io';
export { BOUNDARY, FRAME_COMMENT_PREFIX, WRONG_LENGTH_DELTA } from './stream';
export { SUPPORTED_RESOLUTIONS, MAX_FPS } from './params';

export interface SimulatorOptions {
  host?: string;
  port?: number;
  auth?: AuthMode;
  username?: string;
  password?: string;
  /** Default `AXIS_<serial>`, i.e. AXIS_ACCC8E000000. */
  realm?: string;
  /** Digest algorithm offered; default MD5. */
  digestAlgorithm?: DigestAlgorithm;
  maxViewers?: number;
  /** 'close': HTTP/1.0 close-delimited stream (Axis); 'chunked': HTTP/1.1 chunked. */
  framing?: 'close' | 'chunked';
  defaultResolution?: string;
  defaultFps?: number;
  https?: { key: string | Buffer; cert: string | Buffer };
  nonceLifetimeMs?: number;
  /** Video sources (sensors or encoder channels): `camera=1..n`, and `quad` from 2 on. */
  cameras?: number;
  /** View areas: image configurations after the sensors, cropped from sensor 1 (`camera=n+1...`). */
  viewAreas?: number;
  model?: string;
  firmware?: string;
  serial?: string;
  /** A device with no MJPEG stream, only single JPEGs (image.cgi): video.cgi answers 404. */
  snapshotOnly?: boolean;
  /** A PTZ head behind com/ptz.cgi (true: the default presets). Without it, ptz.cgi answers 404 as on a fixed camera. */
  ptz?: boolean | PtzSimOptions;
  /**
   * An HTTPS-only camera, as AXIS OS 13 ships: `port` speaks HTTPS with `https`'s certificate or, without
   * one, a self-signed certificate made at start-up (`certificate`); plain http on `httpPort` answers
   * every request with a 301 to the https address.
   */
  httpsOnly?: boolean;
  /** httpsOnly: the plain-http port that redirects (default 0: a free one; see `httpUrl`). */
  httpPort?: number;
  /** I/O ports (default one input, one output) and the APIs that set them; `legacy`: only port.cgi and io/virtualinput.cgi. */
  io?: IoSimOptions;
}

export interface SimulatorStats {
  requests: number;
  /** Authorised requests to video.cgi (including ones refused for parameters or the viewer limit). */
  streamRequests: number;
  activeStreams: number;
  framesSent: number;
  /** Frames not written because the viewer's socket was still backed up (or throttled). */
  framesSkipped: number;
  /** Requests that presented credentials which were refused (a bare challenge round does not count). */
  authFailures: number;
  /** TCP connections accepted since start. */
  connections: number;
  /** TCP connections open now. */
  openConnections: number;
  snapshots: number;
  reboots: number;
}

const DEFAULT_SERIAL = 'ACCC8E000000';
/** The picture follows the PTZ head in steps of this many degrees ... */
const PTZ_PICTURE_DEG = 2;
/** ... and zoom steps. */
const PTZ_PICTURE_ZOOM = 250;
const DEFAULT_MAX_VIEWERS = 20;
const DEFAULT_NONCE_LIFETIME_MS = 5 * 60_000;
/** Frames per motion cycle (cached per resolution/quality/camera/overlay). */
export const CYCLE_FRAMES = 30;
/** start() waits at most this long for the default cycle beyond its first frame. */
const PREWARM_MAX_MS = 3000;
/** Seconds a client is told to wait after a 503. */
const RETRY_AFTER_S = 5;
/** Largest POST body read (basicdeviceinfo JSON). */
const MAX_BODY_BYTES = 64 * 1024;

const HTML_LOGIN_PAGE =
  '<!DOCTYPE html>\n<html><head><title>AXIS</title></head><body>\n' +
  '<form method="post" action="/login"><input name="user"><input name="pwd" type="password"><button>Log in</button></form>\n' +
  '</body></html>\n';

const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function sinkOfSocket(s: Socket): Sink {
  return {
    write: (chunk, cb) => s.write(chunk, cb),
    end: () => s.end(),
    destroy: () => s.destroy(),
    once: (ev, l) => s.once(ev, l),
    removeListener: (ev, l) => s.removeListener(ev, l),
  };
}

function sinkOfResponse(res: http.ServerResponse): Sink {
  return {
    write: (chunk, cb) => res.write(chunk, cb),
    end: () => res.end(),
    destroy: () => res.destroy(),
    once: (ev, l) => res.once(ev, l),
    removeListener: (ev, l) => res.removeListener(ev, l),
  };
}

export class CameraSimulator {
  readonly stats: SimulatorStats = {
    requests: 0,
    streamRequests: 0,
    activeStreams: 0,
    framesSent: 0,
    framesSkipped: 0,
    authFailures: 0,
    connections: 0,
    openConnections: 0,
    snapshots: 0,
    reboots: 0,
  };
  /** Hook for tests: sees every request (headers, url) before it is handled. */
  onRequest?: (req: http.IncomingMessage) => void;
  /** Why the last request with credentials was refused (test diagnostics). */
  lastAuthFailure: string | null = null;
  /** Changes on every (simulated) reboot; systemready.cgi reports it. */
  bootId = randomBytes(16).toString('hex');
  /** The event side: wssession token, event WebSocket, GetEventInstances (events.ts). */
  readonly events = new EventSimulator();
  /** The PTZ head, when the camera has one (option `ptz`). */
  readonly ptz: PtzSimulator | null;
  /** httpsOnly: the certificate served (PEM) and its SHA-256 fingerprint, for tests and demos to pin. */
  certificate: { cert: string; sha256: string } | null = null;
  private redirectServer: http.Server | null = null;
  private _httpPort = 0;
  /** I/O ports and the virtual input CGIs. */
  readonly io: IoSimulator;
  /** Port and virtual input lamps in the picture (when the `io` option was given). */
  private readonly showLamps: boolean;
  private ptzMarks: (readonly [string, number, number])[] | null = null;

  private readonly opts: Required<Omit<SimulatorOptions, 'https' | 'realm' | 'ptz' | 'io'>> & Pick<SimulatorOptions, 'https'> & { realm: string };
  private readonly server: http.Server;
  private readonly auth: AuthVerifier;
  private readonly sockets = new Set<Socket>();
  private readonly streams = new Set<MjpegStream>();
  private readonly pendingTimers = new Set<NodeJS.Timeout>();
  private fault: Fault | null = null;
  private bootAt = Date.now();
  private _port = 0;
  private started = false;
  private closed = false;
  private rebootTimer: NodeJS.Timeout | null = null;
  private readyWaiters: (() => void)[] = [];

  constructor(opts: SimulatorOptions = {}) {
    const serial = opts.serial ?? DEFAULT_SERIAL;
    this.opts = {
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      auth: opts.auth ?? 'none',
      username: opts.username ?? 'root',
      password: opts.password ?? 'pass',
      realm: opts.realm ?? `AXIS_${serial}`,
      digestAlgorithm: opts.digestAlgorithm ?? 'MD5',
      maxViewers: opts.maxViewers ?? DEFAULT_MAX_VIEWERS,
      framing: opts.framing ?? 'close',
      defaultResolution: opts.defaultResolution ?? '640x480',
      defaultFps: opts.defaultFps ?? 10,
      https: opts.https,
      nonceLifetimeMs: opts.nonceLifetimeMs ?? DEFAULT_NONCE_LIFETIME_MS,
      cameras: opts.cameras ?? 1,
      viewAreas: opts.viewAreas ?? 0,
      model: opts.model ?? 'M3045-V',
      firmware: opts.firmware ?? '10.12.200',
      serial,
      snapshotOnly: opts.snapshotOnly ?? false,
      httpsOnly: opts.httpsOnly ?? false,
      httpPort: opts.httpPort ?? 0,
    };
    this.showLamps = opts.io !== undefined;
    this.io = new IoSimulator(opts.io ?? {}, {
      get: (port) => (port >= 1 && port <= VIRTUAL_INPUTS ? this.events.virtualInputActive(port) : undefined),
      set: (port, active) => this.events.setVirtualInput(port, active),
    });
    const ioEvent = (p: { port: string; direction: string; state: string; normalState: string }): void => {
      const active = p.state !== p.normalState;
      this.events.setState(TOPIC_IO_PORT, { port: p.port }, { state: active ? '1' : '0' });
      if (p.direction === 'output') this.events.setState(TOPIC_RELAY, { RelayToken: p.port }, { LogicalState: active ? 'active' : 'inactive' });
    };
    for (const p of this.io.ports) ioEvent(p);
    this.io.onPort = ioEvent;
    this.ptz = opts.ptz ? new PtzSimulator(opts.ptz === true ? {} : opts.ptz) : null;
    if (this.ptz) {
      let preset = this.ptz.state.onPreset;
      this.ptz.onChange = (st, what) => {
        if (what === 'moving') this.events.setPtzMoving(st.moving);
        if (what !== 'preset') return;
        if (preset) this.events.setState(TOPIC_PTZ_PRESET, { PresetToken: String(preset) }, { on_preset: '0' });
        preset = st.onPreset;
        if (preset) this.events.setState(TOPIC_PTZ_PRESET, { PresetToken: String(preset) }, { on_preset: '1' });
      };
      // Every preset is an instance of its own, announced to each new subscriber (as PTZ_PRESET_INIT_1..3 in test/fixtures/axis).
      this.ptz.presets.forEach((_p, i) => this.events.setState(TOPIC_PTZ_PRESET, { PresetToken: String(i + 1) }, { on_preset: i + 1 === preset ? '1' : '0' }));
    }
    if (this.opts.httpsOnly) {
      const generated = this.opts.https ? null : selfSignedCertificate([this.opts.host === '::1' ? 'localhost' : this.opts.host, 'localhost']);
      if (generated) this.opts.https = { key: generated.key, cert: generated.cert };
      const cert = String(this.opts.https!.cert);
      this.certificate = { cert, sha256: new X509Certificate(cert).fingerprint256 };
      this.redirectServer = http.createServer((req, res) => {
        const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
        const location = `https://${host}:${this._port}${req.url ?? '/'}`;
        const body = `<HTML><HEAD><TITLE>301 Moved Permanently</TITLE></HEAD><BODY>HTTPS only: ${location}</BODY></HTML>\n`;
        res.writeHead(301, { Location: location, 'Content-Type': 'text/html', 'Content-Length': String(Buffer.byteLength(body)) });
        res.end(body);
      });
      this.redirectServer.on('clientError', (_err, socket) => socket.destroy());
    }
    this.auth = new AuthVerifier({
      mode: this.opts.auth,
      username: this.opts.username,
      password: this.opts.password,
      realm: this.opts.realm,
      nonceLifetimeMs: this.opts.nonceLifetimeMs,
      algorithm: this.opts.digestAlgorithm,
    });
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.handle(req, res);
    this.server = this.opts.https ? https.createServer({ key: this.opts.https.key, cert: this.opts.https.cert }, handler) : http.createServer(handler);
    this.server.on('connection', (s: Socket) => {
      this.stats.connections++;
      this.stats.openConnections++;
      this.sockets.add(s);
      s.on('close', () => {
        this.stats.openConnections--;
        this.sockets.delete(s);
      });
    });
    this.server.on('upgrade', (req, socket) => {
      if (!this.events.upgrade(req, socket)) socket.destroy();
    });
    // A client dropping a connection is normal for a camera; never crash on it.
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  get port(): number {
    return this._port;
  }

  /** httpsOnly: the plain-http port that redirects to https (0 otherwise). */
  get httpPort(): number {
    return this._httpPort;
  }

  /** httpsOnly: the plain-http address that redirects to https. */
  get httpUrl(): string | null {
    if (!this.redirectServer) return null;
    const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
    return `http://${host}:${this._httpPort}`;
  }

  get url(): string {
    const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
    return `${this.opts.https ? 'https' : 'http'}://${host}:${this._port}`;
  }

  /** The frame spec a default stream request gets (what start() pre-warms). */
  get defaultSpec(): FrameSpec {
    const p = parseStreamParams(new URLSearchParams(), this.paramDefaults());
    if (!p.ok) throw new Error(`simulator: bad default resolution ${this.opts.defaultResolution}`);
    return this.specFor(p.params);
  }

  async start(): Promise<this> {
    if (this.started) return this;
    this.started = true;
    frameCache.acquire();
    await this.listen(this.opts.port);
    if (this.redirectServer) {
      const rs = this.redirectServer;
      await new Promise<void>((resolve, reject) => {
        rs.once('error', reject);
        rs.listen(this.opts.httpPort, this.opts.host, () => {
          rs.removeListener('error', reject);
          this._httpPort = (rs.address() as { port: number }).port;
          resolve();
        });
      });
    }
    // The whole default cycle, so the first stream already moves; capped
    // because a 1080p cycle takes seconds to encode.
    await frameCache.whenComplete(this.defaultSpec, PREWARM_MAX_MS);
    await frameCache.ready(this.defaultSpec);
    return this;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.rebootTimer) clearTimeout(this.rebootTimer);
    this.rebootTimer = null;
    for (const t of this.pendingTimers) clearTimeout(t);
    this.pendingTimers.clear();
    this.events.close();
    this.ptz?.close();
    this.io.close();
    this.wakeReady();
    this.dropEverything();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    const rs = this.redirectServer;
    if (rs?.listening) {
      rs.closeAllConnections();
      await new Promise<void>((resolve) => rs.close(() => resolve()));
    }
    if (this.started) await frameCache.release();
  }

  /**
   * Switches a fault on (or off with null). Stream faults apply to running
   * streams too, counted from the moment each stream sees them. `reboot`
   * is a one-shot: it clears itself when the camera is back.
   */
  setFault(f: Fault | null): void {
    if (f?.kind === 'reboot') {
      this.reboot(f.ms);
      return;
    }
    this.fault = f;
  }

  /** Toggles a virtual input; subscribers of its event get a notification. */
  setVirtualInput(port: number, active: boolean): void {
    this.events.setVirtualInput(port, active);
  }

  /** Resolves when the simulator accepts connections (after a reboot fault). */
  whenListening(): Promise<void> {
    if (this.server.listening || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private wakeReady(): void {
    for (const r of this.readyWaiters.splice(0)) r();
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, this.opts.host, () => {
        this.server.removeListener('error', onError);
        const addr = this.server.address();
        if (addr && typeof addr === 'object') this._port = addr.port;
        resolve();
      });
    });
  }

  private dropEverything(): void {
    for (const s of [...this.streams]) s.stop();
    for (const s of [...this.sockets]) s.destroy();
  }

  private reboot(ms: number): void {
    if (this.closed || this.rebootTimer) return;
    this.stats.reboots++;
    this.fault = null;
    this.server.close();
    this.dropEverything();
    this.rebootTimer = setTimeout(() => {
      this.rebootTimer = null;
      if (this.closed) return;
      this.bootId = randomBytes(16).toString('hex');
      this.bootAt = Date.now();
      this.auth.reset();
      this.listen(this._port).then(
        () => this.wakeReady(),
        () => this.wakeReady(), // port taken meanwhile: stays down, as a dead camera would
      );
    }, ms);
  }

  private paramDefaults(): { cameras: number; quad: boolean; resolution: string; fps: number } {
    return {
      cameras: this.opts.cameras + this.opts.viewAreas,
      quad: this.opts.cameras >= 2,
      resolution: this.opts.defaultResolution,
      fps: this.opts.defaultFps,
    };
  }

  private identity(): DeviceIdentity {
    const o = this.opts;
    return {
      model: o.model,
      firmware: o.firmware,
      serial: o.serial,
      cameras: o.cameras,
      viewAreas: o.viewAreas,
      defaultResolution: o.defaultResolution,
      defaultFps: o.defaultFps,
      maxViewers: o.maxViewers,
    };
  }

  private specFor(p: StreamParams): FrameSpec {
    return {
      width: p.width,
      height: p.height,
      quality: p.quality,
      camera: p.camera,
      rotation: p.rotation,
      mirror: p.mirror,
      clock: p.clock,
      date: p.date,
      text: p.text,
      textPos: p.textPos,
      label: `AXIS ${this.opts.model}`,
      cycle: CYCLE_FRAMES,
      ...this.sceneSpec(),
    };
  }

  /**
   * What the PTZ head and the I/O add to the picture, quantized so a move
   * gives a bounded set of distinct pictures (each one is rendered once).
   */
  private sceneSpec(): Pick<FrameSpec, 'view' | 'lamps'> {
    const out: Pick<FrameSpec, 'view' | 'lamps'> = {};
    const ptz = this.ptz;
    if (ptz) {
      const st = ptz.state;
      const q = (v: number, step: number): number => Math.round(v / step) * step;
      out.view = {
        pan: q(st.pan, PTZ_PICTURE_DEG),
        tilt: q(st.tilt, PTZ_PICTURE_DEG),
        zoom: Math.max(1, q(st.zoom, PTZ_PICTURE_ZOOM)),
        marks: this.ptzMarks ?? (this.ptzMarks = ptz.presets.map((p) => [p.name.toUpperCase(), p.pan, p.tilt] as const)),
      };
    }
    if (this.showLamps) {
      const lamps: [string, boolean][] = this.io.ports.map((p) => [`${p.direction === 'input' ? 'IN' : 'OUT'}${p.port}`, p.state !== p.normalState]);
      for (let v = 1; v <= VIRTUAL_INPUTS; v++) lamps.push([`VI${v}`, this.events.virtualInputActive(v)]);
      out.lamps = lamps;
    }
    return out;
  }

  /** The request came over TLS (the per-scheme auth policy offers Basic there). */
  private secure(req: http.IncomingMessage): boolean {
    return (req.socket as Socket & { encrypted?: boolean }).encrypted === true;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.stats.requests++;
    try {
      this.onRequest?.(req);
    } catch {
      // A test hook throwing must not take the camera down.
    }
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const pathname = q < 0 ? target : target.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
    const method = req.method ?? 'GET';

    const fault = this.fault;
    if (fault?.kind === 'status') {
      this.sendStatus(res, fault.status, fault.status === 401 ? this.auth.challenges(false, this.secure(req)) : undefined);
      return;
    }

    const route = ROUTES.get(pathname);
    if (!route || (route.kind === 'stream' && this.opts.snapshotOnly)) {
      this.sendStatus(res, 404);
      return;
    }
    if (!route.methods.includes(method)) {
      res.setHeader('Allow', route.methods.join(', '));
      this.sendStatus(res, 405);
      return;
    }
    if (fault?.kind === 'html' && (route.kind === 'stream' || route.kind === 'snapshot')) {
      this.sendText(res, 200, 'text/html', HTML_LOGIN_PAGE);
      return;
    }
    if (route.kind !== 'systemready') {
      const a = this.auth.verify(method, target, req.headers.authorization, this.secure(req));
      if (!a.ok) {
        if (a.presented) {
          this.stats.authFailures++;
          this.lastAuthFailure = a.reason;
        }
        this.sendStatus(res, 401, a.challenges);
        return;
      }
    }

    switch (route.kind) {
      case 'events':
        this.events.handle(req, res, pathname);
        return;
      case 'systemready':
        this.readBody(req, res, (body) => {
          let context: unknown;
          try {
            context = body ? (JSON.parse(body) as { context?: unknown }).context : undefined;
          } catch {
            context = undefined;
          }
          this.sendJson(res, systemReady(this.bootId, (Date.now() - this.bootAt) / 1000, context));
        });
        return;
      case 'deviceinfo':
        this.readBody(req, res, (body) => this.sendJson(res, basicDeviceInfo(body, this.identity())));
        return;
      case 'param':
        // As Axis serves it: ISO-8859-1 bytes, and the header says so.
        this.sendText(res, 200, 'text/plain; charset=ISO-8859-1', paramList(query, this.identity(), this.extraParams()), false, 'latin1');
        return;
      case 'ptz':
        this.ptzRequest(req, res, method, query);
        return;
      case 'io':
        this.ioRequest(req, res, pathname, query);
        return;
      case 'snapshot':
        this.snapshot(req, res, query);
        return;
      case 'stream':
        this.stream(req, res, query);
        return;
    }
  }

  /** Parameters of the optional parts (PTZ, I/O), without `root.`. */
  private extraParams(): [string, string][] {
    return [...this.io.params(), ...(this.ptz ? this.ptz.params() : [])];
  }

  private ioRequest(req: http.IncomingMessage, res: http.ServerResponse, pathname: string, query: URLSearchParams): void {
    const io = this.io;
    const text = ([status, body]: [number, string], type: string): void => {
      if (status === 404) this.sendStatus(res, 404);
      else this.sendText(res, status, type, body);
    };
    switch (pathname) {
      case '/axis-cgi/io/portmanagement.cgi':
        this.readBody(req, res, (body) => {
          const [status, json] = io.portManagement(body);
          if (status === 404) this.sendStatus(res, 404);
          else this.sendJson(res, json);
        });
        return;
      case '/axis-cgi/io/port.cgi':
        text(io.portCgi(query), 'text/plain');
        return;
      case '/axis-cgi/virtualinput/activate.cgi':
        text(io.virtualInput('activate', query), 'text/xml');
        return;
      case '/axis-cgi/virtualinput/deactivate.cgi':
        text(io.virtualInput('deactivate', query), 'text/xml');
        return;
      default:
        text(io.manualTrigger(query), 'text/plain');
    }
  }

  private ptzRequest(req: http.IncomingMessage, res: http.ServerResponse, method: string, query: URLSearchParams): void {
    const ptz = this.ptz;
    if (!ptz) {
      this.sendStatus(res, 404);
      return;
    }
    const answer = (args: URLSearchParams): void => {
      const [status, body] = ptz.handle(args);
      if (status === 204) {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(204);
          res.end();
        }
        return;
      }
      this.sendText(res, status, 'text/plain; charset=ISO-8859-1', body, false, 'latin1');
    };
    if (method === 'POST') this.readBody(req, res, (body) => answer(new URLSearchParams(body)));
    else answer(query);
  }

  private stream(req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams): void {
    this.stats.streamRequests++;
    const parsed = parseStreamParams(query, this.paramDefaults());
    if (!parsed.ok) {
      this.sendText(res, 200, 'text/plain', parsed.message, true);
      return;
    }
    if (this.stats.activeStreams >= this.opts.maxViewers) {
      res.setHeader('Retry-After', String(RETRY_AFTER_S));
      this.sendStatus(res, 503);
      return;
    }
    const p = parsed.params;
    let sink: Sink;
    let onGone: (fn: () => void) => void;
    if (this.opts.framing === 'close') {
      // By hand on the socket: node's ServerResponse cannot speak HTTP/1.0
      // close-delimited the way Axis firmware does.
      const socket = req.socket;
      socket.write(
        'HTTP/1.0 200 OK\r\nCache-Control: no-cache\r\nPragma: no-cache\r\nConnection: close\r\n' +
          `Content-Type: ${MJPEG_CONTENT_TYPE}\r\n\r\n`,
      );
      sink = sinkOfSocket(socket);
      onGone = (fn) => socket.once('close', fn);
    } else {
      res.writeHead(200, { 'Cache-Control': 'no-cache', Pragma: 'no-cache', 'Content-Type': MJPEG_CONTENT_TYPE });
      sink = sinkOfResponse(res);
      onGone = (fn) => res.once('close', fn);
    }
    this.stats.activeStreams++;
    const s = new MjpegStream({
      sink,
      // Asked per frame: the picture follows the PTZ head and the ports while streaming.
      spec: () => this.specFor(p),
      fps: p.fps,
      maxFrames: p.maxFrames,
      durationMs: p.durationMs,
      fault: () => this.fault,
      onFrame: () => this.stats.framesSent++,
      onSkip: () => this.stats.framesSkipped++,
      onDone: () => {
        this.stats.activeStreams--;
        this.streams.delete(s);
      },
    });
    this.streams.add(s);
    onGone(() => s.stop());
    s.start();
  }

  private snapshot(req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams): void {
    // Snapshots take the stream parameters but no fps/duration/frame limit.
    const parsed = parseStreamParams(query, this.paramDefaults());
    if (!parsed.ok) {
      this.sendText(res, 200, 'text/plain', parsed.message, true);
      return;
    }
    const spec = this.specFor(parsed.params);
    frameCache.ready(spec).then(() => {
      if (res.destroyed || this.closed) return;
      const raw = frameCache.frame(spec, Math.floor(Date.now() / 100));
      if (!raw) {
        this.sendStatus(res, 503);
        return;
      }
      this.stats.snapshots++;
      const jpeg = stampJpeg(raw, `${FRAME_COMMENT_PREFIX} seq=${this.stats.snapshots} t=${Date.now()} cam=${spec.camera}`);
      const fault = this.fault;
      if (fault?.kind === 'stall') return; // headers never come; the socket stays open
      const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'image/jpeg', 'Cache-Control': 'no-cache' };
      if (fault?.kind === 'no-length') headers['Connection'] = 'close';
      else headers['Content-Length'] = String(jpeg.length);
      res.writeHead(200, headers);
      if (fault?.kind === 'drop-mid-frame') {
        res.write(jpeg.subarray(0, jpeg.length >> 1), () => req.socket.destroy());
        return;
      }
      if (fault?.kind === 'slow') {
        this.trickle(res, jpeg, fault.bytesPerSec);
        return;
      }
      res.end(jpeg);
    }, () => this.sendStatus(res, 500));
  }

  /** Writes `data` at about `bytesPerSec`, in 50 ms steps. */
  private trickle(res: http.ServerResponse, data: Buffer, bytesPerSec: number): void {
    const stepMs = 50;
    const step = Math.max(1, Math.floor((bytesPerSec * stepMs) / 1000));
    let off = 0;
    const next = (): void => {
      if (res.destroyed || this.closed) return;
      const end = Math.min(data.length, off + step);
      res.write(data.subarray(off, end));
      off = end;
      if (off >= data.length) {
        res.end();
        return;
      }
      const t = setTimeout(() => {
        this.pendingTimers.delete(t);
        next();
      }, stepMs);
      this.pendingTimers.add(t);
    };
    next();
  }

  private readBody(req: http.IncomingMessage, res: http.ServerResponse, done: (body: string) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        this.sendStatus(res, 413);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size <= MAX_BODY_BYTES) done(Buffer.concat(chunks).toString('utf8'));
    });
  }

  private sendJson(res: http.ServerResponse, body: unknown): void {
    this.sendText(res, 200, 'application/json', JSON.stringify(body));
  }

  private sendText(res: http.ServerResponse, status: number, type: string, body: string, close = false, encoding: 'utf8' | 'latin1' = 'utf8'): void {
    if (res.headersSent || res.destroyed) return;
    const buf = Buffer.from(body, encoding);
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(buf.length), ...(close ? { Connection: 'close' } : {}) });
    res.end(buf);
  }

  private sendStatus(res: http.ServerResponse, status: number, challenges?: string[]): void {
    if (challenges) res.setHeader('WWW-Authenticate', challenges);
    if (status === 503 && !res.hasHeader('Retry-After')) res.setHeader('Retry-After', String(RETRY_AFTER_S));
    const text = STATUS_TEXT[status] ?? 'Error';
    this.sendText(res, status, 'text/html', `<HTML><HEAD><TITLE>${status} ${text}</TITLE></HEAD><BODY><H1>${status} ${text}</H1></BODY></HTML>\n`);
  }
}

type RouteKind = 'stream' | 'snapshot' | 'deviceinfo' | 'param' | 'systemready' | 'events' | 'ptz' | 'io';
const ROUTES = new Map<string, { kind: RouteKind; methods: string[] }>([
  ['/axis-cgi/mjpg/video.cgi', { kind: 'stream', methods: ['GET'] }],
  ['/axis-cgi/jpg/image.cgi', { kind: 'snapshot', methods: ['GET'] }],
  ['/axis-cgi/basicdeviceinfo.cgi', { kind: 'deviceinfo', methods: ['POST'] }],
  ['/axis-cgi/param.cgi', { kind: 'param', methods: ['GET'] }],
  ['/axis-cgi/systemready.cgi', { kind: 'systemready', methods: ['GET', 'POST'] }],
  ['/axis-cgi/com/ptz.cgi', { kind: 'ptz', methods: ['GET', 'POST'] }],
  ['/axis-cgi/io/portmanagement.cgi', { kind: 'io', methods: ['POST'] }],
  ['/axis-cgi/io/port.cgi', { kind: 'io', methods: ['GET'] }],
  ['/axis-cgi/io/virtualinput.cgi', { kind: 'io', methods: ['GET'] }],
  ['/axis-cgi/virtualinput/activate.cgi', { kind: 'io', methods: ['GET'] }],
  ['/axis-cgi/virtualinput/deactivate.cgi', { kind: 'io', methods: ['GET'] }],
  ['/axis-cgi/wssession.cgi', { kind: 'events', methods: ['GET'] }],
  ['/axis-cgi/apidiscovery.cgi', { kind: 'events', methods: ['POST'] }],
  ['/vapix/services', { kind: 'events', methods: ['POST'] }],
  ['/vapix/ws-data-stream', { kind: 'events', methods: ['GET'] }],
]);

export async function startSimulator(opts?: SimulatorOptions): Promise<CameraSimulator> {
  return new CameraSimulator(opts).start();
}
