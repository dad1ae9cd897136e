/**
 * axmjpeg-motion: motion start/stop msgs from a flow of camera frames. The
 * logic (rate limit, DC-only JPEG decode, background model) is in
 * src/motion/; this file maps settings, msgs, the cooldown timer and status.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { CameraError, ErrorCodes } from '../src/errors';
import { parseMask } from '../src/motion/mask';
import { MotionProcessor, MotionProcessorOptions } from '../src/motion/processor';
import type { MotionStep } from '../src/motion/detector';
import { FrameMeta, FrameMsgProblem, frameMsgProblem, isFrameMsg } from './lib/types';

interface MotionDetectDef extends NodeDef {
  topic: string;
  fps: string | number;
  threshold: string | number;
  area: string | number;
  relearn: string | number;
  startFrames: string | number;
  cooldown: string | number;
  alpha: string | number;
  blur: boolean;
  maskType: 'none' | 'grid' | 'rects';
  mask: string;
  scoreEvery: string | number;
}

/** Status is refreshed at most this often, not per frame. */
const STATUS_INTERVAL_MS = 1000;
/** The cooldown timer fires this much after the due time, so the check never lands a hair early. */
const TIMER_SLACK_MS = 20;
const DEFAULT_TOPIC = 'motion';

type InMsg = NodeMessage & Record<string, unknown>;

function num(v: unknown, fallback: number): number {
  return v === undefined || v === null || v === '' ? fallback : Number(v);
}

export = function (RED: NodeAPI): void {
  function MotionDetectNode(this: Node, def: MotionDetectDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const topic = def.topic === undefined || def.topic === '' ? DEFAULT_TOPIC : String(def.topic);

    let processor: MotionProcessor;
    try {
      const mask = def.maskType === 'grid' || def.maskType === 'rects' ? parseMask(def.mask, def.maskType) : null;
      const opts: MotionProcessorOptions = {
        maxFps: num(def.fps, 5),
        pixelThreshold: num(def.threshold, 20),
        minAreaPercent: num(def.area, 0.2),
        relearnPercent: num(def.relearn, 60),
        startFrames: num(def.startFrames, 2),
        cooldownMs: num(def.cooldown, 5) * 1000,
        alpha: num(def.alpha, 0.02),
        blur: def.blur !== false,
        scoreEvery: num(def.scoreEvery, 0),
        mask,
      };
      processor = new MotionProcessor(opts);
    } catch (e) {
      const err = e instanceof CameraError ? e : new CameraError(ErrorCodes.INVALID_SETTING, String(e));
      node.error(`${err.message}. ${err.hint}`);
      node.status({ fill: 'red', shape: 'ring', text: RED._('axmjpeg-motion.status.config') });
      node.on('input', (_msg: InMsg, _send: unknown, done: (err?: Error) => void) => done());
      return;
    }
    const detector = processor.detector;

    /** The newest analysed frame: what a stop from the cooldown timer carries. */
    let last: { image: Buffer; frame: FrameMeta | undefined } | null = null;
    let lastStep: MotionStep | null = null;
    let cooldownTimer: NodeJS.Timeout | null = null;
    let lastStatus = '';
    const reported = new Set<FrameMsgProblem>();
    let notFrames = 0;
    const statusTimer = setInterval(showStatus, STATUS_INTERVAL_MS);
    showStatus();

    function showStatus(): void {
      const s = processor.stats;
      let text: string;
      let fill: 'red' | 'green' | 'grey' | 'yellow';
      if (!lastStep) {
        text = RED._('axmjpeg-motion.status.waiting');
        fill = 'grey';
      } else if (detector.motion) {
        text = RED._('axmjpeg-motion.status.motion', { score: lastStep.score.toFixed(1) });
        fill = 'red';
      } else {
        text = RED._('axmjpeg-motion.status.idle', { score: lastStep.score.toFixed(1) });
        fill = 'green';
      }
      if (notFrames > 0) {
        text += RED._('axmjpeg-motion.status.notFrames', { n: String(notFrames) });
        if (fill !== 'red') fill = 'yellow';
      }
      if (s.undecodable > 0) {
        text += RED._('axmjpeg-motion.status.skipped', { n: String(s.undecodable) });
        if (fill !== 'red') fill = 'yellow';
      }
      if (text === lastStatus) return;
      lastStatus = text;
      node.status({ fill, shape: 'dot', text });
    }

    function eventPayload(motion: boolean, step: MotionStep | null): Record<string, unknown> {
      return { motion, score: step ? step.score : 0, changedBlocks: step ? step.changedBlocks : 0 };
    }

    function armCooldown(): void {
      if (cooldownTimer) clearTimeout(cooldownTimer);
      cooldownTimer = null;
      const due = detector.stopDueAt;
      if (due === null) return;
      cooldownTimer = setTimeout(onCooldown, Math.max(0, due - Date.now()) + TIMER_SLACK_MS);
    }

    /** Frames stopped arriving during motion: end it from the timer, with the last frame. */
    function onCooldown(): void {
      cooldownTimer = null;
      if (detector.checkCooldown(Date.now()) === 'stop') {
        node.send([{ topic, payload: eventPayload(false, null), image: last?.image, frame: last?.frame }, null]);
        showStatus();
      } else armCooldown();
    }

    node.on('input', (msg: InMsg, send: (msgs: (NodeMessage | null)[]) => void, done: (err?: Error) => void) => {
      if (!isFrameMsg(msg)) {
        // A miswired flow sends every msg wrong: Catch hears once per kind, the status counts the rest.
        const problem = frameMsgProblem(msg);
        notFrames++;
        showStatus();
        if (reported.has(problem)) return done();
        reported.add(problem);
        done(new CameraError(ErrorCodes.NOT_JPEG, RED._(`axmjpeg-motion.errors.${problem}`), { hint: RED._('axmjpeg-motion.errors.hint') }));
        return;
      }
      const result = processor.push(msg.payload, Date.now());
      if (result.kind === 'undecodable') {
        if (result.firstOfCode) node.warn(RED._('axmjpeg-motion.errors.undecodable', { code: result.error.code, message: result.error.message }));
        showStatus();
      } else if (result.kind === 'processed') {
        const step = result.step;
        lastStep = step;
        last = { image: msg.payload, frame: msg.frame };
        let eventMsg: NodeMessage | null = null;
        let scoreMsg: NodeMessage | null = null;
        if (result.sendScore) {
          scoreMsg = {
            topic,
            payload: {
              score: step.score,
              changedBlocks: step.changedBlocks,
              watchedBlocks: step.watchedBlocks,
              brightnessShift: step.brightnessShift,
              motion: step.motion,
              relearned: step.relearned,
            },
            frame: msg.frame,
          } as NodeMessage;
        }
        if (step.event) {
          // The input msg becomes the event msg: other properties the flow set travel along.
          const out = msg as InMsg;
          out.image = msg.payload;
          out.payload = eventPayload(step.event === 'start', step);
          out.topic = topic;
          eventMsg = out;
        }
        if (eventMsg || scoreMsg) send([eventMsg, scoreMsg]);
        armCooldown();
        if (step.event) showStatus();
      }
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      if (cooldownTimer) clearTimeout(cooldownTimer);
      cooldownTimer = null;
      done();
    });
  }

  RED.nodes.registerType('axmjpeg-motion', MotionDetectNode);
};
