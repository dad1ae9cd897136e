/**
 * The device-information side of VAPIX: basicdeviceinfo.cgi (JSON),
 * param.cgi (`root.X.Y=Z` lines, errors as `# Error:` with status 200) and
 * systemready.cgi.
 */
import { MAX_FPS, SUPPORTED_RESOLUTIONS, DEFAULT_COMPRESSION } from './params';

export interface DeviceIdentity {
  model: string;
  firmware: string;
  serial: string;
  /** Video sources (sensors, encoder channels). */
  cameras: number;
  /** View areas: further image configurations cropped from sensor 1. */
  viewAreas: number;
  defaultResolution: string;
  defaultFps: number;
  maxViewers: number;
}

const BASIC_DEVICE_INFO_API = '1.3';
/** View areas are crops: the simulator gives them a smaller configured size than the sensor. */
export const VIEW_AREA_RESOLUTION = '800x600';
const SYSTEMREADY_API = '1.2';

export function deviceProperties(d: DeviceIdentity): Record<string, string> {
  return {
    Architecture: 'armv7hf',
    Brand: 'AXIS',
    BuildDate: 'Nov 07 2023 09:12',
    HardwareID: '932.1',
    ProdFullName: `AXIS ${d.model} Network Camera`,
    ProdNbr: d.model,
    ProdShortName: `AXIS ${d.model}`,
    ProdType: 'Network Camera',
    ProdVariant: '',
    SerialNumber: d.serial,
    Soc: 'Axis Artpec-6',
    SocSerialNumber: '00000000-00000000-00000000-00000000',
    Version: d.firmware,
    WebURL: 'http://www.axis.com',
  };
}

/** Properties that cameras give without login (getAllUnrestrictedProperties). */
const UNRESTRICTED = ['Brand', 'BuildDate', 'ProdFullName', 'ProdNbr', 'ProdShortName', 'ProdType', 'ProdVariant', 'SerialNumber', 'Version', 'WebURL'];

/** Answer to a basicdeviceinfo.cgi POST body (always HTTP 200, errors in the JSON). */
export function basicDeviceInfo(body: string, d: DeviceIdentity): unknown {
  let req: { apiVersion?: unknown; method?: unknown; context?: unknown };
  try {
    req = JSON.parse(body) as typeof req;
  } catch {
    return { apiVersion: BASIC_DEVICE_INFO_API, error: { code: 4000, message: 'Invalid JSON' } };
  }
  const base: Record<string, unknown> = { apiVersion: BASIC_DEVICE_INFO_API };
  if (req.context !== undefined) base['context'] = req.context;
  if (typeof req.method === 'string') base['method'] = req.method;
  if (typeof req.apiVersion !== 'string' || !/^1(\.\d+)?$/.test(req.apiVersion)) {
    return { ...base, error: { code: 4002, message: 'Unsupported API version' } };
  }
  const props = deviceProperties(d);
  switch (req.method) {
    case 'getAllProperties':
      return { ...base, data: { propertyList: props } };
    case 'getAllUnrestrictedProperties':
      return { ...base, data: { propertyList: Object.fromEntries(UNRESTRICTED.map((k) => [k, props[k] ?? ''])) } };
    case 'getSupportedVersions':
      return { ...base, data: { apiVersions: [BASIC_DEVICE_INFO_API] } };
    default:
      return { ...base, error: { code: 4002, message: 'Method not supported' } };
  }
}

/** Every parameter the simulator knows, without the `root.` prefix. */
export function allParams(d: DeviceIdentity): [string, string][] {
  const props = deviceProperties(d);
  const out: [string, string][] = [];
  for (const k of ['Brand', 'ProdFullName', 'ProdNbr', 'ProdShortName', 'ProdType', 'ProdVariant', 'WebURL']) {
    out.push([`Brand.${k}`, props[k] ?? '']);
  }
  out.push(['Image.MaxViewers', String(d.maxViewers)]);
  const configs = d.cameras + d.viewAreas;
  out.push(['Image.NbrOfConfigs', String(configs)]);
  for (let i = 0; i < configs; i++) {
    const viewArea = i >= d.cameras;
    // As firmware names them: a single-sensor camera's only configuration is "View Area 1".
    const name = viewArea ? `View Area ${i - d.cameras + 1}` : d.cameras === 1 && d.viewAreas === 0 ? 'View Area 1' : `Camera ${i + 1}`;
    out.push([`Image.I${i}.Enabled`, 'yes']);
    out.push([`Image.I${i}.Name`, name]);
    out.push([`Image.I${i}.Source`, String(viewArea ? 0 : i)]);
    out.push([`Image.I${i}.Appearance.Compression`, String(DEFAULT_COMPRESSION)]);
    out.push([`Image.I${i}.Appearance.Resolution`, viewArea ? VIEW_AREA_RESOLUTION : d.defaultResolution]);
    out.push([`Image.I${i}.Appearance.Rotation`, '0']);
    out.push([`Image.I${i}.Appearance.MirrorEnabled`, 'no']);
    out.push([`Image.I${i}.Stream.FPS`, String(d.defaultFps)]);
    out.push([`Image.I${i}.Text.ClockEnabled`, 'no']);
    out.push([`Image.I${i}.Text.DateEnabled`, 'no']);
    out.push([`Image.I${i}.Text.TextEnabled`, 'no']);
    out.push([`Image.I${i}.Text.String`, '']);
    out.push([`Image.I${i}.Text.Position`, 'top']);
  }
  out.push(['ImageSource.NbrOfSources', String(d.cameras)]);
  for (let i = 0; i < d.cameras; i++) {
    out.push([`ImageSource.I${i}.Name`, d.cameras === 1 ? 'Camera' : `Sensor ${i + 1}`]);
    out.push([`ImageSource.I${i}.Sensor.AspectRatio`, '16:9']);
  }
  out.push(['Network.HostName', `axis-${d.serial.toLowerCase()}`]);
  out.push(['Network.HTTP.AuthenticationPolicy', 'basic_digest']);
  out.push(['Properties.API.HTTP.Version', '3']);
  out.push(['Properties.API.HTTP.AdminPath', '/']);
  out.push(['Properties.Firmware.BuildDate', props['BuildDate'] ?? '']);
  out.push(['Properties.Firmware.Version', d.firmware]);
  out.push(['Properties.Image.Format', 'jpeg,mjpeg']);
  out.push(['Properties.Image.NbrOfViews', String(configs)]);
  out.push(['Properties.Image.Resolution', SUPPORTED_RESOLUTIONS.join(',')]);
  out.push(['Properties.Image.Rotation', '0,90,180,270']);
  out.push(['Properties.Image.MaxFPS', String(MAX_FPS)]);
  out.push(['Properties.System.Architecture', props['Architecture'] ?? '']);
  out.push(['Properties.System.SerialNumber', d.serial]);
  out.push(['Properties.System.Soc', props['Soc'] ?? '']);
  return out;
}

/** Body of `param.cgi?action=list&group=...` (always HTTP 200). */
export function paramList(query: URLSearchParams, d: DeviceIdentity, extra: [string, string][] = []): string {
  const action = query.get('action');
  if (action !== 'list') return `# Error: action '${action ?? ''}' is not supported\r\n`;
  const params = [...allParams(d), ...extra];
  const groupArg = query.get('group');
  const groups = groupArg === null || groupArg === '' ? ['root'] : groupArg.split(',');
  let out = '';
  for (const raw of groups) {
    const g = raw.trim().replace(/^root\.?/, '');
    const hits = params.filter(([k]) => g === '' || k === g || k.startsWith(`${g}.`));
    if (hits.length === 0) {
      out += `# Error: Error -1 getting param in group '${raw.trim()}'\r\n`;
      continue;
    }
    for (const [k, v] of hits) out += `root.${k}=${v}\n`;
  }
  return out;
}

/** Body of systemready.cgi. */
export function systemReady(bootId: string, uptimeS: number, context?: unknown): unknown {
  const out: Record<string, unknown> = {
    apiVersion: SYSTEMREADY_API,
    method: 'systemready',
    data: { systemready: 'yes', needsetup: 'no', uptime: String(Math.floor(uptimeS)), bootid: bootId },
  };
  if (context !== undefined) out['context'] = context;
  return out;
}
