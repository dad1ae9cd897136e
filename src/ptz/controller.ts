/**
 * PTZ over VAPIX `com/ptz.cgi`: capability probe, presets, moves, position.
 *
 * Every command checks what the camera said it can do first, so a zoom-only
 * or fixed camera gets ERR_NOT_SUPPORTED naming what is missing instead of a
 * silent no-op. Commands are GET requests (ptz.cgi takes GET and POST alike);
 * the camera answers 204 (or an empty 200) when it took the command and
 * `Error: ...` text when it did not.
 */
import { paramCgiText, parseParamList, decodeBody } from '../device-info';
import { CameraError, ErrorCodes } from '../errors';
import type { CameraHttpClient } from '../http';
import { untilAborted, vapixCommand, vapixErrorText } from '../vapix-command';
import {
  capabilitiesFromParams,
  parsePosition,
  parsePresetList,
  type PtzCapabilities,
  type PtzFeature,
  type PtzPosition,
  type PtzPreset,
} from './capabilities';

export const PTZ_PATH = '/axis-cgi/com/ptz.cgi';

export type PtzCommand =
  | { action: 'preset'; preset: string | number; speed?: number }
  | { action: 'home'; speed?: number }
  | { action: 'absolute'; pan?: number; tilt?: number; zoom?: number; speed?: number }
  | { action: 'relative'; pan?: number; tilt?: number; zoom?: number; speed?: number }
  | { action: 'continuous'; pan?: number; tilt?: number; zoom?: number }
  | { action: 'stop' };

export type PtzAction = PtzCommand['action'];
export const PTZ_ACTIONS: readonly PtzAction[] = ['preset', 'home', 'absolute', 'relative', 'continuous', 'stop'];

function invalid(message: string): CameraError {
  return new CameraError(ErrorCodes.INVALID_SETTING, message);
}

function unsupported(message: string): CameraError {
  return new CameraError(ErrorCodes.NOT_SUPPORTED, message);
}

function checkRange(name: string, v: number | undefined, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw invalid(`${name} must be a number from ${min} to ${max}, got ${String(v)}`);
}

/** Numbers as ptz.cgi wants them: no exponent, at most 4 decimals. */
function fmt(n: number): string {
  return String(Math.round(n * 10_000) / 10_000);
}

/** Throws ERR_INVALID_SETTING for a command the camera should never see. */
export function validatePtzCommand(cmd: PtzCommand): void {
  if (!cmd || !PTZ_ACTIONS.includes(cmd.action)) throw invalid(`PTZ action must be one of ${PTZ_ACTIONS.join(', ')}`);
  if ('speed' in cmd) checkRange('speed', cmd.speed, 1, 100);
  switch (cmd.action) {
    case 'preset': {
      const p = cmd.preset;
      if (typeof p === 'number' ? !Number.isInteger(p) || p < 1 : typeof p !== 'string' || p.trim() === '' || p.length > 95) {
        throw invalid('preset must be a preset name (1 to 95 characters) or a preset number from 1');
      }
      return;
    }
    case 'absolute':
      checkRange('pan', cmd.pan, -180, 180);
      checkRange('tilt', cmd.tilt, -180, 180);
      checkRange('zoom', cmd.zoom, 1, 9999);
      if (cmd.pan === undefined && cmd.tilt === undefined && cmd.zoom === undefined) throw invalid('an absolute move needs pan, tilt or zoom');
      return;
    case 'relative':
      checkRange('pan', cmd.pan, -360, 360);
      checkRange('tilt', cmd.tilt, -360, 360);
      checkRange('zoom', cmd.zoom, -9999, 9999);
      if (cmd.pan === undefined && cmd.tilt === undefined && cmd.zoom === undefined) throw invalid('a relative move needs pan, tilt or zoom');
      return;
    case 'continuous':
      checkRange('pan speed', cmd.pan, -100, 100);
      checkRange('tilt speed', cmd.tilt, -100, 100);
      checkRange('zoom speed', cmd.zoom, -100, 100);
      if (cmd.pan === undefined && cmd.tilt === undefined && cmd.zoom === undefined) throw invalid('a continuous move needs a pan, tilt or zoom speed');
      return;
    default:
      return;
  }
}

/** Same effect when sent twice? Then a reset on a kept-alive socket may be retried once. */
export function isIdempotent(cmd: PtzCommand): boolean {
  return cmd.action !== 'relative';
}

export interface PtzControllerOptions {
  /** Video channel, 1-based (default 1). */
  camera?: number;
}

export class PtzController {
  readonly camera: number;
  private caps: Promise<PtzCapabilities> | null = null;

  constructor(
    private readonly client: CameraHttpClient,
    opts: PtzControllerOptions = {},
  ) {
    const camera = opts.camera ?? 1;
    if (!Number.isInteger(camera) || camera < 1 || camera > 16) throw invalid('camera (video channel) must be an integer from 1 to 16');
    this.camera = camera;
  }

  /**
   * What the camera can do, asked once per controller. A failed probe is not
   * kept: the next command asks again (the camera may have been rebooting).
   * The probe is shared, so it does not take the caller's signal (one caller
   * giving up must not fail the others); its requests are bounded by the
   * client's timeouts.
   */
  capabilities(signal?: AbortSignal): Promise<PtzCapabilities> {
    if (!this.caps) {
      const p = this.probe();
      this.caps = p;
      p.catch(() => {
        if (this.caps === p) this.caps = null;
      });
    }
    return untilAborted(this.caps, signal);
  }

  /** Forget the probed capabilities (after a reboot or reconfiguration). */
  forgetCapabilities(): void {
    this.caps = null;
  }

  private async probe(): Promise<PtzCapabilities> {
    let fromParams: PtzCapabilities | null = null;
    try {
      const res = await vapixCommand(this.client, '/axis-cgi/param.cgi?action=list&group=root.PTZ', { idempotent: true });
      const parsed = parseParamList(paramCgiText(res));
      fromParams = capabilitiesFromParams(parsed.values, this.camera);
    } catch (e) {
      // Some firmware restricts param.cgi to administrators (403): ptz.cgi below still tells.
      if (!(e instanceof CameraError) || (e.code !== ErrorCodes.FORBIDDEN && e.code !== ErrorCodes.NOT_FOUND)) throw e;
    }
    if (fromParams) return fromParams;

    // The list says nothing (AXIS OS 13 lists less): ask for the position; a PTZ camera has one.
    const base = { camera: this.camera, limits: {}, presets: [] as PtzPreset[], source: 'query' as const };
    let pos: PtzPosition;
    try {
      pos = await this.position();
    } catch (e) {
      if (e instanceof CameraError && (e.code === ErrorCodes.NOT_FOUND || e.code === ErrorCodes.CAMERA_REFUSED)) {
        return { ...base, available: false, features: {}, reason: `ptz.cgi answered: ${e.message}` };
      }
      throw e;
    }
    if (pos.pan === undefined && pos.tilt === undefined && pos.zoom === undefined) {
      return { ...base, available: false, features: {}, reason: 'the camera reports no pan, tilt or zoom position' };
    }
    // An axis the position does not mention is one the camera lacks.
    const features: Partial<Record<PtzFeature, boolean>> = {};
    for (const axis of ['pan', 'tilt', 'zoom'] as const) {
      if (pos[axis] !== undefined) continue;
      const A = axis[0]!.toUpperCase() + axis.slice(1);
      for (const kind of ['absolute', 'relative', 'continuous']) features[`${kind}${A}` as PtzFeature] = false;
    }
    return { ...base, available: true, features };
  }

  /** Current position (`query=position`). */
  async position(signal?: AbortSignal): Promise<PtzPosition> {
    const text = await this.get(`query=position&camera=${this.camera}`, true, signal);
    const refused = vapixErrorText(text);
    if (refused) throw new CameraError(ErrorCodes.CAMERA_REFUSED, `ptz.cgi query=position: ${refused}`, { body: refused });
    return parsePosition(text);
  }

  /** The channel's server presets, as the camera lists them (falls back to the probed parameters). */
  async presets(signal?: AbortSignal): Promise<PtzPreset[]> {
    const caps = await this.capabilities(signal);
    if (!caps.available) throw unsupported(`No PTZ on this camera: ${caps.reason ?? 'not available'}`);
    try {
      const text = await this.get(`query=presetposcam&camera=${this.camera}`, true, signal);
      if (!vapixErrorText(text)) {
        const listed = parsePresetList(text, this.camera);
        // Keep positions the parameters know, for "arrived" checks.
        const known = new Map(caps.presets.map((p) => [p.number, p]));
        return listed.map((p) => ({ ...known.get(p.number), ...p }));
      }
    } catch (e) {
      if (!(e instanceof CameraError) || e.code !== ErrorCodes.NOT_FOUND) throw e;
    }
    return caps.presets;
  }

  /**
   * Sends one command. Returns the position it aims at when that is known
   * (absolute moves, presets with stored positions), for waitForStill.
   */
  async send(cmd: PtzCommand, signal?: AbortSignal): Promise<{ target?: PtzPosition; preset?: PtzPreset }> {
    validatePtzCommand(cmd);
    const caps = await this.capabilities(signal);
    if (!caps.available) throw unsupported(`No PTZ on this camera: ${caps.reason ?? 'not available'}`);
    const need = (feature: PtzFeature, what: string): void => {
      if (caps.features[feature] === false) throw unsupported(`This camera cannot ${what} (PTZ Support ${feature} is false)`);
    };
    const args: string[] = [`camera=${this.camera}`];
    const out: { target?: PtzPosition; preset?: PtzPreset } = {};
    switch (cmd.action) {
      case 'preset': {
        need('serverPreset', 'go to server presets');
        const presets = caps.presets.length ? caps.presets : [];
        const found =
          typeof cmd.preset === 'number' ? presets.find((p) => p.number === cmd.preset) : presets.find((p) => p.name === cmd.preset);
        if (found) {
          out.preset = found;
          if (found.position) out.target = found.position;
        }
        args.push(typeof cmd.preset === 'number' ? `gotoserverpresetno=${cmd.preset}` : `gotoserverpresetname=${encodeURIComponent(cmd.preset)}`);
        break;
      }
      case 'home': {
        args.push('move=home');
        const home = caps.presets.find((p) => p.home);
        if (home?.position) out.target = home.position;
        break;
      }
      case 'absolute': {
        const target: PtzPosition = {};
        if (cmd.pan !== undefined) {
          need('absolutePan', 'pan');
          args.push(`pan=${fmt(cmd.pan)}`);
          target.pan = clamp(cmd.pan, caps.limits.minPan, caps.limits.maxPan);
        }
        if (cmd.tilt !== undefined) {
          need('absoluteTilt', 'tilt');
          args.push(`tilt=${fmt(cmd.tilt)}`);
          target.tilt = clamp(cmd.tilt, caps.limits.minTilt, caps.limits.maxTilt);
        }
        if (cmd.zoom !== undefined) {
          need('absoluteZoom', 'zoom');
          args.push(`zoom=${Math.round(cmd.zoom)}`);
          target.zoom = clamp(Math.round(cmd.zoom), caps.limits.minZoom, caps.limits.maxZoom);
        }
        out.target = target;
        break;
      }
      case 'relative':
        if (cmd.pan !== undefined) {
          need('relativePan', 'pan');
          args.push(`rpan=${fmt(cmd.pan)}`);
        }
        if (cmd.tilt !== undefined) {
          need('relativeTilt', 'tilt');
          args.push(`rtilt=${fmt(cmd.tilt)}`);
        }
        if (cmd.zoom !== undefined) {
          need('relativeZoom', 'zoom');
          args.push(`rzoom=${Math.round(cmd.zoom)}`);
        }
        break;
      case 'continuous':
        if (cmd.pan !== undefined || cmd.tilt !== undefined) {
          if (cmd.pan) need('continuousPan', 'pan continuously');
          if (cmd.tilt) need('continuousTilt', 'tilt continuously');
          args.push(`continuouspantiltmove=${Math.round(cmd.pan ?? 0)},${Math.round(cmd.tilt ?? 0)}`);
        }
        if (cmd.zoom !== undefined) {
          need('continuousZoom', 'zoom continuously');
          args.push(`continuouszoommove=${Math.round(cmd.zoom)}`);
        }
        break;
      case 'stop':
        // Stops every axis the camera has, whatever kind of move is running.
        if (caps.features.continuousPan !== false || caps.features.continuousTilt !== false) args.push('continuouspantiltmove=0,0');
        if (caps.features.continuousZoom !== false) args.push('continuouszoommove=0');
        if (args.length === 1) args.push('move=stop');
        break;
    }
    if ('speed' in cmd && cmd.speed !== undefined) args.push(`speed=${Math.round(cmd.speed)}`);
    const text = await this.get(args.join('&'), isIdempotent(cmd), signal);
    const refused = vapixErrorText(text);
    if (refused) throw new CameraError(ErrorCodes.CAMERA_REFUSED, `The camera refused PTZ ${cmd.action}: ${refused}`, { body: refused });
    return out;
  }

  private async get(query: string, idempotent: boolean, signal?: AbortSignal): Promise<string> {
    const res = await vapixCommand(this.client, `${PTZ_PATH}?${query}`, { idempotent, signal });
    // PTZ answers are ISO-8859-1 (`root.PTZ.ResponseEncoding`), preset names included.
    return decodeBody(res, 'latin1');
  }
}

function clamp(v: number, min: number | undefined, max: number | undefined): number {
  let out = v;
  if (min !== undefined && out < min) out = min;
  if (max !== undefined && out > max) out = max;
  return out;
}
