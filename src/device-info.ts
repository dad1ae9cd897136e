/**
 * Model, firmware and serial of an Axis device, for the editor's "Test
 * connection" and for status. Uses the JSON API where the firmware has it and
 * falls back to param.cgi on older firmware; neither needs HTML parsing.
 */
import { CameraError, ErrorCodes } from './errors';
import type { BufferResponse, CameraHttpClient } from './http';

export interface AxisDeviceInfo {
  model?: string;
  firmware?: string;
  serial?: string;
  brand?: string;
  /** Which API answered. */
  api: 'basicdeviceinfo' | 'param';
}

const INFO_MAX_BYTES = 64 * 1024;

export async function fetchDeviceInfo(client: CameraHttpClient, signal?: AbortSignal): Promise<AxisDeviceInfo> {
  try {
    const res = await client.fetchBuffer('/axis-cgi/basicdeviceinfo.cgi', {
      method: 'POST',
      body: JSON.stringify({ apiVersion: '1.0', method: 'getAllProperties' }),
      headers: { 'content-type': 'application/json' },
      maxBytes: INFO_MAX_BYTES,
      signal,
    });
    const json = JSON.parse(decodeBody(res, 'utf8')) as {
      error?: { message?: string };
      data?: { propertyList?: Record<string, string> };
    };
    const p = json.data?.propertyList;
    if (p) {
      return { model: p.ProdFullName || p.ProdNbr, firmware: p.Version, serial: p.SerialNumber, brand: p.Brand, api: 'basicdeviceinfo' };
    }
  } catch (e) {
    // Old firmware has no basicdeviceinfo.cgi (404) or answers it with
    // something that is not JSON: try param.cgi. Anything else is the answer.
    if (e instanceof CameraError && e.code !== ErrorCodes.NOT_FOUND && e.code !== ErrorCodes.HTTP_STATUS) throw e;
    if (!(e instanceof CameraError) && !(e instanceof SyntaxError)) throw e;
  }
  const res = await client.fetchBuffer(
    '/axis-cgi/param.cgi?action=list&group=root.Brand,root.Properties.Firmware,root.Properties.System',
    { maxBytes: INFO_MAX_BYTES, signal },
  );
  const params = parseParamList(paramCgiText(res));
  if (params.error) throw new CameraError(ErrorCodes.HTTP_STATUS, `param.cgi: ${params.error}`);
  return {
    model: params.values['root.Brand.ProdFullName'] ?? params.values['root.Brand.ProdNbr'],
    firmware: params.values['root.Properties.Firmware.Version'],
    serial: params.values['root.Properties.System.SerialNumber'],
    brand: params.values['root.Brand.Brand'],
    api: 'param',
  };
}

/** The charset a Content-Type names, lower-case, or undefined. */
export function contentTypeCharset(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return m ? m[1].toLowerCase() : undefined;
}

/**
 * A text body decoded per its Content-Type charset, `fallback` when it names
 * none or one this runtime does not know.
 */
export function decodeBody(res: Pick<BufferResponse, 'body' | 'contentType'>, fallback: 'utf8' | 'latin1'): string {
  const charset = contentTypeCharset(res.contentType);
  if (charset === 'utf-8' || charset === 'utf8') return res.body.toString('utf8');
  if (charset === 'iso-8859-1' || charset === 'latin1' || charset === 'us-ascii') return res.body.toString('latin1');
  if (charset) {
    try {
      return new TextDecoder(charset).decode(res.body);
    } catch {
      // An unknown label: the fallback below.
    }
  }
  return res.body.toString(fallback);
}

/**
 * param.cgi text. Axis serves it as ISO-8859-1 (`text/plain; charset=iso-8859-1`;
 * PTZ lists even say `root.PTZ.ResponseEncoding=iso-8859-1`), so a preset named
 * `Entrée` arrives as the byte E9, which UTF-8 decoding turns into U+FFFD.
 * Without a charset, ISO-8859-1 is the default.
 */
export function paramCgiText(res: Pick<BufferResponse, 'body' | 'contentType'>): string {
  return decodeBody(res, 'latin1');
}

/** `root.X.Y=Z` lines; VAPIX reports errors as `# Error: ...` with status 200. */
export function parseParamList(text: string): { values: Record<string, string>; error?: string } {
  const values: Record<string, string> = {};
  let error: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const err = /^#\s*Error:?\s*(.*)$/i.exec(line);
    if (err) {
      error = err[1] || 'error';
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return error !== undefined ? { values, error } : { values };
}
