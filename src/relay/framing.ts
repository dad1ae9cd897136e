/**
 * Which part layout a viewer gets, from what its request says about it.
 *
 * 'standard' (`Content-Length` in every part, the delimiter right after each
 * frame) is what ffmpeg, OpenCV, GStreamer, VLC, curl and our own axmjpeg-in
 * read best. Chromium, though, finishes drawing a part only when the *next*
 * part's headers have arrived (Chromium bug 527446): a delimiter alone is not
 * enough, so every frame would be shown one frame period late and the last
 * frame before a pause never. 'browser' therefore sends the next part's
 * headers right after each frame, as ustreamer's `advance_headers` does; those
 * headers are written before the next frame exists, so they cannot carry
 * Content-Length or X-Timestamp. Browsers do not need either.
 *
 * WebKit (Safari, every iOS browser) has a bug of its own: the last frame of
 * a series is drawn late (ustreamer's `dual_final_frames`), so WebKit viewers
 * also get a frame once more when no other followed it soon.
 */
import type { IncomingHttpHeaders } from 'node:http';

export type Framing = 'browser' | 'standard';
export const FRAMINGS: readonly Framing[] = ['browser', 'standard'];

export interface ViewerKind {
  framing: Framing;
  /** Repeat the last frame of a series (Safari / WebKit). */
  webkit: boolean;
}

/**
 * `Sec-Fetch-Dest` (Fetch Metadata, sent by Chromium 80+, Firefox 90+,
 * Safari 16.4+) says what the browser will do with the body: `image`,
 * `document`, `iframe`... render it; `empty` is fetch()/XHR, whose script
 * parses the bytes itself and may rely on Content-Length. Browsers too old
 * for Fetch Metadata still all send a `Mozilla/` User-Agent; no MJPEG tool we
 * know of does (ffmpeg/OpenCV "Lavf", VLC, GStreamer, curl, undici).
 */
export function viewerKind(headers: IncomingHttpHeaders, explicit?: Framing): ViewerKind {
  const ua = String(headers['user-agent'] ?? '');
  const dest = headers['sec-fetch-dest'];
  let framing: Framing;
  if (explicit) framing = explicit;
  else if (typeof dest === 'string' && dest !== '') framing = dest.toLowerCase() === 'empty' ? 'standard' : 'browser';
  else framing = ua.startsWith('Mozilla/') ? 'browser' : 'standard';
  return { framing, webkit: framing === 'browser' && isWebKit(ua) };
}

/**
 * Safari and every browser on iOS (CriOS, FxiOS, EdgiOS run on WebKit) name
 * AppleWebKit without Chrome/; Chromium-based browsers also say AppleWebKit,
 * but with Chrome/.
 */
export function isWebKit(ua: string): boolean {
  return /AppleWebKit\//.test(ua) && !/(Chrome|Chromium|HeadlessChrome)\//.test(ua);
}
