import { execFileSync } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { MjpegFilePlayer, PlayerFrame } from '../../src/recording/player';
import { within } from './wait';

/**
 * Every frame of a recording, played back fast. Rejects only when playback
 * ends in an error; a part the player skips and reports through onError does not.
 */
export function playAll(file: string): Promise<PlayerFrame[]> {
  const frames: PlayerFrame[] = [];
  return new Promise((resolve, reject) => {
    new MjpegFilePlayer({
      path: file,
      fps: 500,
      onFrame: (f) => frames.push(f),
      onEnd: (err) => (err ? reject(err) : resolve(frames)),
    }).start();
  });
}

/**
 * A real FIFO (named pipe) at `file`. Node has no mkfifo(), so the coreutils
 * tool makes it; tests that need one skip where it is missing (Windows).
 */
export function makeFifo(file: string): boolean {
  if (process.platform === 'win32') return false;
  try {
    execFileSync('mkfifo', [file]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Proves the libuv threadpool is free: a blocked open(2) holds one of its 4
 * threads, and with all of them held even fs.stat never answers.
 */
export async function threadpoolAnswers(dir: string, ms = 2000): Promise<void> {
  const probes = Array.from({ length: 8 }, () => fsp.stat(dir));
  await within(Promise.all(probes), ms, 'fs.stat on the libuv threadpool');
}
