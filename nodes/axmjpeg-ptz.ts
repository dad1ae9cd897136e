/**
 * axmjpeg-ptz: turn an Axis PTZ camera on a msg (go to a preset, home,
 * absolute/relative/continuous move, stop) and pass the msg on once the
 * camera is still. The VAPIX side lives in src/ptz; this file maps settings
 * and msg.ptz to commands, and results to status, msgs and Catch.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';
import { CameraError, ErrorCodes } from '../src/errors';
import { PTZ_ACTIONS, PtzController, waitForStill, type PtzAction, type PtzCommand, type PtzPosition, type WaitResult } from '../src/ptz';
import { optionalNumber, reportFailure, sleep, toCameraError } from './lib/command-report';
import { checkLoginGate, recordLoginOutcome } from './lib/login-gate';
import type { AxisCameraApi } from './lib/types';

interface PtzNodeDef extends NodeDef {
  camera: string;
  action: string;
  preset: string;
  pan: string;
  tilt: string;
  zoom: string;
  speed: string;
  /** Seconds a continuous move runs before the node stops it; empty: until a stop msg. */
  duration: string;
  /** Pass the msg on only when the camera is still. */
  wait: boolean;
  /** Seconds. */
  timeout: string;
  /** Video channel (ptz.cgi `camera`). */
  channel: string;
}

type Done = (err?: Error) => void;
type Send = (msg: NodeMessageInFlow) => void;

const DEFAULT_TIMEOUT_S = 30;
const MAX_TIMEOUT_S = 300;
const MAX_DURATION_S = 600;
const PRESETS_TIMEOUT_MS = 10_000;
/** Read-only actions: they answer at once and never take the camera from a move in progress. */
const READ_ACTIONS = ['presets', 'position'] as const;
type ReadAction = (typeof READ_ACTIONS)[number];
const ALL_ACTIONS: readonly string[] = [...PTZ_ACTIONS, ...READ_ACTIONS];

/** The action this msg asks for (msg.ptz.action over the node's). */
function actionOf(def: PtzNodeDef, msgPtz: unknown): string {
  const a = msgPtz && typeof msgPtz === 'object' ? (msgPtz as Record<string, unknown>)['action'] : undefined;
  return String(a !== undefined && a !== null && a !== '' ? a : def.action || 'preset');
}

function invalid(message: string): CameraError {
  return new CameraError(ErrorCodes.INVALID_SETTING, message);
}

/** Node settings with msg.ptz on top; throws ERR_INVALID_SETTING naming the field. */
function buildCommand(def: PtzNodeDef, msgPtz: unknown): { cmd: PtzCommand; durationMs?: number } {
  const o = msgPtz && typeof msgPtz === 'object' ? (msgPtz as Record<string, unknown>) : {};
  const pick = (k: string, dflt: unknown): unknown => (o[k] !== undefined && o[k] !== null && o[k] !== '' ? o[k] : dflt);
  const src = (k: string): string => (o[k] !== undefined ? `msg.ptz.${k}` : k);
  const action = String(pick('action', def.action || 'preset')) as PtzAction;
  if (!PTZ_ACTIONS.includes(action)) throw invalid(`${src('action')} must be one of ${ALL_ACTIONS.join(', ')}, got "${action}"`);
  const n = (k: string): number | undefined => optionalNumber(src(k), pick(k, (def as unknown as Record<string, unknown>)[k]));
  const speed = n('speed');
  const withSpeed = speed !== undefined ? { speed } : {};
  let cmd: PtzCommand;
  switch (action) {
    case 'preset': {
      const p = pick('preset', def.preset);
      const preset = typeof p === 'number' ? p : String(p ?? '').trim();
      if (preset === '') throw invalid('no preset: choose one in the node or send msg.ptz.preset');
      cmd = { action, preset, ...withSpeed };
      break;
    }
    case 'home':
      cmd = { action, ...withSpeed };
      break;
    case 'stop':
      cmd = { action };
      break;
    case 'continuous':
      cmd = { action, ...axes(n) };
      break;
    default:
      cmd = { action, ...axes(n), ...withSpeed };
  }
  const d = action === 'continuous' ? n('duration') : undefined;
  if (d !== undefined && (d <= 0 || d > MAX_DURATION_S)) throw invalid(`${src('duration')} must be from 0 to ${MAX_DURATION_S} seconds`);
  return d !== undefined ? { cmd, durationMs: Math.round(d * 1000) } : { cmd };
}

function axes(n: (k: string) => number | undefined): { pan?: number; tilt?: number; zoom?: number } {
  const out: { pan?: number; tilt?: number; zoom?: number } = {};
  for (const k of ['pan', 'tilt', 'zoom'] as const) {
    const v = n(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function positionText(p: PtzPosition): string {
  return ['pan', 'tilt', 'zoom']
    .filter((k) => p[k as keyof PtzPosition] !== undefined)
    .map((k) => `${k[0]} ${Math.round(p[k as keyof PtzPosition]! * 10) / 10}`)
    .join(' ');
}

export = function (RED: NodeAPI): void {
  function PtzNode(this: Node, def: PtzNodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const camera = def.camera ? (RED.nodes.getNode(def.camera) as unknown as AxisCameraApi | null) : null;
    const t = (key: string, vars?: Record<string, unknown>): string => RED._(`axmjpeg-ptz.${key}`, vars as never);

    let configError: CameraError | null = null;
    let timeoutMs = DEFAULT_TIMEOUT_S * 1000;
    let channel = 1;
    try {
      if (!camera) throw invalid(t('errors.noCamera'));
      const tm = optionalNumber('timeout', def.timeout);
      if (tm !== undefined) {
        if (tm < 0.5 || tm > MAX_TIMEOUT_S) throw invalid(`timeout must be from 0.5 to ${MAX_TIMEOUT_S} seconds`);
        timeoutMs = Math.round(tm * 1000);
      }
      channel = optionalNumber('channel', def.channel) ?? 1;
      // Settings that never change per msg are checked at deploy, not on the first alarm.
      const a = def.action || 'preset';
      if (!(READ_ACTIONS as readonly string[]).includes(a) && (a !== 'preset' || String(def.preset ?? '').trim() !== '')) buildCommand(def, undefined);
    } catch (e) {
      configError = toCameraError(e);
    }
    let controller: PtzController | null = null;
    function ptz(): PtzController {
      if (!controller) controller = new PtzController(camera!.httpClient(), { camera: channel });
      return controller;
    }

    /** The command in progress: a new msg takes over the camera and ends the old wait. */
    let current: AbortController | null = null;
    const reads = new Set<AbortController>();
    const running = new Set<Promise<void>>();
    let closing = false;

    if (configError) {
      node.status({ fill: 'red', shape: 'ring', text: t('status.notConfigured') });
      const err = configError;
      setImmediate(() => node.error(new CameraError(err.code, err.describe())));
    }

    /** presets / position: one read, its own timeout, no effect on a move in progress. */
    async function read(action: ReadAction, msg: NodeMessageInFlow, send: Send, done: Done): Promise<void> {
      const ac = new AbortController();
      reads.add(ac);
      const timer = setTimeout(() => ac.abort(), PRESETS_TIMEOUT_MS);
      try {
        checkLoginGate(camera!.id);
        const c = ptz();
        const out = msg as NodeMessageInFlow & Record<string, unknown>;
        if (action === 'presets') {
          const presets = await c.presets(ac.signal);
          out.payload = { action, presets: presets.map((p) => ({ number: p.number, name: p.name, ...(p.home ? { home: true } : {}), ...(p.position ? { position: p.position } : {}) })) };
          node.status({ fill: 'green', shape: 'dot', text: t('status.presets', { count: presets.length }) });
        } else {
          const caps = await c.capabilities(ac.signal);
          if (!caps.available) throw new CameraError(ErrorCodes.NOT_SUPPORTED, `No PTZ on this camera: ${caps.reason ?? 'not available'}`);
          const position = await c.position(ac.signal);
          out.payload = { action, position };
          node.status({ fill: 'green', shape: 'dot', text: t('status.still', { what: 'position', position: positionText(position) }) });
        }
        recordLoginOutcome(camera!.id, camera!.loginRetryMs);
        send(out);
        done();
      } catch (e) {
        recordLoginOutcome(camera!.id, camera!.loginRetryMs, e);
        if (closing) return done();
        const err = ac.signal.aborted ? new CameraError(ErrorCodes.RESPONSE_TIMEOUT, `No answer from the camera within ${PRESETS_TIMEOUT_MS / 1000} s`) : toCameraError(e);
        node.status({ fill: 'red', shape: 'ring', text: t('status.error', { reason: err.code.replace(/^ERR_/, '').toLowerCase().replace(/_/g, ' ') }) });
        reportFailure(node, err, msg, done);
      } finally {
        clearTimeout(timer);
        reads.delete(ac);
      }
    }

    async function handle(msg: NodeMessageInFlow, send: Send, done: Done): Promise<void> {
      if (configError) return reportFailure(node, configError, msg, done);
      const requested = actionOf(def, (msg as Record<string, unknown>)['ptz']);
      if ((READ_ACTIONS as readonly string[]).includes(requested)) return read(requested as ReadAction, msg, send, done);
      let built: { cmd: PtzCommand; durationMs?: number };
      try {
        built = buildCommand(def, (msg as Record<string, unknown>)['ptz']);
      } catch (e) {
        node.status({ fill: 'red', shape: 'ring', text: t('status.error', { reason: 'invalid setting' }) });
        return reportFailure(node, toCameraError(e), msg, done);
      }
      const { cmd } = built;
      current?.abort();
      const ac = new AbortController();
      current = ac;
      const started = Date.now();
      const label = cmd.action === 'preset' ? String(cmd.preset) : cmd.action;
      try {
        checkLoginGate(camera!.id);
        node.status({ fill: 'yellow', shape: 'ring', text: t('status.moving', { what: label }) });
        const c = ptz();
        const sent = await c.send(cmd, ac.signal);
        if (built.durationMs !== undefined) {
          await sleep(built.durationMs, ac.signal);
          await c.send({ action: 'stop' }, ac.signal);
        }
        const result: Partial<WaitResult> = {};
        const waits = def.wait !== false && (cmd.action !== 'continuous' || built.durationMs !== undefined);
        if (waits) {
          Object.assign(result, await waitForStill((s) => c.position(s), { timeoutMs, signal: ac.signal, ...(sent.target ? { target: sent.target } : {}) }));
        }
        const out = msg as NodeMessageInFlow & Record<string, unknown>;
        out.payload = {
          action: cmd.action,
          ...(cmd.action === 'preset' ? { preset: sent.preset?.name ?? cmd.preset } : {}),
          ...(result.position ? { position: result.position, moved: result.moved } : {}),
          ...(result.reached !== undefined ? { reached: result.reached } : {}),
          waited: waits,
          ms: Date.now() - started,
        };
        node.status({
          fill: 'green',
          shape: 'dot',
          text: result.position ? t('status.still', { what: label, position: positionText(result.position) }) : t('status.sent', { what: label }),
        });
        recordLoginOutcome(camera!.id, camera!.loginRetryMs);
        send(out);
        done();
      } catch (e) {
        recordLoginOutcome(camera!.id, camera!.loginRetryMs, e);
        const err = toCameraError(e);
        // Superseded by a newer msg, or the node is closing: not a failure.
        if (ac.signal.aborted || closing) return done();
        node.status({ fill: 'red', shape: 'ring', text: t('status.error', { reason: err.code.replace(/^ERR_/, '').toLowerCase().replace(/_/g, ' ') }) });
        reportFailure(node, err, msg, done);
      } finally {
        if (current === ac) current = null;
      }
    }

    node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
      const p = handle(msg, send, done).catch((e) => done(e instanceof Error ? e : new Error(String(e))));
      running.add(p);
      void p.finally(() => running.delete(p));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      current?.abort();
      for (const r of reads) r.abort();
      void Promise.allSettled([...running]).then(() => {
        node.status({});
        done();
      });
    });
  }

  RED.nodes.registerType('axmjpeg-ptz', PtzNode as unknown as (this: Node, def: NodeDef) => void);

  /** The camera's PTZ presets for the editor (deployed camera config nodes only). */
  RED.httpAdmin.get('/axmjpeg-ptz/:cameraId/presets', RED.auth.needsPermission('axmjpeg-ptz.read'), async (req: Request, res: Response) => {
    const camera = RED.nodes.getNode(String(req.params.cameraId)) as unknown as AxisCameraApi | null;
    if (!camera || typeof camera.httpClient !== 'function') {
      res.status(404).json({ code: ErrorCodes.NOT_FOUND, message: RED._('axmjpeg-ptz.errors.cameraNotDeployed') });
      return;
    }
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), PRESETS_TIMEOUT_MS);
    try {
      const ch = Number(req.query['channel'] ?? 1);
      const c = new PtzController(camera.httpClient(), { camera: Number.isInteger(ch) ? ch : 1 });
      const presets = await c.presets(ac.signal);
      res.json({ presets: presets.map((p) => ({ number: p.number, name: p.name, ...(p.home ? { home: true } : {}) })) });
    } catch (e) {
      const err = toCameraError(e);
      res.status(502).json({ code: err.code, message: err.message, hint: err.hint });
    } finally {
      clearTimeout(timer);
    }
  });
};
