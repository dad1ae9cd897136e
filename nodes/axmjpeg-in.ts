/**
 * axmjpeg-in: one msg per frame from a camera (through the shared hub of its
 * axmjpeg-camera config node) or from a recorded .mjpg file.
 */
import nodePath from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { CameraError, ErrorCodes } from '../src/errors';
import type { Frame, StateChange } from '../src/session';
import { RateMeter } from '../src/rate-meter';
import { StreamSettings, validateStreamSettings } from '../src/vapix-url';
import { jpegSize } from '../src/jpeg/jpeg-info';
import { MjpegFilePlayer } from '../src/recording/player';
import { AxisCameraApi, CameraSubscription, frameMeta } from './lib/types';
import { failureReporter, reasonText } from './lib/report';
import { reportSourceState, forgetSource } from './lib/source-state';
import { FRAME_CONTENT_TYPE, frameUserProperties } from '../src/mqtt-frame';

interface MjpgInDef extends NodeDef {
  source: 'camera' | 'file';
  camera: string;
  file: string;
  fileFps: string | number;
  loop: boolean;
  resolution: string;
  fps: string | number;
  compression: string | number;
  cameraNumber: string;
  startOnDeploy: boolean;
  topic: string;
}

type Command = 'start' | 'stop' | 'restart';

/** Status text is refreshed at most this often; per-frame updates would flood the editor. */
const STATUS_INTERVAL_MS = 1000;

/** `cameraKey` is `cameraNumber` for node settings (there `camera` is the config node id) and `camera` in msg.settings. */
function overridesFrom(src: Record<string, unknown>, cameraKey: 'cameraNumber' | 'camera'): StreamSettings {
  const s: StreamSettings = {};
  if (src.resolution) s.resolution = String(src.resolution);
  if (src.fps !== undefined && src.fps !== '' && src.fps !== null) s.fps = Number(src.fps);
  if (src.compression !== undefined && src.compression !== '' && src.compression !== null) s.compression = Number(src.compression);
  const cam = src[cameraKey];
  if (cam !== undefined && cam !== '' && cam !== null) s.camera = cam as string;
  for (const k of ['rotation', 'clock', 'date', 'text', 'textstring', 'duration', 'nbrofframes', 'streamprofile'] as const) {
    if (src[k] !== undefined && src[k] !== '') (s as Record<string, unknown>)[k] = src[k];
  }
  return s;
}

function commandOf(msg: Record<string, unknown>): Command | null {
  for (const v of [msg.command, msg.payload, msg.topic]) {
    if (typeof v === 'string') {
      const c = v.trim().toLowerCase();
      if (c === 'start' || c === 'stop' || c === 'restart') return c;
    }
  }
  return null;
}

export = function (RED: NodeAPI): void {
  function MjpgInNode(this: Node, def: MjpgInDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const camera = def.source !== 'file' && def.camera ? (RED.nodes.getNode(def.camera) as unknown as AxisCameraApi | null) : null;
    const fpsMeter = new RateMeter();
    let sub: CameraSubscription | null = null;
    let player: MjpegFilePlayer | null = null;
    let overrides: StreamSettings = {};
    let lastState: StateChange | null = null;
    let statusTimer: NodeJS.Timeout | null = null;
    let closed = false;
    const cameraName = camera?.displayName ?? (def.file ? String(def.file).split(/[\\/]/).pop() ?? 'file' : 'camera');
    const topic = def.topic || cameraName;

    function t(key: string, vars?: Record<string, unknown>): string {
      return RED._(`axmjpeg-in.${key}`, vars as never);
    }

    const failures = failureReporter(node, topic);
    const report = failures.report;

    function showStatus(): void {
      if (closed) return;
      const s = lastState;
      if (!s || s.state === 'idle' || s.state === 'stopped') {
        node.status({ fill: 'grey', shape: 'ring', text: t('status.stopped') });
      } else if (s.state === 'connecting') {
        node.status({ fill: 'yellow', shape: 'ring', text: t('status.connecting') });
      } else if (s.state === 'streaming') {
        node.status({ fill: 'green', shape: 'dot', text: t('status.live', { fps: fpsMeter.rate().toFixed(1) }) });
      } else {
        const secs = Math.max(1, Math.round((s.retryInMs ?? 0) / 1000));
        node.status({ fill: 'red', shape: 'ring', text: t('status.retry', { secs, reason: reasonText(s.error) }) });
      }
    }

    function startStatusTimer(): void {
      if (!statusTimer) statusTimer = setInterval(showStatus, STATUS_INTERVAL_MS);
    }

    function stopStatusTimer(): void {
      if (statusTimer) clearInterval(statusTimer);
      statusTimer = null;
    }

    function emitFrame(frame: Frame): void {
      fpsMeter.mark();
      const meta = frameMeta(frame, cameraName, fpsMeter.rate(), node.id);
      // contentType and userProperties: what a core mqtt out (MQTT v5) sends with the JPEG, so the
      // frame's origin crosses a broker without a function node (src/mqtt-frame.ts).
      node.send({
        topic,
        payload: frame.data,
        frame: meta,
        contentType: FRAME_CONTENT_TYPE,
        userProperties: frameUserProperties({ ...meta.origin!, width: meta.width, height: meta.height }),
      } as never);
    }

    /** For axmjpeg-out nodes fed by this one (source-state.ts): up, or why not. */
    let downReason = 'connecting';
    function shareState(change: StateChange): void {
      if (change.state === 'streaming') {
        downReason = 'connecting';
        reportSourceState(node.id, { up: true, reason: '', stopped: false });
        return;
      }
      if (change.error) downReason = reasonText(change.error);
      const stopped = change.state === 'stopped' || change.state === 'idle';
      reportSourceState(node.id, { up: false, reason: stopped && !change.error ? 'stopped' : downReason, code: change.error?.code, stopped });
    }

    function onState(change: StateChange): void {
      lastState = change;
      shareState(change);
      if (change.state === 'streaming') failures.reset();
      if (change.state === 'backoff' && change.error) report(change.error);
      if (change.state === 'stopped' && change.error && change.error.code !== ErrorCodes.STREAM_ENDED) report(change.error);
      showStatus();
    }

    function startCamera(): void {
      if (!camera) {
        const err = new CameraError(ErrorCodes.INVALID_SETTING, t('errors.noCamera'));
        node.status({ fill: 'red', shape: 'ring', text: t('status.notConfigured') });
        report(err);
        return;
      }
      sub = camera.subscribe(overrides, {
        onFrame: emitFrame,
        onState,
        onProblem: (err) => {
          // Parser drops are worth a warning; connection failures arrive through onState.
          if (err.code === ErrorCodes.FRAME_TOO_LARGE || err.code === ErrorCodes.HEADER_TOO_LARGE) node.warn(`${err.message}. ${err.hint}`);
        },
      });
      startStatusTimer();
    }

    function startFile(): void {
      const given = String(def.file ?? '').trim();
      // Relative paths are taken in the Node-RED user folder, as axmjpeg-record writes them.
      const userDir = (RED.settings as unknown as { userDir?: string }).userDir;
      const path = given && !nodePath.isAbsolute(given) && userDir ? nodePath.resolve(userDir, given) : given;
      if (!path) {
        report(new CameraError(ErrorCodes.INVALID_SETTING, t('errors.noFile')));
        node.status({ fill: 'red', shape: 'ring', text: t('status.notConfigured') });
        return;
      }
      const fps = Number(def.fileFps || 0);
      if (!Number.isFinite(fps) || fps < 0 || fps > 1000) {
        report(new CameraError(ErrorCodes.INVALID_SETTING, t('errors.badFileFps', { value: String(def.fileFps) })));
        node.status({ fill: 'red', shape: 'ring', text: t('status.badSetting') });
        return;
      }
      let seq = 0;
      player = new MjpegFilePlayer({
        path,
        fps,
        loop: !!def.loop,
        onFrame: (f) => {
          const size = jpegSize(f.data);
          emitFrame({
            data: f.data,
            seq: ++seq,
            time: Date.now(),
            size: f.data.length,
            width: size?.width ?? null,
            height: size?.height ?? null,
            headers: f.headers,
          });
        },
        onEnd: (reason?: CameraError) => {
          player = null;
          lastState = { state: 'stopped', attempt: 0 };
          reportSourceState(node.id, { up: false, reason: reason ? reasonText(reason) : 'file ended', code: reason?.code, stopped: true });
          stopStatusTimer();
          // A file that could not be played keeps its red status from onError.
          if (!reason) node.status({ fill: 'grey', shape: 'dot', text: t('status.ended') });
        },
        onError: (err) => {
          report(err);
          node.status({ fill: 'red', shape: 'ring', text: err.code });
        },
      });
      lastState = { state: 'streaming', attempt: 0 };
      reportSourceState(node.id, { up: true, reason: '', stopped: false });
      player.start();
      startStatusTimer();
      showStatus();
    }

    async function stop(): Promise<void> {
      sub?.unsubscribe();
      sub = null;
      const p = player;
      player = null;
      await p?.stop();
      stopStatusTimer();
      lastState = { state: 'stopped', attempt: 0 };
      shareState(lastState);
      fpsMeter.reset();
      showStatus();
    }

    function start(): void {
      if (sub || player || closed) return;
      failures.reset();
      if (def.source === 'file') startFile();
      else startCamera();
    }

    let settingError: CameraError | null = null;
    try {
      overrides = validateStreamSettings(overridesFrom(def as unknown as Record<string, unknown>, 'cameraNumber'));
    } catch (e) {
      settingError = e as CameraError;
    }
    const baseOverrides = overrides;
    // Reported and started once the whole flow exists, so a Catch node created
    // after this one still sees the failure. A node with an invalid setting
    // does not start: streaming with other settings than asked would hide it.
    const deployStart =
      settingError || def.startOnDeploy !== false
        ? setImmediate(() => {
            if (settingError) {
              node.status({ fill: 'red', shape: 'ring', text: t('status.badSetting') });
              report(settingError);
              return;
            }
            try {
              start();
            } catch (e) {
              report(e instanceof CameraError ? e : new CameraError(ErrorCodes.UNKNOWN, String((e as Error)?.message ?? e)));
            }
          })
        : null;
    if (!deployStart) showStatus();

    node.on('input', (msg: NodeMessageInFlow, _send, done) => {
      const m = msg as unknown as Record<string, unknown>;
      const cmd = commandOf(m);
      const settingsIn = (m.settings && typeof m.settings === 'object' ? m.settings : null) as Record<string, unknown> | null;
      if (!cmd && !settingsIn) {
        done(new Error(t('errors.badCommand')));
        return;
      }
      if (settingError && !settingsIn && cmd !== 'stop') {
        done(settingError);
        return;
      }
      let next = overrides;
      try {
        if (settingsIn) next = validateStreamSettings({ ...baseOverrides, ...overridesFrom(settingsIn, 'camera') });
      } catch (e) {
        done(e as Error);
        return;
      }
      // New settings while running mean a restart with them.
      const effective: Command = settingsIn && cmd !== 'stop' ? 'restart' : (cmd ?? 'restart');
      (async () => {
        if (effective === 'stop' || effective === 'restart') await stop();
        if (effective === 'start' || effective === 'restart') {
          overrides = next;
          start();
        }
      })().then(
        () => done(),
        (e) => done(e as Error),
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (deployStart) clearImmediate(deployStart);
      stop()
        .catch(() => {})
        .then(() => {
          closed = true;
          stopStatusTimer();
          forgetSource(node.id);
          done();
        });
    });
  }

  RED.nodes.registerType('axmjpeg-in', MjpgInNode as unknown as (this: Node, def: NodeDef) => void);
};
