/**
 * URL redaction for messages and logs: credentials must never leave the
 * process in an error, a status text or a debug message.
 */

/** Query parameter names whose values are secrets (matched case-insensitively, whole name). */
const SECRET_PARAM =
  /^(pass|passwd|password|pwd|pw|pass_?word|secret|token|access_?token|api_?key|apikey|key|auth|authorization|sig|signature|credentials?|session|sessionid|user_?pass)$/i;

export const REDACTED = '***';

function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // keep the raw name
      }
      return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    })
    .join('&');
}

/**
 * Strips `user:pass@` and masks the values of password-like query parameters.
 * Works on absolute URLs and on bare path+query; never throws.
 */
export function redactUrl(url: string): string {
  let out = String(url);
  // userinfo: up to the last "@" before the query. A password may hold an
  // unescaped "/", so stopping at the first "/" could leak its tail; a path
  // with "@" in it loses its host in the message instead, which is harmless.
  out = out.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^?#]*@)/i, '$1');
  const q = out.indexOf('?');
  if (q < 0) return out;
  const hash = out.indexOf('#', q);
  const query = hash < 0 ? out.slice(q + 1) : out.slice(q + 1, hash);
  const tail = hash < 0 ? '' : out.slice(hash);
  return `${out.slice(0, q + 1)}${redactQuery(query)}${tail}`;
}
