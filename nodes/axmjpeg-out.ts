/**
 * axmjpeg-out: serves the frames it receives as a live MJPEG stream on a
 * path of Node-RED's HTTP server (RED.httpNode: httpNodeAuth applies where
 * Node-RED's own launcher sets it up, and httpNodeMiddleware and httpNodeCors
 * are honoured here as the core http-in node does). The streaming logic is in src/relay; this file mounts the routes,
 * maps msgs and shows status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import {
  MjpegBroadcaster,
  DEFAULT_MAX_VIEWERS,
  DEFAULT_MAX_VIEWERS_PER_ADDRESS,
  DEFAULT_STUCK_TIMEOUT_MS,
  MAX_FPS_PARAM,
  MIN_FPS_PARAM,
} from '../src/relay/broadcaster';
import { validateRelayPath, snapshotPath } from '../src/relay/path';
import { corsHeaders, CorsSetting } from '../src/relay/cors';
import { frameChannels } from '../src/relay/frame-channel';
import { CameraError, ErrorCodes } from '../src/errors';
import { PlaceholderCache, offlineLines, DEFAULT_PLACEHOLDER_WIDTH, DEFAULT_PLACEHOLDER_HEIGHT, formatUtc } from '../src/relay/placeholder';
import { jpegSize } from '../src/jpeg/jpeg-info';
import { frameMsgProblem, isFrameMsg, originOf } from './lib/types';
import { parseTrustedProxies } from '../src/relay/address';
import { sourceState } from './lib/source-state';
import { judgeOffline, type OfflineVerdict } from './lib/offline';
import { installCameraWall } from './lib/wall-service';

interface HttpOutMjpgDef extends NodeDef {
  url: string;
  maxViewers: string | number;
  /** Absent in flows saved before it existed: the default applies. */
  maxPerAddress?: string | number;
  fps: string | number;
  stuckTimeout: string | number;
  /** Absent in older flows: the defaults apply. */
  offlineAfter?: string | number;
  offlineSnapshot?: 'placeholder' | '503';
  /** Proxy addresses whose X-Forwarded-For is believed (address.ts); absent/blank: none. */
  trustProxy?: string;
}

type InMsg = NodeMessage & Record<string, unknown>;
type Handler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** Express route layer, as much of it as route removal needs. */
interface Layer {
  route?: { path: string; stack: { handle: unknown }[] };
}

/** Status is refreshed at most this often, not per frame. */
const STATUS_INTERVAL_MS = 1000;
const MAX_VIEWERS_LIMIT = 10_000;
const MAX_STUCK_TIMEOUT_S = 3600;
/** Seconds of a source being down before viewers get the offline picture. */
const DEFAULT_OFFLINE_AFTER_S = 5;
const MAX_OFFLINE_AFTER_S = 3600;

function numberSetting(raw: unknown, dflt: number): number {
  return raw === undefined || raw === null || raw === '' ? dflt : Number(raw);
}

/**
 * Express 4 keeps the router in `_router` (created with the first route; its
 * `router` getter throws), express 5 in `router`.
 */
function routeStack(app: unknown): Layer[] | null {
  const a = app as { _router?: { stack?: Layer[] }; router?: { stack?: Layer[] }; lazyrouter?: unknown };
  if (a?._router) return a._router.stack ?? null;
  if (typeof a?.lazyrouter === 'function') return null;
  return a?.router?.stack ?? null;
}

export = function (RED: NodeAPI): void {
  // The Dashboard 2.0 camera widget's service (companion package); idempotent.
  installCameraWall(RED);
  function HttpOutMjpgNode(this: Node, def: HttpOutMjpgDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const settings = RED.settings as unknown as Record<string, unknown>;

    function refuse(text: string, statusKey: string): void {
      node.error(text);
      node.status({ fill: 'red', shape: 'ring', text: RED._(`axmjpeg-out.status.${statusKey}`) });
      node.on('input', (_msg: InMsg, _send: unknown, done: (err?: Error) => void) => done());
    }

    if (settings.httpNodeRoot === false) {
      refuse(RED._('axmjpeg-out.errors.disabled'), 'disabled');
      return;
    }

    let path: string;
    const maxViewers = numberSetting(def.maxViewers, DEFAULT_MAX_VIEWERS);
    const maxPerAddress = numberSetting(def.maxPerAddress, DEFAULT_MAX_VIEWERS_PER_ADDRESS);
    const fps = numberSetting(def.fps, 0);
    const stuckS = numberSetting(def.stuckTimeout, DEFAULT_STUCK_TIMEOUT_MS / 1000);
    const offlineAfterS = numberSetting(def.offlineAfter, DEFAULT_OFFLINE_AFTER_S);
    const offlineSnapshot = def.offlineSnapshot === '503' ? '503' : 'placeholder';
    let trustedProxies: Set<string>;
    try {
      path = validateRelayPath(def.url);
      const bad = (key: string, extra: Record<string, string | number> = {}): never => {
        throw new CameraError(ErrorCodes.INVALID_SETTING, RED._(`axmjpeg-out.errors.${key}`, extra));
      };
      if (!Number.isInteger(maxViewers) || maxViewers < 1 || maxViewers > MAX_VIEWERS_LIMIT) bad('maxViewers', { max: MAX_VIEWERS_LIMIT });
      if (!Number.isInteger(maxPerAddress) || maxPerAddress < 0 || maxPerAddress > MAX_VIEWERS_LIMIT) bad('maxPerAddress', { max: MAX_VIEWERS_LIMIT });
      if (!Number.isFinite(fps) || fps < 0 || fps > MAX_FPS_PARAM || (fps > 0 && fps < MIN_FPS_PARAM)) bad('fps', { min: MIN_FPS_PARAM, max: MAX_FPS_PARAM });
      if (!Number.isFinite(stuckS) || stuckS < 0 || stuckS > MAX_STUCK_TIMEOUT_S) bad('stuckTimeout', { max: MAX_STUCK_TIMEOUT_S });
      if (!Number.isFinite(offlineAfterS) || offlineAfterS < 0 || offlineAfterS > MAX_OFFLINE_AFTER_S) bad('offlineAfter', { max: MAX_OFFLINE_AFTER_S });
      try {
        trustedProxies = parseTrustedProxies(def.trustProxy);
      } catch (e) {
        bad('trustProxy', { problem: (e as Error).message });
      }
    } catch (e) {
      const err = e as CameraError;
      refuse(`${err.message}. ${err.hint}`, 'config');
      return;
    }

    const bc = new MjpegBroadcaster({ maxViewers, maxViewersPerAddress: maxPerAddress, maxFps: fps, stuckTimeoutMs: stuckS * 1000, offlineSnapshot, trustedProxies: trustedProxies! });
    // In-process consumers of the same frames (the Dashboard 2.0 camera widget), by path.
    const channel = frameChannels().open(path, node.id);

    // Same chain as the core http-in node: user middleware, then CORS.
    const mw = settings.httpNodeMiddleware;
    const userMiddleware: Handler | Handler[] =
      typeof mw === 'function' || Array.isArray(mw) ? (mw as Handler | Handler[]) : (_req, _res, next) => next();
    const cors: Handler = (req, res, next) => {
      for (const [k, v] of Object.entries(corsHeaders(settings.httpNodeCors as CorsSetting, req.headers.origin))) res.setHeader(k, v);
      next();
    };
    const streamHandler: Handler = (req, res) => bc.handle(req, res);
    const snapshotHandler: Handler = (req, res) => bc.serveSnapshot(req, res);
    const ours = new Set<unknown>([streamHandler, snapshotHandler]);

    const stack = routeStack(RED.httpNode);
    const taken = stack?.some((l) => l.route && [path, snapshotPath(path)].some((p) => l.route!.path.toLowerCase() === p.toLowerCase()));
    if (taken) node.warn(RED._('axmjpeg-out.warn.pathInUse', { path }));
    RED.httpNode.get(path, userMiddleware, cors, streamHandler);
    RED.httpNode.get(snapshotPath(path), userMiddleware, cors, snapshotHandler);

    function removeRoutes(): void {
      const routes = routeStack(RED.httpNode);
      if (!routes) return;
      // Backwards, so splicing does not skip the next layer.
      for (let i = routes.length - 1; i >= 0; i--) {
        if (routes[i].route?.stack.some((l) => ours.has(l.handle))) routes.splice(i, 1);
      }
    }

    // ---- source down: the offline picture instead of a frozen frame (lib/offline.ts)
    const startedAt = Date.now();
    let lastFrameAt: number | null = null;
    let sourceId: string | null = null;
    let offline: (OfflineVerdict & { at: number }) | null = null;
    const placeholders = new PlaceholderCache();
    const topic = def.name || path;

    function checkOffline(): void {
      const verdict = judgeOffline({ now: Date.now(), offlineAfterMs: offlineAfterS * 1000, startedAt, lastFrameAt, source: sourceId ? sourceState(sourceId) : null });
      if (!verdict) return;
      if (offline && offline.reason === verdict.reason && offline.stopped === verdict.stopped) return;
      const first = !offline;
      offline = { ...verdict, at: offline?.at ?? Date.now() };
      const size = bc.latest ? jpegSize(bc.latest) : null;
      const jpeg = placeholders.get({
        width: size?.width ?? DEFAULT_PLACEHOLDER_WIDTH,
        height: size?.height ?? DEFAULT_PLACEHOLDER_HEIGHT,
        ...offlineLines({ lastFrameAt, reason: verdict.reason, stopped: verdict.stopped }),
      });
      bc.showPlaceholder(jpeg);
      channel.publish(jpeg, Date.now());
      node.send({
        topic,
        payload: 'offline',
        offline: { since: verdict.since, lastFrame: lastFrameAt, reason: verdict.reason, code: verdict.code, stopped: verdict.stopped, first },
      } as never);
      showStatus();
    }

    function backOnline(): void {
      const was = offline!;
      offline = null;
      node.send({ topic, payload: 'online', offline: { since: was.since, until: Date.now(), reason: was.reason, code: was.code } } as never);
    }

    let lastStatus = '';
    function showStatus(): void {
      const s = bc.stats;
      const key = `${s.viewers}/${s.dropped}/${s.framesIn > 0}/${offline?.reason ?? ''}`;
      if (key === lastStatus) return;
      lastStatus = key;
      if (offline) {
        const since = offline.since ? formatUtc(offline.since).slice(11, 19) : '';
        node.status({ fill: 'red', shape: 'ring', text: RED._('axmjpeg-out.status.offline', { count: String(s.viewers), reason: offline.reason, since }) });
        return;
      }
      const text =
        s.dropped > 0
          ? RED._('axmjpeg-out.status.viewersDropped', { count: String(s.viewers), dropped: String(s.dropped) })
          : RED._('axmjpeg-out.status.viewers', { count: String(s.viewers) });
      node.status({ fill: s.viewers > 0 ? 'green' : 'grey', shape: s.framesIn > 0 ? 'dot' : 'ring', text });
    }
    const statusTimer = setInterval(() => {
      checkOffline();
      showStatus();
    }, STATUS_INTERVAL_MS);
    bc.on('viewers', showStatus);
    bc.on('evicted', (v) => node.warn(RED._('axmjpeg-out.warn.evicted', { remote: v.remote, seconds: String(stuckS) })));
    showStatus();

    /** Problems already reported since the last good frame: a wrong wire would otherwise log one error per msg. */
    const reported = new Set<string>();

    node.on('input', (msg: InMsg, _send: unknown, done: (err?: Error) => void) => {
      if (isFrameMsg(msg)) {
        reported.clear();
        const f = msg.frame;
        // The first hop's capture time, sequence and camera go on in the part headers (src/origin.ts),
        // from msg.frame or, for frames from mqtt in, from msg.userProperties (src/mqtt-frame.ts).
        const o = originOf(msg);
        lastFrameAt = Date.now();
        sourceId = typeof f?.source === 'string' ? f.source : null;
        bc.publish(msg.payload, { time: o?.time, seq: o?.seq, camera: o?.camera });
        if (offline) {
          backOnline();
          showStatus();
        }
        channel.publish(msg.payload, o?.time);
        done();
        return;
      }
      const problem = frameMsgProblem(msg);
      if (reported.has(problem)) {
        done();
        return;
      }
      reported.add(problem);
      done(new CameraError(ErrorCodes.NOT_JPEG, RED._(`axmjpeg-out.errors.${problem}`), { hint: RED._('axmjpeg-out.errors.hint') }));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      removeRoutes();
      bc.removeAllListeners();
      bc.close();
      channel.close();
      node.status({});
      done();
    });
  }

  RED.nodes.registerType('axmjpeg-out', HttpOutMjpgNode);
};
