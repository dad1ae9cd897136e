/**
 * `snapshot`: one JPEG per input msg, for notifications ("motion → photo → chat").
 *
 * Takes the newest frame of a live stream when one is running and fresh
 * enough (no extra load on the camera at all), else asks the camera for a
 * still. Triggers that arrive while a still for the same camera settings is
 * being fetched share that one request: a burst of motion events must not
 * become a burst of image.cgi requests against a camera with a viewer limit.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from 'node-red';
import { CameraError, ErrorCodes, isCameraError, type ErrorCode } from '../src/errors';
import { jpegSize } from '../src/jpeg/jpeg-info';
import { snapshotFilename } from '../src/snapshot-name';
import { SharedRequests } from '../src/shared-requests';
import { MAX_SKIP_FRAMES } from '../src/snapshot';
import { toCameraError } from '../src/session';
import { buildRequestTarget, validateStreamSettings, type StreamSettings } from '../src/vapix-url';
import type { AxisCameraApi, FrameMeta, SnapshotResult } from './lib/types';

/**
 * Module-wide, so two snapshot nodes on the same camera and settings share
 * one camera request too.
 */
const flights = new SharedRequests<SnapshotResult>(() => new CameraError(ErrorCodes.ABORTED, 'Snapshot request cancelled'));

const DEFAULT_MAX_AGE_MS = 2000;
/** An hour: older "live" frames are not live; a bigger value is a typo. */
const MAX_MAX_AGE_MS = 3_600_000;
const DEFAULT_TIMEOUT_S = 10;
const MAX_TIMEOUT_S = 300;

interface SnapshotNodeDef extends NodeDef {
  camera?: string;
  resolution?: string;
  cameraNumber?: string | number;
  compression?: string | number;
  /** ms; 0 = always fetch a fresh still. */
  maxAge?: string | number;
  /** Seconds. */
  timeout?: string | number;
  /** 'max-age' (default): a live frame up to maxAge old will do; 'fresh': only a frame captured after the trigger. */
  freshness?: string;
  /** Frames dropped at the start of a stream (auto-exposure settling), and images dropped per camera request. */
  skipFrames?: string | number;
}

interface NodeSettings {
  overrides: StreamSettings;
  maxAgeMs: number;
  timeoutMs: number;
  fresh: boolean;
  skipFrames: number;
}

type Done = (err?: Error) => void;
type Send = (msg: NodeMessageInFlow) => void;

function isUnset(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

function invalid(message: string): CameraError {
  return new CameraError(ErrorCodes.INVALID_SETTING, message);
}

function numberSetting(name: string, v: unknown, def: number, min: number, max: number): number {
  if (isUnset(v)) return def;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(n) || n < min || n > max) throw invalid(`${name} must be a number from ${min} to ${max}, got "${String(v)}"`);
  return n;
}

/** Reads and checks the editor settings; throws ERR_INVALID_SETTING naming the field. */
function parseNodeSettings(config: SnapshotNodeDef): NodeSettings {
  const overrides = validateStreamSettings({
    resolution: isUnset(config.resolution) ? undefined : String(config.resolution),
    camera: isUnset(config.cameraNumber) ? undefined : String(config.cameraNumber),
    compression: isUnset(config.compression) ? undefined : (config.compression as number),
  });
  const maxAgeMs = Math.round(numberSetting('max age', config.maxAge, DEFAULT_MAX_AGE_MS, 0, MAX_MAX_AGE_MS));
  // Below 0.1 s a camera cannot answer at all: treat as a typo rather than fail every request.
  const timeoutMs = Math.round(numberSetting('timeout', config.timeout, DEFAULT_TIMEOUT_S, 0.1, MAX_TIMEOUT_S) * 1000);
  const freshness = isUnset(config.freshness) ? 'max-age' : String(config.freshness);
  if (freshness !== 'max-age' && freshness !== 'fresh') throw invalid(`freshness must be "max-age" or "fresh", got "${freshness}"`);
  const skipFrames = numberSetting('skip frames', config.skipFrames, 0, 0, MAX_SKIP_FRAMES);
  if (!Number.isInteger(skipFrames)) throw invalid(`skip frames must be a whole number, got "${String(config.skipFrames)}"`);
  return { overrides, maxAgeMs, timeoutMs, fresh: freshness === 'fresh', skipFrames };
}

/** msg.resolution / msg.camera / msg.compression win over the node's settings. */
function msgOverrides(msg: Record<string, unknown>): StreamSettings {
  try {
    return validateStreamSettings({
      resolution: msg['resolution'] as string | undefined,
      camera: msg['camera'] as string | number | undefined,
      compression: msg['compression'] as number | undefined,
    });
  } catch (err) {
    if (isCameraError(err)) throw invalid(`msg.${err.message}`);
    throw err;
  }
}


function isJpegStart(b: Buffer): boolean {
  return b.length >= 4 && b[0] === 0xff && b[1] === 0xd8;
}


/* ------------------------------------------------------------------------ */

function clockTime(t: number): string {
  const d = new Date(t);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export = function (RED: NodeAPI) {
  function SnapshotNode(this: Node, config: SnapshotNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const camera = config.camera ? (RED.nodes.getNode(config.camera) as unknown as AxisCameraApi | null) : null;

    let settings: NodeSettings | null = null;
    let configError: CameraError | null = null;
    try {
      settings = parseNodeSettings(config);
    } catch (err) {
      configError = toCameraError(err);
    }
    if (!configError && !camera) configError = invalid(RED._('axmjpeg-snapshot.errors.no-camera'));

    /** Per-input controllers, so close can cancel what is still waiting. */
    const pending = new Set<AbortController>();
    const running = new Set<Promise<void>>();
    let closing = false;

    function shortReason(code: ErrorCode): string {
      const key = `axmjpeg-snapshot.reason.${code}`;
      const text = RED._(key);
      return text && text !== key ? text : code;
    }

    function showError(err: CameraError): void {
      node.status({ fill: 'red', shape: 'ring', text: RED._('axmjpeg-snapshot.status.error', { reason: shortReason(err.code) }) });
    }

    /** What Catch nodes see: message plus hint, the stable code, nothing from `cause`. */
    function report(err: CameraError, msg: NodeMessageInFlow, done: Done): void {
      const shown = new CameraError(err.code, err.describe(), err.statusCode !== undefined ? { statusCode: err.statusCode } : {});
      showError(err);
      node.error(shown, msg);
      done();
    }

    if (configError) {
      showError(configError);
      node.error(configError.describe());
    } else {
      node.status({});
    }

    function output(msg: NodeMessageInFlow, data: Buffer, meta: { seq: number; time: number; source: 'stream' | 'camera'; headers: Record<string, string> }, send: Send): void {
      const name = camera!.displayName;
      const dims = jpegSize(data);
      const frame: FrameMeta = {
        seq: meta.seq,
        time: meta.time,
        size: data.length,
        width: dims?.width ?? null,
        height: dims?.height ?? null,
        fps: 0,
        camera: name,
        headers: meta.headers,
      };
      const out = msg as NodeMessageInFlow & Record<string, unknown>;
      out.payload = data;
      out['frame'] = frame;
      out['filename'] = snapshotFilename(name, meta.time);
      out['snapshot'] = { source: meta.source, age: Math.max(0, Date.now() - meta.time) };
      node.status({
        fill: 'green',
        shape: 'dot',
        text: RED._('axmjpeg-snapshot.status.ok', { time: clockTime(Date.now()), source: RED._(`axmjpeg-snapshot.source.${meta.source}`) }),
      });
      send(out);
    }

    async function handle(msg: NodeMessageInFlow, send: Send, done: Done): Promise<void> {
      if (configError || !settings || !camera) return report(configError ?? invalid('snapshot node is not configured'), msg, done);
      const { maxAgeMs, timeoutMs, fresh, skipFrames } = settings;
      // Before anything else: 'fresh' means captured after this moment.
      const mark = flights.mark();
      let overrides: StreamSettings;
      let key: string;
      try {
        overrides = { ...settings.overrides, ...msgOverrides(msg as unknown as Record<string, unknown>) };
        key = `${camera.id}|${buildRequestTarget(camera.settingsFor(overrides), 'jpeg')}|${skipFrames}`;
      } catch (err) {
        return report(toCameraError(err), msg, done);
      }

      if (!fresh && maxAgeMs > 0) {
        try {
          const live = camera.latestFrame(overrides);
          // The first frames of a stream that just started are what skip frames is there to avoid.
          if (live && live.seq > skipFrames && Date.now() - live.time <= maxAgeMs && isJpegStart(live.data)) {
            output(msg, live.data, { seq: live.seq, time: live.time, source: 'stream', headers: live.headers ?? {} }, send);
            return done();
          }
        } catch {
          // No usable live frame: a fresh still below reports any real problem.
        }
      }

      const controller = new AbortController();
      pending.add(controller);
      const timer = setTimeout(() => {
        controller.abort(
          new CameraError(ErrorCodes.RESPONSE_TIMEOUT, RED._('axmjpeg-snapshot.errors.timeout', { camera: camera.displayName, seconds: timeoutMs / 1000 })),
        );
      }, timeoutMs);
      try {
        if (fresh) {
          // A running stream's next frame is captured after the trigger, and costs the camera nothing.
          let next: ReturnType<typeof camera.nextFrame> = null;
          try {
            next = camera.nextFrame(overrides, controller.signal, skipFrames + 1);
          } catch {
            next = null;
          }
          const live = next ? await next.catch((err: unknown) => (controller.signal.aborted ? Promise.reject(err) : null)) : null;
          if (live && isJpegStart(live.data)) {
            output(msg, live.data, { seq: live.seq, time: live.time, source: 'stream', headers: live.headers ?? {} }, send);
            return done();
          }
        }
        const start = (signal: AbortSignal): Promise<SnapshotResult> => camera.snapshot(overrides, signal, { skipFrames });
        const result = fresh
          ? await flights.joinStartedAfter(key, start, controller.signal, mark)
          : await flights.join(key, start, controller.signal);
        if (!Buffer.isBuffer(result.data) || !isJpegStart(result.data)) {
          throw new CameraError(ErrorCodes.NOT_JPEG, RED._('axmjpeg-snapshot.errors.not-jpeg', { camera: camera.displayName }));
        }
        output(msg, result.data, { seq: 0, time: result.time, source: result.source, headers: {} }, send);
        done();
      } catch (err) {
        // Cancelled because the node is being closed or redeployed: not the user's problem.
        if (closing) return done();
        report(toCameraError(err), msg, done);
      } finally {
        clearTimeout(timer);
        pending.delete(controller);
      }
    }

    node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
      const p = handle(msg, send, done).catch((err) => {
        // handle() reports its own errors; this is a bug guard so done() is never skipped.
        done(err instanceof Error ? err : new Error(String(err)));
      });
      running.add(p);
      void p.finally(() => running.delete(p));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      for (const c of pending) c.abort(new CameraError(ErrorCodes.ABORTED, 'Snapshot node closed'));
      void Promise.allSettled([...running]).then(() => {
        node.status({});
        done();
      });
    });
  }

  RED.nodes.registerType('axmjpeg-snapshot', SnapshotNode);
};
