/**
 * axmjpeg-throttle: cuts a frame flow down to what a slow consumer can take,
 * keeping the newest frame. The logic is in src/throttle.ts; this file maps
 * msgs and status.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { FrameThrottle, ThrottleMode, validateThrottleOptions } from '../src/throttle';
import { CameraError, ErrorCodes } from '../src/errors';
import { frameMsgProblem, isFrameMsg } from './lib/types';

interface FrameThrottleDef extends NodeDef {
  mode: ThrottleMode;
  fps: string | number;
  nth: string | number;
  readyTopic: string;
  readyAtStart: boolean;
  /** Frames larger than this many kB are held back (an MQTT broker's size limit); blank/absent: any size. */
  maxKB?: string | number;
}

/** Status is refreshed at most this often, not per frame. */
const STATUS_INTERVAL_MS = 1000;
const DEFAULT_READY_TOPIC = 'ready';
/** 1 GB: far above any JPEG and mosquitto's own 256 MB ceiling. */
const MAX_KB_LIMIT = 1_000_000;

type InMsg = NodeMessage & Record<string, unknown>;

export = function (RED: NodeAPI): void {
  function FrameThrottleNode(this: Node, def: FrameThrottleDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const mode = def.mode ?? 'fps';
    const readyTopic = def.readyTopic === undefined || def.readyTopic === '' ? DEFAULT_READY_TOPIC : String(def.readyTopic);
    const settings = { mode, fps: Number(def.fps), nth: Number(def.nth) };

    const maxKB = def.maxKB === undefined || def.maxKB === null || def.maxKB === '' ? 0 : Number(def.maxKB);
    const configError =
      validateThrottleOptions(settings) ??
      (!Number.isFinite(maxKB) || maxKB < 0 || maxKB > MAX_KB_LIMIT
        ? new CameraError(ErrorCodes.INVALID_SETTING, RED._('axmjpeg-throttle.errors.maxKB', { value: String(def.maxKB), max: MAX_KB_LIMIT }), { hint: RED._('axmjpeg-throttle.errors.maxKBHint') })
        : null);
    if (configError) {
      node.error(`${configError.message}. ${configError.hint}`);
      node.status({ fill: 'red', shape: 'ring', text: RED._('axmjpeg-throttle.status.config') });
      node.on('input', (_msg: InMsg, _send: unknown, done: (err?: Error) => void) => done());
      return;
    }

    const throttle = new FrameThrottle<NodeMessage>({
      mode,
      fps: settings.fps,
      nth: settings.nth,
      readyAtStart: def.readyAtStart !== false,
      // Later emits (trailing edge, ready) happen outside the input handler: node.send works for both.
      emit: (msg) => node.send(msg),
    });

    /** Problems already reported: a wrong wire would otherwise log one error per frame. */
    const reported = new Set<string>();
    /** Frames held back for their size, and the largest seen: a broker would drop them without a word. */
    let tooLarge = 0;
    let largestKB = 0;
    let lastStatus = '';
    const statusTimer = setInterval(showStatus, STATUS_INTERVAL_MS);
    showStatus();

    function showStatus(): void {
      const s = throttle.stats;
      let text = RED._('axmjpeg-throttle.status.rates', {
        in: s.inFps.toFixed(1),
        out: s.outFps.toFixed(1),
        dropped: String(s.dropped),
      });
      if (tooLarge > 0) text += RED._('axmjpeg-throttle.status.tooLarge', { count: String(tooLarge), max: String(maxKB) });
      if (text === lastStatus) return;
      lastStatus = text;
      node.status({ fill: tooLarge > 0 ? 'yellow' : s.in > 0 ? 'green' : 'grey', shape: 'dot', text });
    }

    function isReadyMsg(msg: InMsg): boolean {
      return msg.ready === true || (typeof msg.topic === 'string' && msg.topic === readyTopic);
    }


    node.on('input', (msg: InMsg, _send: unknown, done: (err?: Error) => void) => {
      if (isFrameMsg(msg) && maxKB > 0 && msg.payload.length > maxKB * 1024) {
        tooLarge++;
        const kb = Math.ceil(msg.payload.length / 1024);
        // Once, and again only for a larger frame: the status keeps the count.
        if (kb > largestKB) {
          largestKB = kb;
          node.warn(RED._('axmjpeg-throttle.warn.tooLarge', { size: String(kb), max: String(maxKB) }));
        }
      } else if (isFrameMsg(msg)) {
        throttle.push(msg);
      } else if (isReadyMsg(msg)) {
        throttle.ready();
      } else {
        const problem = frameMsgProblem(msg);
        if (!reported.has(problem)) {
          reported.add(problem);
          const err = new CameraError(ErrorCodes.NOT_JPEG, RED._(`axmjpeg-throttle.errors.${problem}`, { topic: readyTopic }), {
            hint: RED._('axmjpeg-throttle.errors.hint'),
          });
          node.error(err, msg);
        }
      }
      // A held frame may be replaced later and never sent: its input is done now either way.
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      throttle.close();
      done();
    });
  }

  RED.nodes.registerType('axmjpeg-throttle', FrameThrottleNode);
};
