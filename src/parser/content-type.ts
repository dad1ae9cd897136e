/**
 * Multipart boundary from a Content-Type header value.
 */

import { MAX_BOUNDARY_LENGTH } from './limits';

/**
 * Split `a; b="x;y"; c` into parameters, honouring quoted strings with
 * backslash escapes, so a `;` inside quotes does not end a parameter.
 */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      if (c === '\\' && i + 1 < value.length) {
        cur += c + value[++i];
        continue;
      }
      if (c === '"') quoted = false;
      cur += c;
    } else if (c === '"') {
      quoted = true;
      cur += c;
    } else if (c === ';' || c === ',') {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    return v.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return v;
}

/**
 * The boundary parameter of a multipart Content-Type, or null.
 *
 * - the parameter name is case-insensitive and may be quoted or not;
 * - a leading `--` in the value is stripped: some servers announce
 *   `boundary=--myboundary` and then write either `--myboundary` or
 *   `----myboundary` on the wire; the parser accepts both forms for a
 *   boundary without the dashes.
 */
export function parseBoundary(contentType: string | null | undefined): string | null {
  if (typeof contentType !== 'string') return null;
  const params = splitParams(contentType);
  // params[0] is the media type; parameters follow.
  for (let i = 1; i < params.length; i++) {
    const p = params[i]!;
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    if (p.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    let v = unquote(p.slice(eq + 1).trim()).trim();
    if (v.startsWith('--')) v = v.slice(2);
    if (v.length === 0 || v.length > MAX_BOUNDARY_LENGTH || /[\r\n]/.test(v)) return null;
    return v;
  }
  return null;
}

/** Strip one leading `--`, the form both parseBoundary and the parser work with. */
export function normalizeBoundary(boundary: string): string {
  const b = boundary.trim();
  return b.startsWith('--') && b.length > 2 ? b.slice(2) : b;
}
