/**
 * The camera wall's wire format: one WebSocket per dashboard page carries the
 * JPEGs of every tile on it (so a page of 16 cameras needs one connection,
 * not 16 of the browser's 6 per host), and small JSON control messages.
 *
 * Binary message (server → browser), one per frame:
 *   0      0xA5 (magic)
 *   1      protocol version (1)
 *   2..3   0 (reserved)
 *   4..7   tile number, uint32 big-endian (chosen by the browser)
 *   8..15  frame time, float64 big-endian, ms since epoch
 *   16..   the JPEG
 * Text messages are JSON objects with a `t` field; see ClientMessage and
 * ServerMessage.
 */

export const WALL_PROTOCOL_VERSION = 1;
export const FRAME_MAGIC = 0xa5;
export const FRAME_HEADER_BYTES = 16;
/** Control messages are tiny; anything bigger is a broken or hostile client. */
export const MAX_CONTROL_BYTES = 4096;
/** Tile numbers are the browser's; bounded so they stay exact in JSON and uint32. */
export const MAX_TILE_ID = 0xffff_ffff;
export const MAX_TILE_FPS = 100;
/** Node-RED node ids are 16 hex digits; subflow instances join ids with '-'. Kept loose, but bounded. */
const WIDGET_ID_RE = /^[A-Za-z0-9._-]{1,128}$/;

export function frameHeader(tile: number, time: number): Buffer {
  const h = Buffer.alloc(FRAME_HEADER_BYTES);
  h[0] = FRAME_MAGIC;
  h[1] = WALL_PROTOCOL_VERSION;
  h.writeUInt32BE(tile, 4);
  h.writeDoubleBE(time, 8);
  return h;
}

/** Inverse of frameHeader + JPEG, for tests and tools (the browser has its own in JS). */
export function parseFrameMessage(msg: Buffer): { tile: number; time: number; jpeg: Buffer } | null {
  if (msg.length < FRAME_HEADER_BYTES || msg[0] !== FRAME_MAGIC || msg[1] !== WALL_PROTOCOL_VERSION) return null;
  return { tile: msg.readUInt32BE(4), time: msg.readDoubleBE(8), jpeg: msg.subarray(FRAME_HEADER_BYTES) };
}

export type ClientMessage =
  /** Show widget `w` in tile `tile` at most `fps` frames/s (0 = the source's rate); `full` = the enlarged view, at full rate. */
  | { t: 'sub'; tile: number; w: string; fps: number; full: boolean }
  | { t: 'unsub'; tile: number }
  /** The browser has drawn a frame of `tile`: it may get another one. */
  | { t: 'ack'; tile: number };

/** What a tile shows besides pictures. */
export type TileStateName = 'waiting' | 'live' | 'connecting' | 'reconnecting' | 'offline' | 'paused';

export type ServerMessage =
  | { t: 'hello'; v: number; window: number }
  | { t: 'state'; tile: number; state: TileStateName; label?: string; detail?: string }
  | { t: 'error'; tile?: number; code: string; message: string };

export type ParseResult = { ok: true; msg: ClientMessage } | { ok: false; message: string };

function tileOf(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TILE_ID ? v : null;
}

export function parseClientMessage(text: string): ParseResult {
  if (text.length > MAX_CONTROL_BYTES) return { ok: false, message: `control message longer than ${MAX_CONTROL_BYTES} bytes` };
  let m: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) return { ok: false, message: 'control message must be a JSON object' };
    m = v as Record<string, unknown>;
  } catch {
    return { ok: false, message: 'control message is not JSON' };
  }
  const tile = tileOf(m.tile);
  if (tile === null) return { ok: false, message: `tile must be an integer from 0 to ${MAX_TILE_ID}` };
  switch (m.t) {
    case 'sub': {
      if (typeof m.w !== 'string' || !WIDGET_ID_RE.test(m.w)) return { ok: false, message: 'w must be a widget id' };
      const fps = m.fps === undefined ? 0 : m.fps;
      if (typeof fps !== 'number' || !Number.isFinite(fps) || fps < 0 || fps > MAX_TILE_FPS) {
        return { ok: false, message: `fps must be a number from 0 to ${MAX_TILE_FPS}` };
      }
      return { ok: true, msg: { t: 'sub', tile, w: m.w, fps, full: m.full === true } };
    }
    case 'unsub':
    case 'ack':
      return { ok: true, msg: { t: m.t, tile } };
    default:
      return { ok: false, message: `unknown control message type ${JSON.stringify(String(m.t)).slice(0, 40)}` };
  }
}
