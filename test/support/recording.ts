import { MjpegFilePlayer, PlayerFrame } from '../../src/recording/player';

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
