/**
 * The camera wall in Node-RED: the service the Dashboard 2.0 camera widget
 * (companion package @axmjpeg/node-red-dashboard-2-axmjpeg-camera) uses to
 * show this package's streams.
 *
 * - Sources: an axmjpeg-out node (its frames, through the in-process frame
 *   channel of its path) or an axmjpeg-camera config node (subscribed only
 *   while a tile watches, so the camera is released after its linger time).
 * - `GET <httpNodeRoot>axmjpeg-wall/ticket`: a one-time ticket for the socket,
 *   behind httpNodeAuth and httpNodeMiddleware like every node route.
 * - `<httpNodeRoot>axmjpeg-wall/ws?ticket=`: one WebSocket per page on
 *   RED.server carrying every tile's JPEGs (src/wall).
 * - `GET <httpNodeRoot>axmjpeg-wall/still/<widget id>?after=<ms>`: the newest
 *   JPEG, for pages that cannot stream (the widget's polling fallback).
 *
 * Frames never go over the dashboard's socket.io. The widget package finds
 * the service on globalThis (CAMERA_WALL_KEY), so neither package has to
 * resolve the other's files.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NodeAPI } from 'node-red';
import { frameChannels, type ChannelFrame } from '../../src/relay/frame-channel';
import { NO_CACHE_HEADERS, formatTimestamp } from '../../src/relay/multipart';
import { TicketStore } from '../../src/wall/tickets';
import { WallServer } from '../../src/wall/server';
import { WallWidgets, type ResolvedSource, type SourceListener } from '../../src/wall/widgets';
import type { StreamSettings } from '../../src/vapix-url';
import type { AxisCameraApi } from './types';
import { reasonText } from './report';

export const CAMERA_WALL_KEY = Symbol.for('@axmjpeg/camera-wall/v1');
/** Below httpNodeRoot. */
export const WALL_BASE = '/axmjpeg-wall';
/** A still poll keeps a camera source open this long after it. */
const STILL_LEASE_MS = 10_000;
/** A still poll waits at most this long for a frame newer than `after`. */
const STILL_WAIT_MS = 2_000;
const SNAPSHOT_WAIT_MS = 5_000;

/** Where a widget's pictures come from, as the widget's editor saves it. */
export interface WallSourceSpec {
  /** Node id of an axmjpeg-out node or an axmjpeg-camera config node. */
  id?: string;
  /** axmjpeg-out path, when the node is gone or for msg.source = '/path'. */
  path?: string;
  /** Camera sources: channel (`camera` in VAPIX) and resolution. */
  cameraNumber?: string;
  resolution?: string;
}

export interface WallWidgetHandle {
  /** Switches every tile of the widget; returns an error text or null. */
  setSource(source: WallSourceSpec | string): string | null;
  setPaused(paused: boolean): void;
  readonly paused: boolean;
  /** Why the widget's source cannot be shown (for the node's status), or null. */
  readonly problem: string | null;
  /** The label its tiles show (the widget's, else the source's name). */
  readonly label: string;
  /** The newest frame of the widget's source (opens it briefly if needed). */
  snapshot(): Promise<(ChannelFrame & { label: string }) | null>;
  detach(): void;
}

export interface CameraWallApi {
  readonly version: 1;
  /** URL paths (below the server root, httpNodeRoot included) the browser uses. */
  paths(): { ticket: string; ws: string; still: string };
  attach(widgetId: string, opts: { source: WallSourceSpec | string; label?: string }): WallWidgetHandle;
  /** For tests and the bench: pages, tiles, sources open. */
  stats(): { connections: number; widgets: number; tiles: number; openSources: number; sent: number; dropped: number };
}

type Handler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
type ExpressLike = { get(path: string, ...h: Handler[]): void };
type UpgradeServer = { on(ev: 'upgrade', l: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): void; off?(ev: string, l: unknown): void };

interface FlowNodeDef {
  id: string;
  type: string;
  name?: string;
  url?: string;
}

function joinPath(root: unknown, rel: string): string {
  const r = typeof root === 'string' ? root : '/';
  return `/${r}/${rel}`.replace(/\/+/g, '/');
}

function cameraOverrides(spec: WallSourceSpec): StreamSettings {
  const o: StreamSettings = {};
  if (spec.cameraNumber) o.camera = String(spec.cameraNumber);
  if (spec.resolution) o.resolution = String(spec.resolution);
  return o;
}

class WallService implements CameraWallApi {
  readonly version = 1 as const;
  private RED: NodeAPI | null = null;
  private readonly tickets = new TicketStore();
  private readonly widgets = new WallWidgets((s) => this.resolve(s));
  private server: WallServer | null = null;
  private serverPath = '';
  private upgradeOn: UpgradeServer | null = null;
  private readonly routedApps = new WeakSet<object>();
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    this.server?.handleUpgrade(req, socket, head);
  };

  /** (Re)binds to a Node-RED runtime: tests start many, and a real one calls this once per node type. */
  install(RED: NodeAPI): void {
    this.RED = RED;
    const settings = RED.settings as unknown as Record<string, unknown>;
    if (settings.httpNodeRoot === false) return;
    const wsPath = joinPath(settings.httpNodeRoot, `${WALL_BASE}/ws`);
    if (!this.server || wsPath !== this.serverPath) {
      this.server?.close();
      this.server = new WallServer({ path: wsPath, widgets: this.widgets, tickets: this.tickets });
      this.serverPath = wsPath;
    }
    const srv = (RED as unknown as { server?: UpgradeServer }).server;
    if (srv && srv !== this.upgradeOn) {
      this.upgradeOn?.off?.('upgrade', this.onUpgrade);
      srv.on('upgrade', this.onUpgrade);
      this.upgradeOn = srv;
    }
    const app = RED.httpNode as unknown as ExpressLike & object;
    if (app && !this.routedApps.has(app)) {
      this.routedApps.add(app);
      this.mountRoutes(app, settings);
    }
  }

  paths(): { ticket: string; ws: string; still: string } {
    const root = (this.RED?.settings as unknown as Record<string, unknown> | undefined)?.httpNodeRoot;
    return { ticket: joinPath(root, `${WALL_BASE}/ticket`), ws: joinPath(root, `${WALL_BASE}/ws`), still: joinPath(root, `${WALL_BASE}/still`) };
  }

  attach(widgetId: string, opts: { source: WallSourceSpec | string; label?: string }): WallWidgetHandle {
    this.widgets.register(widgetId, { source: opts.source, label: opts.label });
    const widgets = this.widgets;
    let detached = false;
    return {
      setSource: (source) => (detached ? 'detached' : this.widgets.setSource(widgetId, source)),
      setPaused: (p) => {
        if (!detached) this.widgets.setPaused(widgetId, p);
      },
      get paused() {
        return widgets.isPaused(widgetId);
      },
      get problem() {
        return widgets.problemOf(widgetId);
      },
      get label() {
        return widgets.labelOf(widgetId);
      },
      snapshot: async () => {
        if (detached) return null;
        const f = await this.widgets.latest(widgetId, { waitMs: SNAPSHOT_WAIT_MS, leaseMs: STILL_LEASE_MS });
        return f ? { ...f, label: this.widgets.labelOf(widgetId) } : null;
      },
      detach: () => {
        if (detached) return;
        detached = true;
        this.widgets.unregister(widgetId);
      },
    };
  }

  stats(): ReturnType<CameraWallApi['stats']> {
    const conns = this.server?.connectionStats ?? [];
    return {
      connections: conns.length,
      ...this.widgets.stats,
      sent: conns.reduce((n, c) => n + c.sent, 0),
      dropped: conns.reduce((n, c) => n + c.dropped, 0),
    };
  }

  private mountRoutes(app: ExpressLike, settings: Record<string, unknown>): void {
    const mw = settings.httpNodeMiddleware;
    const user: Handler[] = typeof mw === 'function' ? [mw as Handler] : Array.isArray(mw) ? (mw as Handler[]) : [];
    app.get(`${WALL_BASE}/ticket`, ...user, (_req, res) => {
      const body = JSON.stringify({ ticket: this.tickets.issue(), ws: this.paths().ws });
      res.writeHead(200, { ...NO_CACHE_HEADERS, 'Content-Type': 'application/json' });
      res.end(body);
    });
    app.get(`${WALL_BASE}/still/:widget`, ...user, (req, res) => {
      void this.serveStill(req as IncomingMessage & { params?: Record<string, string> }, res);
    });
  }

  private async serveStill(req: IncomingMessage & { params?: Record<string, string> }, res: ServerResponse): Promise<void> {
    const id = req.params?.widget ?? '';
    if (!this.widgets.isRegistered(id)) {
      res.writeHead(404, { ...NO_CACHE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('No camera widget with that id is deployed\n');
      return;
    }
    const q = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const after = Number(q.get('after'));
    const f = await this.widgets.latest(id, { after: Number.isFinite(after) ? after : undefined, waitMs: STILL_WAIT_MS, leaseMs: STILL_LEASE_MS });
    if (res.destroyed) return;
    if (!f) {
      // Nothing newer yet: the page asks again (204 keeps its current picture).
      res.writeHead(204, { ...NO_CACHE_HEADERS, 'Retry-After': '1' });
      res.end();
      return;
    }
    res.writeHead(200, {
      ...NO_CACHE_HEADERS,
      'Content-Type': 'image/jpeg',
      'Content-Length': String(f.jpeg.length),
      'X-Timestamp': formatTimestamp(f.time),
      'X-Frame-Time': String(f.time),
    });
    res.end(f.jpeg);
  }

  // ------------------------------------------------------------ sources

  private flowNode(pred: (n: FlowNodeDef) => boolean): FlowNodeDef | null {
    let found: FlowNodeDef | null = null;
    (this.RED?.nodes as unknown as { eachNode?: (cb: (n: FlowNodeDef) => void) => void } | undefined)?.eachNode?.((n) => {
      if (!found && pred(n)) found = n;
    });
    return found;
  }

  /** A source spec, a node id, an output path or an output/camera name → a source. */
  private resolve(raw: unknown): ResolvedSource | { error: string } {
    const RED = this.RED;
    if (!RED) return { error: 'the camera package is not loaded' };
    let spec: WallSourceSpec;
    if (typeof raw === 'string') {
      const s = raw.trim();
      if (s.startsWith('/')) spec = { path: s };
      else if (RED.nodes.getNode(s) || this.flowNode((n) => n.id === s)) spec = { id: s };
      else {
        const byName = this.flowNode((n) => (n.type === 'axmjpeg-out' || n.type === 'axmjpeg-camera') && n.name === s);
        if (!byName) return { error: `no axmjpeg-out or axmjpeg-camera node with id, path or name ${JSON.stringify(s).slice(0, 80)}` };
        spec = { id: byName.id };
      }
    } else if (raw && typeof raw === 'object') {
      spec = raw as WallSourceSpec;
    } else {
      return { error: 'no source chosen: pick an MJPEG output or a camera in the widget' };
    }

    if (spec.id) {
      const node = RED.nodes.getNode(spec.id) as unknown as (AxisCameraApi & { type: string; name?: string }) | null;
      if (node && node.type === 'axmjpeg-camera') return this.cameraSource(spec.id, node, spec);
      const def = this.flowNode((n) => n.id === spec.id);
      const path = frameChannels().pathOf(spec.id) ?? (def?.type === 'axmjpeg-out' && def.url ? def.url : null) ?? spec.path ?? null;
      if (path) return this.channelSource(path, def?.name || (node as { name?: string } | null)?.name || path);
      if (def) return { error: `node ${spec.id} is a ${def.type}, not an axmjpeg-out or axmjpeg-camera` };
      return { error: `the source node ${spec.id} is not deployed (deleted or disabled?)` };
    }
    if (spec.path) return this.channelSource(spec.path, spec.path);
    return { error: 'no source chosen: pick an MJPEG output or a camera in the widget' };
  }

  private channelSource(path: string, label: string): ResolvedSource {
    return {
      key: `out:${path.toLowerCase()}`,
      label,
      open(listener: SourceListener) {
        const reg = frameChannels();
        const off = reg.subscribe(path, {
          frame: (f) => listener.frame(f),
          online: (up) => listener.state(up ? { state: 'waiting' } : { state: 'offline', detail: `${path} is not deployed` }),
        });
        const info = reg.info(path);
        if (!info.online) listener.state({ state: 'offline', detail: `${path} is not deployed` });
        else {
          const latest = reg.latest(path);
          if (latest) listener.frame(latest);
        }
        return { stop: off };
      },
    };
  }

  private cameraSource(id: string, camera: AxisCameraApi, spec: WallSourceSpec): ResolvedSource {
    const overrides = cameraOverrides(spec);
    return {
      key: `camera:${id}:${JSON.stringify(overrides)}`,
      label: camera.displayName + (overrides.camera ? ` ${overrides.camera}` : ''),
      open(listener: SourceListener) {
        let sub: ReturnType<AxisCameraApi['subscribe']> | null = null;
        try {
          sub = camera.subscribe(overrides, {
            onFrame: (f) => listener.frame({ jpeg: f.data, time: f.time }),
            onState: (c) => {
              if (c.state === 'connecting') listener.state({ state: c.attempt > 0 ? 'reconnecting' : 'connecting' });
              else if (c.state === 'streaming') listener.state({ state: 'live' });
              else if (c.state === 'backoff') listener.state({ state: 'reconnecting', detail: reasonText(c.error) });
              else if (c.state === 'stopped') listener.state({ state: 'offline', detail: reasonText(c.error) || 'stopped' });
            },
          });
          listener.state({ state: 'connecting' });
        } catch (e) {
          listener.state({ state: 'offline', detail: (e as Error).message });
        }
        return { stop: () => sub?.unsubscribe() };
      },
    };
  }
}

const g = globalThis as unknown as Record<symbol, WallService | undefined>;
const svc: WallService = g[CAMERA_WALL_KEY] instanceof WallService ? g[CAMERA_WALL_KEY]! : new WallService();

/** Makes the camera wall available to the dashboard widget (idempotent; call from a node module). */
export function installCameraWall(RED: NodeAPI): CameraWallApi {
  const existing = g[CAMERA_WALL_KEY];
  // Another copy of this package (another version) got here first: it serves the widget.
  if (existing && existing !== svc) return existing;
  svc.install(RED);
  g[CAMERA_WALL_KEY] = svc;
  return svc;
}
