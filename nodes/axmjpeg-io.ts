/**
 * axmjpeg-io: read and set an Axis camera's I/O ports, pulse an output,
 * activate/deactivate a virtual input (to fire a rule on the camera). The
 * VAPIX side lives in src/io; this file maps settings and msg.io to calls,
 * and results to status, msgs and Catch.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';
import { CameraError, ErrorCodes } from '../src/errors';
import { IoController, MAX_PULSE_MS, MAX_VIRTUAL_DURATION_S, portId } from '../src/io';
import { optionalNumber, reportFailure, toCameraError } from './lib/command-report';
import { checkLoginGate, recordLoginOutcome } from './lib/login-gate';
import type { AxisCameraApi } from './lib/types';

interface IoNodeDef extends NodeDef {
  camera: string;
  action: string;
  /** Port id (I/O) or virtual input number; empty for "read all". */
  port: string;
  /** 'on' | 'off' for set and virtual. */
  value: string;
  /** Pulse length, ms. */
  ms: string;
  /** Virtual input: seconds until the camera deactivates it; empty: stays. */
  duration: string;
}

type Done = (err?: Error) => void;
type Send = (msg: NodeMessageInFlow) => void;
type IoAction = 'read' | 'set' | 'pulse' | 'virtual';
const ACTIONS: readonly IoAction[] = ['read', 'set', 'pulse', 'virtual'];
const REQUEST_TIMEOUT_MS = 15_000;
const DEFAULT_PULSE_MS = 1000;

function invalid(message: string): CameraError {
  return new CameraError(ErrorCodes.INVALID_SETTING, message);
}

interface IoCommand {
  action: IoAction;
  port?: string;
  active: boolean;
  ms: number;
  duration?: number;
}

function onOff(name: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === '1' || v === 'on' || v === 'true' || v === 'active') return true;
  if (v === 0 || v === '0' || v === 'off' || v === 'false' || v === 'inactive') return false;
  throw invalid(`${name} must be true/false or on/off, got "${String(v)}"`);
}

/** Node settings with msg.io (and a boolean msg.payload) on top; throws ERR_INVALID_SETTING naming the field. */
function buildCommand(def: IoNodeDef, msg: Record<string, unknown> | undefined): IoCommand {
  const raw = msg?.['io'];
  const o = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const has = (k: string): boolean => o[k] !== undefined && o[k] !== null && o[k] !== '';
  const src = (k: string): string => (has(k) ? `msg.io.${k}` : k);
  const action = String(has('action') ? o.action : def.action || 'read') as IoAction;
  if (!ACTIONS.includes(action)) throw invalid(`${src('action')} must be one of ${ACTIONS.join(', ')}, got "${action}"`);
  const portRaw = has('port') ? o.port : def.port;
  // 'all' (msg.io.port) reads every port even when the node has one set.
  const portSet = !(portRaw === undefined || portRaw === null || String(portRaw).trim() === '' || (action === 'read' && portRaw === 'all'));
  let port: string | undefined;
  if (portSet) {
    try {
      port = portId(portRaw);
    } catch (e) {
      throw invalid(`${src('port')}: ${(e as Error).message}`);
    }
  }
  if (!port && action !== 'read') throw invalid(`${action === 'virtual' ? 'a virtual input number' : 'a port'} is needed: set it in the node or send msg.io.port`);
  if (action === 'virtual' && port === '0') throw invalid(`${src('port')}: virtual inputs are numbered from 1`);
  let active = def.value !== 'off';
  if (has('active')) active = onOff('msg.io.active', o.active);
  else if (typeof msg?.payload === 'boolean') active = msg.payload;
  const ms = optionalNumber(src('ms'), has('ms') ? o.ms : def.ms) ?? DEFAULT_PULSE_MS;
  if (!Number.isInteger(ms) || ms < 1 || ms > MAX_PULSE_MS) throw invalid(`${src('ms')} (pulse length) must be whole ms from 1 to ${MAX_PULSE_MS}`);
  const duration = optionalNumber(src('duration'), has('duration') ? o.duration : def.duration);
  if (duration !== undefined && (!Number.isInteger(duration) || duration < 0 || duration > MAX_VIRTUAL_DURATION_S)) {
    throw invalid(`${src('duration')} must be whole seconds from 0 to ${MAX_VIRTUAL_DURATION_S}`);
  }
  return { action, ...(port !== undefined ? { port } : {}), active, ms, ...(duration !== undefined ? { duration } : {}) };
}

export = function (RED: NodeAPI): void {
  function IoNode(this: Node, def: IoNodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const camera = def.camera ? (RED.nodes.getNode(def.camera) as unknown as AxisCameraApi | null) : null;
    const t = (key: string, vars?: Record<string, unknown>): string => RED._(`axmjpeg-io.${key}`, vars as never);

    let configError: CameraError | null = null;
    try {
      if (!camera) throw invalid(t('errors.noCamera'));
      // A port left empty may come with each msg; everything else is checked at deploy.
      if (String(def.port ?? '').trim() !== '' || (def.action || 'read') === 'read') buildCommand(def, undefined);
    } catch (e) {
      configError = toCameraError(e);
    }
    let controller: IoController | null = null;
    const io = (): IoController => (controller ??= new IoController(camera!.httpClient()));
    const pending = new Set<AbortController>();
    const running = new Set<Promise<void>>();
    let closing = false;

    if (configError) {
      node.status({ fill: 'red', shape: 'ring', text: t('status.notConfigured') });
      const err = configError;
      setImmediate(() => node.error(new CameraError(err.code, err.describe())));
    }

    async function run(cmd: IoCommand, signal: AbortSignal): Promise<{ payload: unknown; status: string }> {
      const c = io();
      switch (cmd.action) {
        case 'read': {
          if (cmd.port === undefined) {
            const ports = await c.ports(signal);
            return { payload: { ports }, status: t('status.read', { count: ports.length }) };
          }
          const p = await c.port(cmd.port, signal);
          return { payload: p, status: t('status.port', { port: p.port, state: p.active === undefined ? '?' : p.active ? 'on' : 'off' }) };
        }
        case 'set': {
          const p = await c.setOutput(cmd.port!, cmd.active, signal);
          return { payload: p, status: t('status.port', { port: p.port, state: cmd.active ? 'on' : 'off' }) };
        }
        case 'pulse': {
          const p = await c.pulse(cmd.port!, cmd.ms, signal);
          return { payload: { ...p, ms: cmd.ms }, status: t('status.pulse', { port: p.port, ms: cmd.ms }) };
        }
        case 'virtual': {
          const r = await c.virtualInput(Number(cmd.port), cmd.active, cmd.active ? cmd.duration : undefined, signal);
          const status = t('status.virtual', { port: r.port, state: r.active ? 'on' : 'off' }) + (cmd.active && cmd.duration !== undefined ? ` (${cmd.duration} s)` : '');
          return { payload: { ...r, ...(cmd.active && cmd.duration !== undefined ? { duration: cmd.duration } : {}) }, status };
        }
      }
    }

    async function handle(msg: NodeMessageInFlow, send: Send, done: Done): Promise<void> {
      if (configError) return reportFailure(node, configError, msg, done);
      let cmd: IoCommand;
      try {
        cmd = buildCommand(def, msg as Record<string, unknown>);
      } catch (e) {
        node.status({ fill: 'red', shape: 'ring', text: t('status.error', { reason: 'invalid setting' }) });
        return reportFailure(node, toCameraError(e), msg, done);
      }
      const ac = new AbortController();
      pending.add(ac);
      const timer = setTimeout(() => ac.abort(), REQUEST_TIMEOUT_MS);
      try {
        checkLoginGate(camera!.id);
        const r = await run(cmd, ac.signal);
        recordLoginOutcome(camera!.id, camera!.loginRetryMs);
        const out = msg as NodeMessageInFlow & Record<string, unknown>;
        out.payload = r.payload;
        node.status({ fill: 'green', shape: 'dot', text: r.status });
        send(out);
        done();
      } catch (e) {
        recordLoginOutcome(camera!.id, camera!.loginRetryMs, e);
        if (closing) return done();
        const err = ac.signal.aborted ? new CameraError(ErrorCodes.RESPONSE_TIMEOUT, `No answer from the camera within ${REQUEST_TIMEOUT_MS / 1000} s`) : toCameraError(e);
        node.status({ fill: 'red', shape: 'ring', text: t('status.error', { reason: err.code.replace(/^ERR_/, '').toLowerCase().replace(/_/g, ' ') }) });
        reportFailure(node, err, msg, done);
      } finally {
        clearTimeout(timer);
        pending.delete(ac);
      }
    }

    node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
      const p = handle(msg, send, done).catch((e) => done(e instanceof Error ? e : new Error(String(e))));
      running.add(p);
      void p.finally(() => running.delete(p));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      for (const ac of pending) ac.abort();
      void Promise.allSettled([...running]).then(() => {
        node.status({});
        done();
      });
    });
  }

  RED.nodes.registerType('axmjpeg-io', IoNode as unknown as (this: Node, def: NodeDef) => void);

  /** The camera's I/O ports for the editor (deployed camera config nodes only). */
  RED.httpAdmin.get('/axmjpeg-io/:cameraId/ports', RED.auth.needsPermission('axmjpeg-io.read'), async (req: Request, res: Response) => {
    const camera = RED.nodes.getNode(String(req.params.cameraId)) as unknown as AxisCameraApi | null;
    if (!camera || typeof camera.httpClient !== 'function') {
      res.status(404).json({ code: ErrorCodes.NOT_FOUND, message: RED._('axmjpeg-io.errors.cameraNotDeployed') });
      return;
    }
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), REQUEST_TIMEOUT_MS);
    try {
      const c = new IoController(camera.httpClient());
      const ports = await c.ports(ac.signal);
      res.json({ ports: ports.map((p) => ({ port: p.port, name: p.name, direction: p.direction, ...(p.active !== undefined ? { active: p.active } : {}) })), api: await c.whichApi(ac.signal) });
    } catch (e) {
      const err = toCameraError(e);
      res.status(502).json({ code: err.code, message: err.message, hint: err.hint });
    } finally {
      clearTimeout(timer);
    }
  });
};
