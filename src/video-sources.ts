/**
 * The video sources and view areas of an Axis device, for the editors'
 * camera picker: what `camera=1..n` (and `quad`) means on this device.
 *
 * VAPIX keeps them in param.cgi: `root.Image.I<k>` is image configuration k
 * (`camera=k+1`), with a Name ("View Area 1", "Camera 2", a user's name),
 * Enabled, the sensor it comes from (`Source` -> `root.ImageSource.I<n>`) and
 * its configured Appearance.Resolution; `root.ImageSource.NbrOfSources` counts
 * sensors/channels, and `camera=quad` shows four of them at once on
 * multi-channel devices. Disabled configurations are not offered: the camera
 * answers "Camera N not available" for them.
 */
import { CameraError, ErrorCodes } from './errors';
import type { CameraHttpClient } from './http';
import { paramCgiText, parseParamList } from './device-info';

export interface VideoSource {
  /** The `camera` parameter value: "1", "2", ... or "quad". */
  camera: string;
  name: string;
  /** Configured resolution, e.g. "1920x1080"; null when the camera does not say. */
  resolution: string | null;
  /** Name of the sensor/channel it comes from, when it differs from the name. */
  sensor?: string;
}

export const VIDEO_SOURCES_PATH = '/axis-cgi/param.cgi?action=list&group=root.Image,root.ImageSource,root.Properties.Image';
/** More image configurations than any device has: a limit for hostile answers. */
export const MAX_VIDEO_SOURCES = 32;
const MAX_NAME = 64;

/** Names as shown in an editor: printable, short. */
function clean(v: string | undefined): string {
  return (v ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, MAX_NAME);
}

export function parseVideoSources(values: Record<string, string>): VideoSource[] {
  const configs = new Set<number>();
  for (const k of Object.keys(values)) {
    const m = /^root\.Image\.I(\d{1,3})\./.exec(k);
    if (m) configs.add(Number(m[1]));
  }
  const sources = Number(values['root.ImageSource.NbrOfSources'] ?? NaN);
  const out: VideoSource[] = [];
  for (const i of [...configs].sort((a, b) => a - b)) {
    if (out.length >= MAX_VIDEO_SOURCES) break;
    const p = `root.Image.I${i}.`;
    if ((values[`${p}Enabled`] ?? 'yes').toLowerCase() === 'no') continue;
    const res = values[`${p}Appearance.Resolution`];
    const src = values[`${p}Source`];
    const sensor = src !== undefined ? clean(values[`root.ImageSource.I${src}.Name`]) : '';
    const name = clean(values[`${p}Name`]) || `Camera ${i + 1}`;
    const v: VideoSource = { camera: String(i + 1), name, resolution: res && /^\d{1,5}x\d{1,5}$/.test(res) ? res : null };
    if (sensor && sensor !== name && Number.isFinite(sources) && sources > 1) v.sensor = sensor;
    out.push(v);
  }
  if (Number.isFinite(sources) && sources >= 2) out.push({ camera: 'quad', name: 'Quad view', resolution: null });
  return out;
}

/** Reads the device's video sources; ERR_HTTP_STATUS when param.cgi has no image configuration. */
export async function fetchVideoSources(client: CameraHttpClient, signal?: AbortSignal): Promise<VideoSource[]> {
  const res = await client.fetchBuffer(VIDEO_SOURCES_PATH, { maxBytes: 1024 * 1024, ...(signal ? { signal } : {}) });
  const { values } = parseParamList(paramCgiText(res));
  const list = parseVideoSources(values);
  if (list.length === 0) throw new CameraError(ErrorCodes.HTTP_STATUS, `${client.baseUrl}: param.cgi lists no video source`);
  return list;
}
