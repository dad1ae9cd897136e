/**
 * axmjpeg-record: appends incoming frames to `.mjpg` files (multipart, playable by
 * axmjpeg-in and ffmpeg), with rotation by size and/or time. Sends one msg per
 * completed file so a flow can upload it or notify someone.
 * The file handling is in src/recording/writer.ts; this file maps msgs and status.
 */
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { MjpegFileWriter, RecordingFileInfo } from '../src/recording/writer';
import { joinTarget, parseTarget } from '../src/recording/naming';
import { CameraError, ErrorCodes } from '../src/errors';
import { frameMsgProblem, isFrameMsg, originOf } from './lib/types';

interface MjpgRecordDef extends NodeDef {
  folder: string;
  filename: string;
  rotateMB: string | number;
  rotateMinutes: string | number;
  timestamped: boolean;
  createFolder: boolean;
  autoStart: boolean;
}

/** Status is refreshed at most this often, not per frame. */
const STATUS_INTERVAL_MS = 1000;
const MAX_ROTATE_MB = 1024 * 1024;
const MAX_ROTATE_MINUTES = 7 * 24 * 60;

type InMsg = NodeMessage & Record<string, unknown>;

function optNumber(v: unknown): number {
  if (v === undefined || v === null || v === '') return 0;
  return Number(v);
}

export = function (RED: NodeAPI): void {
  function MjpgRecordNode(this: Node, def: MjpgRecordDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = (key: string, subs?: Record<string, string>) => RED._(`axmjpeg-record.${key}`, subs);
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir;

    /** Relative paths are relative to the Node-RED user folder, not to wherever Node-RED was started. */
    function inUserDir(p: string): string {
      if (!p.trim() || path.isAbsolute(p) || !userDir) return p;
      const trailing = /[\\/]$/.test(p) ? path.sep : '';
      return path.resolve(userDir, p) + trailing;
    }
    const configTarget = inUserDir(joinTarget(def.folder ?? '', def.filename ?? ''));
    /**
     * The folder every file of this node stays in: the Folder setting, or the
     * folder of the configured file name when Folder is blank. Names from msgs
     * are taken inside it and may not leave it.
     */
    const root = (def.folder ?? '').trim() ? path.resolve(inUserDir(def.folder.trim())) : configTarget.trim() ? parseTarget(configTarget).dir : '';
    function msgPath(name: string): string {
      return joinTarget(root + path.sep, name);
    }

    let writer: MjpegFileWriter | null = null;
    let recording = def.autoStart !== false;
    let closing = false;
    let lastError: CameraError | null = null;
    let lastStatus = '';
    const reported = new Set<string>();

    const rotateMB = optNumber(def.rotateMB);
    const rotateMinutes = optNumber(def.rotateMinutes);
    try {
      if (!(Number.isFinite(rotateMB) && rotateMB >= 0 && rotateMB <= MAX_ROTATE_MB))
        throw new CameraError(ErrorCodes.INVALID_SETTING, t('errors.rotateMB', { value: String(def.rotateMB) }));
      if (!(Number.isFinite(rotateMinutes) && rotateMinutes >= 0 && rotateMinutes <= MAX_ROTATE_MINUTES))
        throw new CameraError(ErrorCodes.INVALID_SETTING, t('errors.rotateMinutes', { value: String(def.rotateMinutes) }));
      const target = configTarget;
      if (!target.trim()) throw new CameraError(ErrorCodes.INVALID_SETTING, t('errors.noPath'));
      writer = new MjpegFileWriter({
        path: target,
        rotateBytes: Math.round(rotateMB * 1024 * 1024),
        rotateMs: Math.round(rotateMinutes * 60_000),
        timestamped: def.timestamped !== false,
        createFolder: !!def.createFolder,
        root,
        onError: (err) => {
          lastError = err;
          node.error(err, { filename: writer?.filename ?? target, payload: err.toJSON() } as unknown as NodeMessage);
          showStatus(true);
        },
        onFileOpened: () => {
          lastError = null;
          showStatus(true);
        },
        onFileClosed: (info) => {
          if (!closing) node.send(fileMsg(info));
          showStatus(true);
        },
      });
    } catch (e) {
      const err = e as CameraError;
      node.error(`${err.message}. ${err.hint ?? ''}`);
      node.status({ fill: 'red', shape: 'ring', text: t('status.config') });
    }

    function fileMsg(info: RecordingFileInfo): NodeMessage {
      const payload: Record<string, unknown> = {
        frames: info.frames,
        bytes: info.bytes,
        start: info.start,
        end: info.end,
        dropped: info.dropped,
      };
      if (info.error) payload.error = info.error;
      return { topic: node.name || 'axmjpeg-record', filename: info.filename, payload } as unknown as NodeMessage;
    }

    const statusTimer = writer ? setInterval(() => showStatus(false), STATUS_INTERVAL_MS) : null;
    showStatus(true);

    function showStatus(force: boolean): void {
      if (!writer) return;
      const s = writer.stats;
      let status: { fill: 'red' | 'green' | 'grey' | 'yellow'; shape: 'dot' | 'ring'; text: string };
      if (lastError && !s.current) {
        status = { fill: 'red', shape: 'ring', text: `${lastError.code}` };
      } else if (!recording) {
        status = { fill: 'grey', shape: 'ring', text: t('status.stopped') };
      } else if (!s.current) {
        status = { fill: 'yellow', shape: 'ring', text: t('status.waiting') };
      } else {
        const name = s.current.filename ? path.basename(s.current.filename) : '…';
        const text =
          s.current.dropped > 0
            ? t('status.recordingDropped', { file: name, frames: String(s.current.frames), dropped: String(s.current.dropped) })
            : t('status.recording', { file: name, frames: String(s.current.frames) });
        status = { fill: 'green', shape: 'dot', text };
      }
      const key = JSON.stringify(status);
      if (!force && key === lastStatus) return;
      lastStatus = key;
      node.status(status);
    }

    function isStop(msg: InMsg): boolean {
      return msg.record === false || msg.topic === 'stop';
    }
    function isStart(msg: InMsg): boolean {
      return msg.record === true || msg.topic === 'start';
    }

    node.on('input', (msg: InMsg, _send: unknown, done: (err?: Error) => void) => {
      if (!writer) return done();
      let handled = false;
      // On a frame, msg.filename names that frame (axmjpeg-snapshot sets it for a file node): only a
      // control msg switches the recording file, so snapshot -> record appends to the configured file.
      if (!isFrameMsg(msg) && typeof msg.filename === 'string' && msg.filename.trim() !== '') {
        handled = true;
        try {
          writer.setPath(msgPath(msg.filename));
          lastError = null;
        } catch (e) {
          node.error(e as Error, msg);
          return done();
        }
      }
      if (isStop(msg)) {
        handled = true;
        recording = false;
        writer.endFile();
      } else if (isStart(msg)) {
        handled = true;
        recording = true;
      }
      if (isFrameMsg(msg)) {
        if (recording) {
          const meta = msg.frame as { time?: unknown } | undefined;
          // Frames from mqtt in carry their time in msg.userProperties (src/mqtt-frame.ts).
          const time = typeof meta?.time === 'number' && Number.isFinite(meta.time) ? meta.time : (originOf(msg)?.time ?? Date.now());
          writer.write(msg.payload, time);
        }
      } else if (!handled) {
        const problem = frameMsgProblem(msg);
        if (!reported.has(problem)) {
          reported.add(problem);
          node.error(new CameraError(ErrorCodes.NOT_JPEG, t(`errors.${problem}`), { hint: t('errors.inputHint') }), msg);
        }
      }
      // Frames only count up: the timer shows them once a second.
      if (handled) showStatus(true);
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      if (statusTimer) clearInterval(statusTimer);
      const w = writer;
      writer = null;
      if (!w) return done();
      // Never let a failing close block a redeploy: errors were already reported through onError.
      w.close().then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType('axmjpeg-record', MjpgRecordNode);
};
