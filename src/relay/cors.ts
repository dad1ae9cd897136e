/**
 * CORS response headers from Node-RED's `httpNodeCors` setting, for GET/HEAD.
 *
 * Node-RED's http-in node uses the `cors` package, which is not ours to
 * depend on; a plain GET needs only the allow-origin headers, and preflight
 * OPTIONS requests are already answered by Node-RED's core http-in module when
 * the setting is present. Supported `origin` values: `'*'`, a string, a
 * RegExp, `true` (echo the request origin), or an array of strings/RegExps.
 * A function origin (async in `cors`) is not supported and allows nothing.
 */
export interface CorsSetting {
  origin?: unknown;
  credentials?: boolean;
  exposedHeaders?: string | string[];
}

function matches(allowed: unknown, origin: string): boolean {
  if (typeof allowed === 'string') return allowed === origin;
  if (allowed instanceof RegExp) return allowed.test(origin);
  if (Array.isArray(allowed)) return allowed.some((a) => matches(a, origin));
  return allowed === true;
}

export function corsHeaders(setting: CorsSetting | null | undefined, requestOrigin: string | undefined): Record<string, string> {
  if (!setting || typeof setting !== 'object') return {};
  const out: Record<string, string> = {};
  const allowed = setting.origin === undefined ? '*' : setting.origin;
  if (allowed === '*') {
    out['Access-Control-Allow-Origin'] = '*';
  } else if (requestOrigin && matches(allowed, requestOrigin)) {
    out['Access-Control-Allow-Origin'] = requestOrigin;
    out.Vary = 'Origin';
  } else {
    return {};
  }
  if (setting.credentials === true) out['Access-Control-Allow-Credentials'] = 'true';
  const exposed = Array.isArray(setting.exposedHeaders) ? setting.exposedHeaders.join(',') : setting.exposedHeaders;
  if (exposed) out['Access-Control-Expose-Headers'] = exposed;
  return out;
}
