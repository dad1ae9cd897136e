/**
 * Shapes shared by the node files: the frame msg every node emits or accepts,
 * and what the axmjpeg-camera config node offers to the nodes that use it.
 */
import type { Node } from 'node-red';
import type { CameraError } from '../../src/errors';
import type { CameraHttpClient } from '../../src/http';
import type { Frame, StateChange, StreamSession } from '../../src/session';
import type { StreamSettings } from '../../src/vapix-url';
import type { VideoSource } from '../../src/video-sources';
import type { FrameOrigin } from '../../src/origin';
import { originFromUserProperties } from '../../src/mqtt-frame';

/** `msg.frame`: small on purpose, Node-RED deep-copies it for every extra wire. */
export interface FrameMeta {
  seq: number;
  /** Receive time, ms since epoch. */
  time: number;
  size: number;
  width: number | null;
  height: number | null;
  /** Measured stream rate when the frame arrived. */
  fps: number;
  /** Camera (config node) name, or the file name for playback. */
  camera: string;
  /** Part headers from the multipart stream, lower-cased names. */
  headers: Record<string, string>;
  /**
   * Capture time (ms), sequence and camera name at the first hop: read back
   * from X-Timestamp / X-Sequence / X-Camera when the stream is another
   * Node-RED's axmjpeg-out (or mjpg-streamer's X-Timestamp), else this hop's
   * own time, seq and camera. axmjpeg-out sends them on, so they survive hops.
   */
  origin?: FrameOrigin;
  /** Id of the axmjpeg-in node that received it: axmjpeg-out asks it whether the camera is down (source-state.ts). */
  source?: string;
}

/** A frame msg: `msg.payload` is the JPEG. */
export interface FrameMsg {
  _msgid?: string;
  topic?: string;
  payload: Buffer;
  frame: FrameMeta;
  [key: string]: unknown;
}

export function isFrameMsg(msg: unknown): msg is FrameMsg {
  const m = msg as Partial<FrameMsg> | null;
  return !!m && Buffer.isBuffer(m.payload) && m.payload.length >= 4 && m.payload[0] === 0xff && m.payload[1] === 0xd8;
}

/** Why a msg is not a frame msg: the key of the localized error each node reports once. */
export type FrameMsgProblem = 'noPayload' | 'notBuffer' | 'notJpeg';

export function frameMsgProblem(msg: { payload?: unknown }): FrameMsgProblem {
  if (msg.payload === undefined) return 'noPayload';
  return Buffer.isBuffer(msg.payload) ? 'notJpeg' : 'notBuffer';
}

/**
 * Where a frame msg's frame was captured: `msg.frame.origin` (axmjpeg-in), else
 * the MQTT v5 user properties `mqtt in` puts in `msg.userProperties`
 * (src/mqtt-frame.ts), else `msg.frame`'s own time/seq/camera; null for a bare JPEG.
 */
export function originOf(msg: { frame?: unknown; userProperties?: unknown }): FrameOrigin | null {
  const f = msg.frame as Partial<FrameMeta> | undefined;
  const o = f?.origin;
  if (o && typeof o.time === 'number' && typeof o.seq === 'number') return o;
  const fromMqtt = originFromUserProperties(msg.userProperties);
  if (fromMqtt) return fromMqtt;
  if (f && typeof f.time === 'number') {
    return { time: f.time, seq: typeof f.seq === 'number' ? f.seq : 0, ...(typeof f.camera === 'string' ? { camera: f.camera } : {}) };
  }
  return null;
}

export function frameMeta(frame: Frame, camera: string, fps: number, source?: string): FrameMeta {
  return {
    ...(source ? { source } : {}),
    seq: frame.seq,
    time: frame.time,
    size: frame.size,
    width: frame.width,
    height: frame.height,
    fps: Math.round(fps * 10) / 10,
    camera,
    headers: frame.headers,
    origin: frame.origin ? { ...frame.origin, camera: frame.origin.camera ?? camera } : { time: frame.time, seq: frame.seq, camera },
  };
}

export interface CameraSubscriber {
  /** May return a promise: the next frame then waits (newest only) until it settles. */
  onFrame(frame: Frame): void | Promise<unknown>;
  onState?(change: StateChange): void;
  onProblem?(err: CameraError): void;
}

export interface CameraSubscription {
  readonly session: StreamSession;
  readonly dropped: number;
  unsubscribe(): void;
}

export interface SnapshotResult {
  data: Buffer;
  /** Where it came from: the shared live stream or a fresh image.cgi request. */
  source: 'stream' | 'camera';
  time: number;
  width: number | null;
  height: number | null;
}

export interface SnapshotRequest {
  /** Images the camera gives for this request that are dropped first (auto-exposure settling, a stale buffer). */
  skipFrames?: number;
}

export interface DeviceInfo {
  model?: string;
  firmware?: string;
  serial?: string;
  brand?: string;
  [key: string]: unknown;
}

/** What the `axmjpeg-camera` config node offers (the node object implements it). */
export interface AxisCameraApi extends Node {
  /** Display name for status and msg.frame.camera: the node name, else host. Never credentials. */
  readonly displayName: string;
  /** The camera's default stream settings merged with `overrides` (overrides win when set). */
  settingsFor(overrides?: StreamSettings): StreamSettings;
  /** Joins the shared stream for these settings; one camera connection per distinct settings. */
  subscribe(overrides: StreamSettings | undefined, sub: CameraSubscriber): CameraSubscription;
  /** The newest frame of a running stream with these settings, if any. */
  latestFrame(overrides?: StreamSettings): Frame | null;
  /** One JPEG from `/axis-cgi/jpg/image.cgi` (or the custom path's stream for non-Axis sources). */
  snapshot(overrides?: StreamSettings, signal?: AbortSignal, opts?: SnapshotRequest): Promise<SnapshotResult>;
  /**
   * The next frame (seq >= minSeq) of a running live stream with these image settings, or null when
   * none is streaming: a frame captured after the call. Rejects when `signal` aborts or the stream stops.
   */
  nextFrame(overrides: StreamSettings | undefined, signal: AbortSignal, minSeq?: number): Promise<Frame> | null;
  deviceInfo(signal?: AbortSignal): Promise<DeviceInfo>;
  /** The camera's HTTP client (auth, TLS, sockets owned by this config node; closed with it). Throws a CameraError when misconfigured. */
  httpClient(): CameraHttpClient;
  /** The device's video sources and view areas (param.cgi); [] for a custom-path source. */
  videoSources(signal?: AbortSignal): Promise<VideoSource[]>;
  /** Least wait before asking again after the camera refused the credentials (the config's "retry refused login after"). */
  readonly loginRetryMs: number;
}
