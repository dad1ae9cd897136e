/**
 * axmjpeg-camera: the config node for one camera (or any MJPEG-over-HTTP source).
 *
 * It owns the HTTP client (and with it every socket to the camera) and the
 * stream hub, so all nodes that use the same camera and stream settings share
 * one camera connection.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { CameraHttpClient, CameraEndpoint } from '../src/http';
import { StreamHub } from '../src/hub';
import { StreamSession, Frame, type StateChange } from '../src/session';
import { HttpStreamSource } from '../src/http-source';
import { DEFAULT_POLL_FPS, PollingJpegSource } from '../src/polling-source';
import { StreamSettings, streamKey, validateStreamSettings, buildRequestTarget } from '../src/vapix-url';
import { fetchSnapshot } from '../src/snapshot';
import { fetchDeviceInfo } from '../src/device-info';
import { fetchVideoSources } from '../src/video-sources';
import { jpegSize } from '../src/jpeg/jpeg-info';
import { CameraError, ErrorCodes } from '../src/errors';
import { asTlsConfigNode, endpointFrom, Credentials } from './lib/endpoint';
import { DeployedCamera, MAX_TESTS_PER_MINUTE, registerSourcesEndpoint, registerTestEndpoint } from './lib/connection-test';
import type { AxisCameraApi, CameraSubscriber, CameraSubscription, DeviceInfo, SnapshotRequest, SnapshotResult } from './lib/types';
import { installCameraWall } from './lib/wall-service';

interface AxisCameraDef extends NodeDef {
  host: string;
  port: string | number;
  protocol: 'http' | 'https';
  auth: 'auto' | 'basic' | 'digest' | 'none';
  /** Absent in configs saved before the option: allowed, with a warning. */
  allowBasicHttp?: boolean;
  allowSelfSigned: boolean;
  ca: string;
  /** SHA-256 fingerprint of the one trusted certificate (Test connection offers it). */
  pinSha256?: string;
  tls: string;
  resolution: string;
  fps: string | number;
  compression: string | number;
  cameraNumber: string;
  rotation: string | number;
  clock: boolean;
  date: boolean;
  text: boolean;
  textstring: string;
  customPath: string;
  /**
   * 'mjpeg' (default, also for configs saved before the option): a stream; 'jpeg-poll': single JPEGs polled at fps;
   * 'mjpeg-url': another Node-RED's axmjpeg-out or any MJPEG URL, by its custom path alone (no VAPIX settings).
   */
  sourceType?: string;
  stallTimeout: string | number;
  linger: string | number;
  maxFrameMB: string | number;
  loginRetry?: string | number;
}


const DEFAULT_STALL_S = 10;
const DEFAULT_LINGER_S = 10;
const DEFAULT_LOGIN_RETRY_S = 60;
const DEFAULT_MAX_FRAME_MB = 16;

function num(v: unknown, fallback: number): number {
  if (v === undefined || v === null || v === '') return fallback;
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
}

/** Stream settings as configured in the editor (blank = camera default). */
function defaultSettings(def: Partial<AxisCameraDef>): StreamSettings {
  const s: StreamSettings = {};
  if (def.customPath) s.customPath = String(def.customPath).trim();
  if (def.resolution) s.resolution = def.resolution;
  if (def.fps !== undefined && def.fps !== '') s.fps = Number(def.fps);
  if (def.compression !== undefined && def.compression !== '') s.compression = Number(def.compression);
  if (def.cameraNumber) s.camera = def.cameraNumber;
  if (def.rotation !== undefined && def.rotation !== '' && Number(def.rotation) !== 0) s.rotation = Number(def.rotation);
  if (def.clock) s.clock = true;
  if (def.date) s.date = true;
  if (def.text || def.textstring) {
    s.text = true;
    if (def.textstring) s.textstring = def.textstring;
  }
  return s;
}

export = function (RED: NodeAPI): void {
  /** Only nodes this constructor made are in here: the Test connection's proof that an id is a deployed camera. */
  const deployed = new WeakMap<Node, DeployedCamera>();

  // The Dashboard 2.0 camera widget's service (companion package); idempotent.
  installCameraWall(RED);
  function AxisCameraNode(this: Node, def: AxisCameraDef): void {
    RED.nodes.createNode(this, def);
    const node = this as unknown as AxisCameraApi & Node & { credentials: Credentials };
    const creds: Credentials = node.credentials ?? {};
    let client: CameraHttpClient | null = null;
    let configError: CameraError | null = null;
    let endpoint: CameraEndpoint | null = null;
    let defaults: StreamSettings = {};

    const stallS = num(def.stallTimeout, DEFAULT_STALL_S);
    const lingerS = num(def.linger, DEFAULT_LINGER_S);
    const maxFrameMB = num(def.maxFrameMB, DEFAULT_MAX_FRAME_MB);
    const loginRetryS = num(def.loginRetry, DEFAULT_LOGIN_RETRY_S);
    const polled = def.sourceType === 'jpeg-poll';
    const byUrl = def.sourceType === 'mjpeg-url';
    try {
      if (def.sourceType !== undefined && def.sourceType !== '' && def.sourceType !== 'mjpeg' && !polled && !byUrl)
        throw new CameraError(ErrorCodes.INVALID_SETTING, `Source must be "mjpeg", "mjpeg-url" or "jpeg-poll", got "${String(def.sourceType)}"`);
      if (byUrl && !String(def.customPath ?? '').trim())
        throw new CameraError(ErrorCodes.INVALID_SETTING, 'Source "Node-RED / generic MJPEG" needs the custom path: the stream\'s path on that server, e.g. /camera/live');
      const tlsNode = def.tls ? asTlsConfigNode(RED.nodes.getNode(def.tls)) : null;
      if (def.tls && def.protocol === 'https' && !tlsNode)
        throw new CameraError(ErrorCodes.INVALID_SETTING, 'The TLS config node chosen for this camera is missing or not a tls-config node');
      endpoint = endpointFrom(def, creds, tlsNode);
      const why = endpoint.auth === 'basic' ? 'Auth is set to Basic' : 'the camera accepts only Basic auth';
      endpoint.onCleartextBasic = () =>
        node.warn(
          `${def.name || endpoint?.host}: ${why}, so the password crosses the network readable over http. ` +
            'Use https or Digest; untick "Allow Basic over http" to forbid this.',
        );
      // A relay or another MJPEG server takes no VAPIX parameters: the path alone, whatever else the dialog holds.
      defaults = validateStreamSettings(byUrl ? { customPath: String(def.customPath).trim() } : defaultSettings(def));
      if (!(stallS >= 0)) throw new CameraError(ErrorCodes.INVALID_SETTING, 'Stall timeout must be 0 or more seconds');
      if (!(lingerS >= 0)) throw new CameraError(ErrorCodes.INVALID_SETTING, 'Linger time must be 0 or more seconds');
      if (!(maxFrameMB > 0 && maxFrameMB <= 256))
        throw new CameraError(ErrorCodes.INVALID_SETTING, 'Max frame size must be 1-256 MB');
      if (!(loginRetryS >= 0 && loginRetryS <= 3600))
        throw new CameraError(ErrorCodes.INVALID_SETTING, 'Retry refused login after must be 0-3600 seconds');
    } catch (e) {
      configError = e as CameraError;
      node.error(`${configError.message}. ${configError.hint}`);
    }
    deployed.set(node, { endpoint: configError ? null : endpoint, def });
    const hub = new StreamHub({ lingerMs: lingerS * 1000 });
    /** Settings of every stream key handed to the hub, for latestFrame's lookup. */
    const streams = new Map<string, StreamSettings>();
    const label = def.name || (endpoint ? endpoint.host : 'camera');

    function getClient(): CameraHttpClient {
      if (configError || !endpoint) throw configError ?? new CameraError(ErrorCodes.INVALID_SETTING, 'Camera is not configured');
      client ??= new CameraHttpClient(endpoint);
      return client;
    }

    function settingsFor(overrides?: StreamSettings): StreamSettings {
      const merged: StreamSettings = { ...defaults };
      for (const [k, v] of Object.entries(overrides ?? {})) {
        if (v !== undefined && v !== null && v !== '') (merged as Record<string, unknown>)[k] = v;
      }
      return validateStreamSettings(merged);
    }

    Object.defineProperty(node, 'displayName', { value: label, enumerable: true });
    Object.defineProperty(node, 'loginRetryMs', { value: loginRetryS * 1000, enumerable: true });
    node.settingsFor = settingsFor;

    node.subscribe = (overrides: StreamSettings | undefined, sub: CameraSubscriber): CameraSubscription => {
      const settings = settingsFor(overrides);
      const c = getClient();
      const key = streamKey(settings);
      streams.set(key, settings);
      const maxFrameBytes = Math.round(maxFrameMB * 1024 * 1024);
      return hub.subscribe(
        key,
        () => {
          if (!polled) {
            return new StreamSession({
              source: new HttpStreamSource(c, buildRequestTarget(settings, 'mjpeg')),
              stallTimeoutMs: stallS * 1000,
              maxFrameBytes,
              backoff: { credentialRetryMs: loginRetryS * 1000 },
              stopWhenEnded: settings.duration !== undefined || settings.nbrofframes !== undefined,
            });
          }
          const fps = settings.fps ?? DEFAULT_POLL_FPS;
          // A slow poll rate is no stall: the watchdog waits at least two poll periods.
          const periodMs = fps > 0 ? 1000 / fps : 0;
          return new StreamSession({
            source: new PollingJpegSource(c, buildRequestTarget(settings, 'jpeg'), { fps, maxBytes: maxFrameBytes }),
            stallTimeoutMs: stallS > 0 ? Math.max(stallS * 1000, 2 * periodMs) : 0,
            maxFrameBytes,
            backoff: { credentialRetryMs: loginRetryS * 1000 },
          });
        },
        sub,
      );
    };

    /**
     * A snapshot wants the same picture, not the same frame rate: any running
     * stream whose image settings match will do.
     */
    const imageKey = (st: StreamSettings): string =>
      streamKey({ ...st, fps: undefined, duration: undefined, nbrofframes: undefined });

    node.latestFrame = (overrides?: StreamSettings) => {
      let wanted: string;
      try {
        wanted = imageKey(settingsFor(overrides));
      } catch {
        return null;
      }
      let best: Frame | null = null;
      for (const [key, st] of streams) {
        const session = hub.get(key);
        if (!session) {
          streams.delete(key);
          continue;
        }
        if (session.state !== 'streaming' || imageKey(st) !== wanted) continue;
        const f = session.latest;
        if (f && (!best || f.time > best.time)) best = f;
      }
      return best;
    };

    node.snapshot = async (overrides?: StreamSettings, signal?: AbortSignal, opts: SnapshotRequest = {}): Promise<SnapshotResult> => {
      const settings = settingsFor(overrides);
      const data = await fetchSnapshot(getClient(), settings, {
        ...(signal ? { signal } : {}),
        maxBytes: Math.round(maxFrameMB * 1024 * 1024),
        skipFrames: opts.skipFrames ?? 0,
        jpegUrl: polled,
      });
      const size = jpegSize(data);
      return { data, source: 'camera', time: Date.now(), width: size?.width ?? null, height: size?.height ?? null };
    };

    node.nextFrame = (overrides: StreamSettings | undefined, signal: AbortSignal, minSeq = 1): Promise<Frame> | null => {
      let wanted: string;
      try {
        wanted = imageKey(settingsFor(overrides));
      } catch {
        return null;
      }
      const live: StreamSession[] = [];
      for (const [key, st] of streams) {
        const session = hub.get(key);
        if (session && session.state === 'streaming' && imageKey(st) === wanted) live.push(session);
      }
      if (live.length === 0) return null;
      return new Promise<Frame>((resolve, reject) => {
        const onFrame = (f: Frame): void => {
          if (f.seq < minSeq) return;
          cleanup();
          resolve(f);
        };
        const onAbort = (): void => {
          cleanup();
          reject(signal.reason instanceof Error ? signal.reason : new CameraError(ErrorCodes.ABORTED, 'Waiting for a frame was cancelled'));
        };
        // The stream going away must not leave the wait (and its listener) behind until the timeout.
        const onState = (c: StateChange): void => {
          if (c.state === 'streaming') return;
          if (live.every((s) => s.state !== 'streaming')) {
            cleanup();
            reject(c.error ?? new CameraError(ErrorCodes.STREAM_ENDED, 'The live stream stopped before a new frame'));
          }
        };
        const cleanup = (): void => {
          for (const s of live) s.off('frame', onFrame).off('state', onState);
          signal.removeEventListener('abort', onAbort);
        };
        if (signal.aborted) return onAbort();
        for (const s of live) s.on('frame', onFrame).on('state', onState);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    };

    node.httpClient = () => getClient();

    node.videoSources = (signal?: AbortSignal) => {
      // A custom path or a polled URL is not a VAPIX device: there is nothing to list.
      if (defaults.customPath) return Promise.resolve([]);
      return fetchVideoSources(getClient(), signal);
    };

    node.deviceInfo = async (signal?: AbortSignal): Promise<DeviceInfo> => {
      const info = await fetchDeviceInfo(getClient(), signal);
      return { ...info };
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      const c = client;
      client = null;
      hub
        .close()
        .catch(() => {})
        .then(() => c?.close())
        .catch(() => {})
        .then(() => done());
    });
  }

  RED.nodes.registerType('axmjpeg-camera', AxisCameraNode as unknown as (this: Node, def: NodeDef) => void, {
    credentials: { user: { type: 'text' }, password: { type: 'password' } },
    // settings.js may raise or lower the cap on Test connection runs (a port scan needs many).
    settings: { axmjpegCameraTestsPerMinute: { value: MAX_TESTS_PER_MINUTE, exportable: false } },
  });

  registerSourcesEndpoint(RED, (n) => (n && n.type === 'axmjpeg-camera' && deployed.has(n) ? (n as unknown as AxisCameraApi) : undefined));

  registerTestEndpoint(RED, {
    deployed: (n) => (n && n.type === 'axmjpeg-camera' ? deployed.get(n) : undefined),
    streamSettings: (body) => validateStreamSettings(defaultSettings(body as Partial<AxisCameraDef>)),
  });
};
