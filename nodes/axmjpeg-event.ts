/**
 * axmjpeg-event: Axis camera events (virtual inputs, motion, I/O, analytics)
 * as msgs, from the camera's event WebSocket. The logic lives in
 * src/events; this file maps its states to status, Catch and msgs.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { Request, Response } from 'express';
import { CameraError, ErrorCodes } from '../src/errors';
import {
  EventConfigError,
  EventStream,
  fetchTopicList,
  normaliseTopicFilters,
  type AxisEvent,
  type EventStateChange,
} from '../src/events';
import { cameraDispatcher } from './lib/camera-client';
import type { AxisCameraApi } from './lib/types';
import { failureReporter, reasonText } from './lib/report';

interface AxisEventDef extends NodeDef {
  camera: string;
  topics: string;
  emitInitial: boolean;
}

const TOPICS_TIMEOUT_MS = 10_000;

export = function (RED: NodeAPI): void {
  function AxisEventNode(this: Node, def: AxisEventDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const camera = def.camera ? (RED.nodes.getNode(def.camera) as unknown as AxisCameraApi | null) : null;
    let stream: EventStream | null = null;

    function t(key: string, vars?: Record<string, unknown>): string {
      return RED._(`axmjpeg-event.${key}`, vars as never);
    }

    const failures = failureReporter(node, 'error');
    function report(err: CameraError): void {
      failures.report(err, undefined, err instanceof EventConfigError ? { vapixCode: err.vapixCode } : undefined);
    }

    function failedText(err: CameraError | undefined): string {
      if (err instanceof EventConfigError) return t('status.configError', { code: String(err.vapixCode) });
      if (err?.code === ErrorCodes.NOT_FOUND) return t('status.unsupported');
      return t('status.error', { reason: reasonText(err) });
    }

    function onState(s: EventStateChange): void {
      switch (s.state) {
        case 'connecting':
          node.status({ fill: 'yellow', shape: 'ring', text: t('status.connecting') });
          return;
        case 'connected':
          failures.reset();
          node.status({ fill: 'green', shape: 'dot', text: t('status.connected') });
          return;
        case 'backoff':
          if (s.error) report(s.error);
          node.status({
            fill: 'red',
            shape: 'ring',
            text: t('status.reconnecting', { secs: Math.max(1, Math.round((s.retryInMs ?? 0) / 1000)), reason: reasonText(s.error) }),
          });
          return;
        case 'failed':
          if (s.error) report(s.error);
          node.status({ fill: 'red', shape: 'dot', text: failedText(s.error) });
          return;
        default:
          node.status({});
      }
    }

    function onEvent(e: AxisEvent): void {
      node.send({
        topic: e.topic,
        payload: { source: e.source, key: e.key, data: e.data, active: e.active, stateKey: e.stateKey, timestamp: e.timestamp },
      } as never);
    }

    try {
      if (!camera) throw new CameraError(ErrorCodes.INVALID_SETTING, t('errors.noCamera'));
      const topics = normaliseTopicFilters(def.topics);
      if (!topics.length) throw new CameraError(ErrorCodes.INVALID_SETTING, t('errors.noTopics'));
      const client = camera.httpClient();
      stream = new EventStream({
        client,
        topics,
        emitInitial: !!def.emitInitial,
        dispatcher: cameraDispatcher(client),
        backoff: { credentialRetryMs: camera.loginRetryMs },
      });
      stream.on('state', onState);
      stream.on('event', onEvent);
      stream.start();
    } catch (e) {
      const err = e instanceof CameraError ? e : new CameraError(ErrorCodes.UNKNOWN, String((e as Error)?.message ?? e));
      node.status({ fill: 'red', shape: 'ring', text: t('status.notConfigured') });
      // Once the whole flow exists, so a Catch node created after this one sees it.
      setImmediate(() => report(err));
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      const s = stream;
      stream = null;
      if (!s) {
        done();
        return;
      }
      s.removeAllListeners();
      s.stop()
        .catch(() => {})
        .then(() => done());
    });
  }

  RED.nodes.registerType('axmjpeg-event', AxisEventNode as unknown as (this: Node, def: NodeDef) => void);

  /** The camera's event topics for the editor's picker (deployed camera config nodes only). */
  RED.httpAdmin.get('/axmjpeg-event/:cameraId/topics', RED.auth.needsPermission('axmjpeg-event.read'), async (req: Request, res: Response) => {
    const camera = RED.nodes.getNode(String(req.params.cameraId)) as unknown as AxisCameraApi | null;
    if (!camera || typeof camera.httpClient !== 'function') {
      res.status(404).json({ code: ErrorCodes.NOT_FOUND, message: RED._('axmjpeg-event.errors.cameraNotDeployed') });
      return;
    }
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), TOPICS_TIMEOUT_MS);
    try {
      // Bounded: a hostile answer gives a truncated list, never a blocked event loop.
      res.json(await fetchTopicList(camera.httpClient(), ac.signal));
    } catch (e) {
      const err = e instanceof CameraError ? e : new CameraError(ErrorCodes.UNKNOWN, String((e as Error)?.message ?? e));
      res.status(502).json({ code: err.code, message: err.message, hint: err.hint });
    } finally {
      clearTimeout(timer);
    }
  });
};
