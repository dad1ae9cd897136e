/**
 * What a camera's PTZ can do, from its `root.PTZ` parameters. Lists differ a
 * lot: a Q-series dome lists every `Support.S1.*` flag, a zoom-only box camera
 * says `AbsolutePan=false`, a fixed camera has a PTZ group without any image
 * source, and AXIS OS 12/13 firmware drops groups that older clients relied
 * on. So a flag that is missing means "unknown" (the camera's own answer to the
 * command decides), never "no".
 */
import { parseKeyValueLines } from '../vapix-command';

export interface PtzPosition {
  pan?: number;
  tilt?: number;
  zoom?: number;
}

export interface PtzPreset {
  /** Server preset number (`gotoserverpresetno`). */
  number: number;
  name: string;
  /** Where the camera stored it, when the parameters say. */
  position?: PtzPosition;
  home?: boolean;
}

export interface PtzLimits {
  minPan?: number;
  maxPan?: number;
  minTilt?: number;
  maxTilt?: number;
  minZoom?: number;
  maxZoom?: number;
}

export type PtzFeature =
  | 'absolutePan'
  | 'absoluteTilt'
  | 'absoluteZoom'
  | 'relativePan'
  | 'relativeTilt'
  | 'relativeZoom'
  | 'continuousPan'
  | 'continuousTilt'
  | 'continuousZoom'
  | 'serverPreset';

export interface PtzCapabilities {
  /** Video channel (1-based), as ptz.cgi's `camera` argument. */
  camera: number;
  /** false: the camera says it has no PTZ on this channel. */
  available: boolean;
  /** Why not available, for the error message. */
  reason?: string;
  /** true/false where the camera lists the flag; absent: not listed. */
  features: Partial<Record<PtzFeature, boolean>>;
  limits: PtzLimits;
  presets: PtzPreset[];
  /** Where the answer came from. */
  source: 'param' | 'query';
}

const SUPPORT_FLAGS: Record<string, PtzFeature[]> = {
  AbsolutePan: ['absolutePan'],
  AbsoluteTilt: ['absoluteTilt'],
  AbsoluteZoom: ['absoluteZoom'],
  RelativePan: ['relativePan'],
  RelativeTilt: ['relativeTilt'],
  RelativeZoom: ['relativeZoom'],
  ContinuousPan: ['continuousPan'],
  ContinuousTilt: ['continuousTilt'],
  ContinuousZoom: ['continuousZoom'],
  ServerPreset: ['serverPreset'],
};

function num(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** `tilt=0.000000:focus=32766.000000:pan=0.000000:zoom=1.000000` (a preset's `Data`). */
export function parsePresetData(data: string): PtzPosition {
  const out: PtzPosition = {};
  for (const part of data.split(':')) {
    const [k, v] = part.split('=');
    const n = num(v);
    if (n === undefined) continue;
    if (k === 'pan' || k === 'tilt' || k === 'zoom') out[k] = n;
  }
  return out;
}

/** `pan=51.2891\ntilt=46.1914\nzoom=1\n...` (ptz.cgi?query=position). */
export function parsePosition(text: string): PtzPosition {
  const kv = parseKeyValueLines(text);
  const out: PtzPosition = {};
  for (const k of ['pan', 'tilt', 'zoom'] as const) {
    const n = num(kv[k]);
    if (n !== undefined) out[k] = n;
  }
  return out;
}

/**
 * `Preset Positions for camera 1\npresetposno1=Home\n...` (query=presetposcam,
 * or presetposall with one heading per camera: only `camera`'s section counts).
 */
export function parsePresetList(text: string, camera = 1): PtzPreset[] {
  const out: PtzPreset[] = [];
  let section: number | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const head = /^preset positions for camera\s+(\d+)/i.exec(line);
    if (head) {
      section = Number(head[1]);
      continue;
    }
    const m = /^presetposno(\d+)=(.*)$/i.exec(line);
    if (!m || (section !== null && section !== camera)) continue;
    out.push({ number: Number(m[1]), name: m[2]! });
  }
  return out;
}

/**
 * Capabilities of channel `camera` from a `param.cgi?action=list&group=root.PTZ`
 * answer (already parsed to `root.X=Y` values). null when the list says
 * nothing either way (the caller then asks ptz.cgi itself).
 */
export function capabilitiesFromParams(values: Record<string, string>, camera = 1): PtzCapabilities | null {
  const p = (k: string): string | undefined => values[`root.PTZ.${k}`];
  const src = camera - 1;
  const base = { camera, features: {}, limits: {}, presets: [], source: 'param' as const };
  const enabled = p(`ImageSource.I${src}.PTZEnabled`);
  if (enabled !== undefined && /^(false|no|0)$/i.test(enabled)) {
    return { ...base, available: false, reason: `PTZ is disabled for video channel ${camera} (PTZ.ImageSource.I${src}.PTZEnabled=${enabled})` };
  }
  const driver = p('PTZDrivers.Driver1');
  if (driver !== undefined && driver.toLowerCase() === 'none' && p(`Support.S${camera}.AbsolutePan`) === undefined) {
    return { ...base, available: false, reason: 'the camera has no PTZ driver (PTZ.PTZDrivers.Driver1=none)' };
  }

  const features: Partial<Record<PtzFeature, boolean>> = {};
  let listed = false;
  for (const [flag, names] of Object.entries(SUPPORT_FLAGS)) {
    const v = p(`Support.S${camera}.${flag}`);
    if (v === undefined) continue;
    listed = true;
    for (const n of names) features[n] = /^(true|yes|1)$/i.test(v);
  }
  if (!listed) return null;
  if (Object.values(features).every((v) => v === false)) {
    return { ...base, available: false, features, reason: `the camera lists no PTZ function for video channel ${camera} (every PTZ.Support.S${camera} flag is false)` };
  }

  const limits: PtzLimits = {};
  for (const k of ['MinPan', 'MaxPan', 'MinTilt', 'MaxTilt', 'MinZoom', 'MaxZoom'] as const) {
    const n = num(p(`Limit.L${camera}.${k}`));
    if (n !== undefined) limits[(k[0]!.toLowerCase() + k.slice(1)) as keyof PtzLimits] = n;
  }
  return { ...base, available: true, features, limits, presets: presetsFromParams(values, camera) };
}

/** Server presets of channel `camera` from `root.PTZ.Preset.P#` groups (P# whose ImageSource is camera-1). */
export function presetsFromParams(values: Record<string, string>, camera = 1): PtzPreset[] {
  const groups = new Set<string>();
  for (const k of Object.keys(values)) {
    const m = /^root\.PTZ\.Preset\.(P\d+)\./.exec(k);
    if (m) groups.add(m[1]!);
  }
  const out: PtzPreset[] = [];
  for (const g of groups) {
    const src = values[`root.PTZ.Preset.${g}.ImageSource`];
    if (src !== undefined && Number(src) !== camera - 1) continue;
    const home = Number(values[`root.PTZ.Preset.${g}.HomePosition`]);
    for (const k of Object.keys(values)) {
      const m = new RegExp(`^root\\.PTZ\\.Preset\\.${g}\\.Position\\.P(\\d+)\\.Name$`).exec(k);
      if (!m) continue;
      const n = Number(m[1]);
      const data = values[`root.PTZ.Preset.${g}.Position.P${n}.Data`];
      const preset: PtzPreset = { number: n, name: values[k] ?? '' };
      if (data) preset.position = parsePresetData(data);
      if (home === n) preset.home = true;
      out.push(preset);
    }
  }
  return out.sort((a, b) => a.number - b.number);
}
