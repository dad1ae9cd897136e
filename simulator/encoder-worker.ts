/**
 * Worker thread that renders and encodes frames, so a slow jpeg-js encode
 * (hundreds of ms at 1080p) never blocks the event loop that paces streams.
 */
import { parentPort } from 'node:worker_threads';
import { renderJpeg, type FrameSpec } from './render';

export interface EncodeJob {
  id: number;
  spec: FrameSpec;
  slot: number;
  timeMs: number;
}

export interface EncodeResult {
  id: number;
  jpeg?: Uint8Array;
  error?: string;
}

parentPort?.on('message', (job: EncodeJob) => {
  let reply: EncodeResult;
  try {
    reply = { id: job.id, jpeg: renderJpeg(job.spec, job.slot, job.timeMs) };
  } catch (err) {
    reply = { id: job.id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(reply);
});
