/**
 * A simulated PTZ head behind `com/ptz.cgi`: a position that moves at a
 * finite speed towards its target (so "done" has to be waited for), server
 * presets, limits, continuous moves, and the `root.PTZ` parameters a
 * Q-series dome lists. `paramStyle: 'os13'` lists only the groups that
 * AXIS OS 12/13 firmware still has (no Support, no Limit), so clients must
 * fall back to asking ptz.cgi itself.
 *
 * Answers as Axis firmware does: 204 for a command taken, 200 text/plain
 * `Error: ...` for one refused, ISO-8859-1 text for queries.
 */

export interface PtzPresetDef {
  name: string;
  pan: number;
  tilt: number;
  zoom: number;
}

export interface PtzSimOptions {
  presets?: PtzPresetDef[];
  /** 'full': every root.PTZ group (default). 'os13': no Support/Limit groups. 'zoom-only': AbsolutePan/Tilt false, no pan/tilt in the position. */
  paramStyle?: 'full' | 'os13' | 'zoom-only';
  /** Degrees per second at speed 100 (default 120). */
  panSpeed?: number;
  /** Zoom steps per second at speed 100 (default 6000). */
  zoomSpeed?: number;
}

export interface PtzState {
  pan: number;
  tilt: number;
  zoom: number;
  moving: boolean;
  /** 1-based preset number the head is at, or 0. */
  onPreset: number;
}

export const DEFAULT_PRESETS: PtzPresetDef[] = [
  { name: 'Home', pan: 0, tilt: 0, zoom: 1 },
  { name: 'Door', pan: 60, tilt: -10, zoom: 4000 },
  { name: 'Parking', pan: -90, tilt: 5, zoom: 1500 },
  { name: 'Entrée', pan: 150, tilt: 20, zoom: 2500 },
];

const LIMITS = { minPan: -180, maxPan: 180, minTilt: -20, maxTilt: 90, minZoom: 1, maxZoom: 9999 };
const TICK_MS = 40;

interface Velocity {
  pan: number;
  tilt: number;
  zoom: number;
}

export class PtzSimulator {
  /** Every ptz.cgi request's arguments (tests check what was sent, and how often). */
  readonly commands: Record<string, string>[] = [];
  readonly presets: PtzPresetDef[];
  readonly paramStyle: 'full' | 'os13' | 'zoom-only';
  private pos = { pan: 0, tilt: 0, zoom: 1 };
  private target: { pan: number; tilt: number; zoom: number } | null = null;
  private velocity: Velocity | null = null;
  private speed = 100;
  private timer: NodeJS.Timeout | null = null;
  private last = Date.now();
  private moving = false;
  private onPreset = 0;
  private readonly panSpeed: number;
  private readonly zoomSpeed: number;
  private closed = false;

  /** Called on every change of position or moving/on-preset state. */
  onChange?: (s: PtzState, what: 'position' | 'moving' | 'preset') => void;

  constructor(opts: PtzSimOptions = {}) {
    this.presets = (opts.presets ?? DEFAULT_PRESETS).map((p) => ({ ...p }));
    this.paramStyle = opts.paramStyle ?? 'full';
    this.panSpeed = opts.panSpeed ?? 120;
    this.zoomSpeed = opts.zoomSpeed ?? 6000;
    const home = this.presets[0];
    if (home) this.pos = { pan: home.pan, tilt: home.tilt, zoom: home.zoom };
    this.onPreset = this.presetAt();
  }

  get state(): PtzState {
    return { ...this.round(), moving: this.moving, onPreset: this.onPreset };
  }

  /** Puts the head somewhere at once (tests). */
  jumpTo(p: Partial<{ pan: number; tilt: number; zoom: number }>): void {
    this.pos = { ...this.pos, ...p };
    this.target = null;
    this.velocity = null;
    this.settle();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** `root.PTZ.*` lines (without `root.`), as param.cgi lists them. */
  params(): [string, string][] {
    const out: [string, string][] = [
      ['PTZ.BoaProtPTZOperator', 'password'],
      ['PTZ.CameraDefault', '1'],
      ['PTZ.NbrOfCameras', '1'],
      ['PTZ.NbrOfSerPorts', '0'],
      ['PTZ.PresetNameMaxLen', '95'],
      ['PTZ.ResponseEncoding', 'iso-8859-1'],
      ['PTZ.CamPorts.Cam1Port', '1'],
      ['PTZ.ImageSource.I0.PTZEnabled', 'true'],
    ];
    if (this.paramStyle !== 'os13') {
      for (const [k, v] of Object.entries(LIMITS)) out.push([`PTZ.Limit.L1.${k[0]!.toUpperCase()}${k.slice(1)}`, String(v)]);
    }
    out.push(['PTZ.Preset.P0.HomePosition', '1'], ['PTZ.Preset.P0.ImageSource', '0'], ['PTZ.Preset.P0.Name', '']);
    this.presets.forEach((p, i) => {
      out.push([`PTZ.Preset.P0.Position.P${i + 1}.Data`, `tilt=${p.tilt.toFixed(6)}:pan=${p.pan.toFixed(6)}:zoom=${p.zoom.toFixed(6)}`]);
      out.push([`PTZ.Preset.P0.Position.P${i + 1}.Name`, p.name]);
    });
    if (this.paramStyle !== 'os13') {
      const pt = this.paramStyle === 'full' ? 'true' : 'false';
      for (const f of ['AbsolutePan', 'AbsoluteTilt', 'RelativePan', 'RelativeTilt', 'ContinuousPan', 'ContinuousTilt']) out.push([`PTZ.Support.S1.${f}`, pt]);
      for (const f of ['AbsoluteZoom', 'RelativeZoom', 'ContinuousZoom', 'ServerPreset', 'ActionNotification']) out.push([`PTZ.Support.S1.${f}`, 'true']);
      out.push(['PTZ.Support.S1.DevicePreset', 'false']);
    }
    return out;
  }

  /** Handles one ptz.cgi request: [status, body]. */
  handle(args: URLSearchParams): [number, string] {
    this.commands.push(Object.fromEntries(args));
    const cam = args.get('camera');
    if (cam !== null && cam !== '1') return [200, `Error: camera ${cam} does not exist\r\n`];
    const query = args.get('query');
    if (query !== null) return this.query(query);
    this.advance();

    const n = (k: string): number | null => {
      const v = args.get(k);
      if (v === null) return null;
      const x = Number(v);
      return Number.isFinite(x) ? x : NaN;
    };
    for (const k of ['pan', 'tilt', 'zoom', 'rpan', 'rtilt', 'rzoom', 'speed', 'continuouszoommove']) {
      if (Number.isNaN(n(k))) return [200, `Error: bad value for ${k}\r\n`];
    }
    const speed = n('speed');
    if (speed !== null) this.speed = Math.min(100, Math.max(1, speed));
    const zoomOnly = this.paramStyle === 'zoom-only';
    if (zoomOnly && ['pan', 'tilt', 'rpan', 'rtilt'].some((k) => args.has(k))) return [200, 'Error: pan/tilt not supported\r\n'];

    const move = args.get('move');
    const preName = args.get('gotoserverpresetname');
    const preNo = args.get('gotoserverpresetno');
    const cpt = args.get('continuouspantiltmove');
    const cz = n('continuouszoommove');
    let target: { pan: number; tilt: number; zoom: number } | null = null;
    if (preName !== null || preNo !== null) {
      const idx = preName !== null ? this.presets.findIndex((p) => p.name === preName) : Number(preNo) - 1;
      const p = this.presets[idx];
      if (!p) return [200, `Error: preset ${preName ?? preNo} does not exist\r\n`];
      target = { pan: p.pan, tilt: p.tilt, zoom: p.zoom };
    } else if (move === 'home') {
      const p = this.presets[0] ?? { pan: 0, tilt: 0, zoom: 1 };
      target = { pan: p.pan, tilt: p.tilt, zoom: p.zoom };
    } else if (move === 'stop') {
      this.stopAll();
      return [204, ''];
    } else if (move !== null) {
      return [200, `Error: move=${move} not supported\r\n`];
    }
    const abs = { pan: n('pan'), tilt: n('tilt'), zoom: n('zoom') };
    const rel = { pan: n('rpan'), tilt: n('rtilt'), zoom: n('rzoom') };
    if (!target && (abs.pan !== null || abs.tilt !== null || abs.zoom !== null || rel.pan !== null || rel.tilt !== null || rel.zoom !== null)) {
      const base = this.target ?? this.pos;
      target = {
        pan: abs.pan ?? base.pan + (rel.pan ?? 0),
        tilt: abs.tilt ?? base.tilt + (rel.tilt ?? 0),
        zoom: abs.zoom ?? base.zoom + (rel.zoom ?? 0),
      };
    }
    if (target) {
      this.velocity = null;
      this.target = this.clampPos(target);
      this.startMoving();
      return [204, ''];
    }
    if (cpt !== null || cz !== null) {
      const [p, t] = (cpt ?? '0,0').split(',').map(Number);
      if (!Number.isFinite(p) || !Number.isFinite(t)) return [200, 'Error: bad value for continuouspantiltmove\r\n'];
      const v = { pan: cpt !== null ? p! : this.velocity?.pan ?? 0, tilt: cpt !== null ? t! : this.velocity?.tilt ?? 0, zoom: cz ?? this.velocity?.zoom ?? 0 };
      this.target = null;
      if (v.pan === 0 && v.tilt === 0 && v.zoom === 0) {
        this.stopAll();
        return [204, ''];
      }
      this.velocity = v;
      this.startMoving();
      return [204, ''];
    }
    if (speed !== null) return [204, ''];
    return [200, 'Error: no PTZ command given\r\n'];
  }

  private query(q: string): [number, string] {
    this.advance();
    const r = this.round();
    switch (q) {
      case 'position':
        if (this.paramStyle === 'zoom-only') return [200, `zoom=${r.zoom}\r\niris=5000\r\nfocus=5000\r\nautofocus=on\r\nautoiris=on\r\n`];
        return [200, `pan=${r.pan}\r\ntilt=${r.tilt}\r\nzoom=${r.zoom}\r\niris=5000\r\nfocus=5000\r\nautofocus=on\r\nautoiris=on\r\n`];
      case 'limits':
        return [200, Object.entries(LIMITS).map(([k, v]) => `${k[0]!.toUpperCase()}${k.slice(1)}=${v}`).join('\r\n') + '\r\n'];
      case 'speed':
        return [200, `speed=${this.speed}\r\n`];
      case 'presetposcam':
      case 'presetposall':
        return [200, `Preset Positions for camera 1\r\n${this.presets.map((p, i) => `presetposno${i + 1}=${p.name}`).join('\r\n')}\r\n`];
      default:
        return [200, `Error: query=${q} not supported\r\n`];
    }
  }

  private clampPos(p: { pan: number; tilt: number; zoom: number }): { pan: number; tilt: number; zoom: number } {
    const c = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
    let pan = p.pan;
    while (pan > 180) pan -= 360;
    while (pan < -180) pan += 360;
    return { pan, tilt: c(p.tilt, LIMITS.minTilt, LIMITS.maxTilt), zoom: c(Math.round(p.zoom), LIMITS.minZoom, LIMITS.maxZoom) };
  }

  private round(): { pan: number; tilt: number; zoom: number } {
    return { pan: Math.round(this.pos.pan * 10_000) / 10_000, tilt: Math.round(this.pos.tilt * 10_000) / 10_000, zoom: Math.round(this.pos.zoom) };
  }

  private stopAll(): void {
    this.advance();
    this.target = null;
    this.velocity = null;
    this.settle();
  }

  private startMoving(): void {
    if (this.closed) return;
    this.last = Date.now();
    if (!this.moving) {
      this.moving = true;
      if (this.onPreset) {
        this.onPreset = 0;
        this.onChange?.(this.state, 'preset');
      }
      this.onChange?.(this.state, 'moving');
    }
    if (!this.timer) {
      this.timer = setInterval(() => this.advance(), TICK_MS);
      this.timer.unref();
    }
  }

  /** Moves the head by the time since the last step; ends the move at the target. */
  private advance(): void {
    const now = Date.now();
    const dt = Math.max(0, (now - this.last) / 1000);
    this.last = now;
    if (!this.moving) return;
    const k = this.speed / 100;
    if (this.velocity) {
      const v = this.velocity;
      const next = this.clampPos({
        pan: this.pos.pan + (v.pan / 100) * this.panSpeed * dt,
        tilt: this.pos.tilt + (v.tilt / 100) * this.panSpeed * dt,
        zoom: this.pos.zoom + (v.zoom / 100) * this.zoomSpeed * dt,
      });
      this.pos = next;
      this.onChange?.(this.state, 'position');
      return;
    }
    const t = this.target;
    if (!t) {
      this.settle();
      return;
    }
    const step = (from: number, to: number, max: number): number => (Math.abs(to - from) <= max ? to : from + Math.sign(to - from) * max);
    // Shortest way round for pan.
    let dPan = t.pan - this.pos.pan;
    if (dPan > 180) dPan -= 360;
    if (dPan < -180) dPan += 360;
    const panMax = this.panSpeed * k * dt;
    const pan = Math.abs(dPan) <= panMax ? t.pan : this.pos.pan + Math.sign(dPan) * panMax;
    this.pos = this.clampPos({ pan, tilt: step(this.pos.tilt, t.tilt, panMax), zoom: step(this.pos.zoom, t.zoom, this.zoomSpeed * k * dt) });
    this.onChange?.(this.state, 'position');
    if (this.pos.pan === t.pan && this.pos.tilt === t.tilt && this.pos.zoom === t.zoom) {
      this.target = null;
      this.settle();
    }
  }

  private settle(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const wasMoving = this.moving;
    this.moving = false;
    if (wasMoving) this.onChange?.(this.state, 'moving');
    const at = this.presetAt();
    if (at !== this.onPreset) {
      this.onPreset = at;
      this.onChange?.(this.state, 'preset');
    }
    this.onChange?.(this.state, 'position');
  }

  private presetAt(): number {
    const i = this.presets.findIndex((p) => Math.abs(p.pan - this.pos.pan) < 0.01 && Math.abs(p.tilt - this.pos.tilt) < 0.01 && Math.abs(p.zoom - this.pos.zoom) < 1);
    return i + 1;
  }
}
