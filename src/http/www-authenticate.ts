/**
 * Parsing of `WWW-Authenticate` challenges and `Authorization` credentials
 * (RFC 9110 §11: `scheme [token68 | #auth-param]`).
 *
 * A camera may send several challenges: as several header lines (undici then
 * hands us an array) or comma-joined in one line. Quoted strings may contain
 * commas and escaped quotes, so a naive `split(',')` is wrong; this is a small
 * hand-written tokenizer instead.
 */

export interface AuthChallenge {
  /** Scheme as sent, e.g. "Digest". Compare with `scheme.toLowerCase()`. */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
  /** The token68 form (`Basic abc==`), rarely used in challenges. */
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

function isTchar(ch: string | undefined): boolean {
  return ch !== undefined && TCHAR.test(ch);
}

function isWs(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t';
}

class Cursor {
  pos = 0;
  constructor(readonly s: string) {}
  peek(offset = 0): string | undefined {
    return this.s[this.pos + offset];
  }
  atEnd(): boolean {
    return this.pos >= this.s.length;
  }
  skipWs(): void {
    while (isWs(this.peek())) this.pos++;
  }
  readToken(): string {
    const start = this.pos;
    while (isTchar(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }
  /** Reads a quoted-string starting at the opening quote; tolerates a missing closing quote. */
  readQuoted(): string {
    this.pos++; // opening quote
    let out = '';
    while (!this.atEnd()) {
      const ch = this.s[this.pos++];
      if (ch === '\\' && !this.atEnd()) out += this.s[this.pos++];
      else if (ch === '"') return out;
      else out += ch;
    }
    return out;
  }
  /**
   * True when the cursor sits on `token [ws] =` that is an auth-param, as
   * opposed to a new scheme name (`token SP ...`) or a token68 (`abc==`).
   */
  looksLikeParam(): boolean {
    let i = this.pos;
    const s = this.s;
    const start = i;
    while (i < s.length && isTchar(s[i])) i++;
    if (i === start) return false;
    while (isWs(s[i])) i++;
    if (s[i] !== '=') return false;
    // `token==` or `token=` followed by end/comma is token68 padding, not a param.
    i++;
    while (isWs(s[i])) i++;
    return !(s[i] === '=' || s[i] === ',' || i >= s.length);
  }
}

function readParams(c: Cursor, params: Record<string, string>): void {
  for (;;) {
    c.skipWs();
    if (!c.looksLikeParam()) return;
    const name = c.readToken().toLowerCase();
    c.skipWs();
    c.pos++; // '='
    c.skipWs();
    const value = c.peek() === '"' ? c.readQuoted() : c.readToken();
    params[name] = value;
    c.skipWs();
    if (c.peek() !== ',') return;
    // A comma either separates params or starts the next challenge: peek past it.
    const save = c.pos;
    c.pos++;
    while (c.peek() === ',' || isWs(c.peek())) c.pos++;
    if (!c.looksLikeParam()) {
      c.pos = save;
      return;
    }
  }
}

function parseOne(line: string, out: AuthChallenge[]): void {
  const c = new Cursor(line);
  for (;;) {
    while (c.peek() === ',' || isWs(c.peek())) c.pos++;
    if (c.atEnd()) return;
    const scheme = c.readToken();
    if (!scheme) {
      // Garbage: skip to the next comma and try again.
      while (!c.atEnd() && c.peek() !== ',') c.pos++;
      continue;
    }
    const challenge: AuthChallenge = { scheme, params: {} };
    c.skipWs();
    if (c.looksLikeParam()) {
      readParams(c, challenge.params);
    } else if (isTchar(c.peek()) || c.peek() === '/') {
      // token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
      const start = c.pos;
      while (!c.atEnd() && c.peek() !== ',' && !isWs(c.peek())) c.pos++;
      challenge.token68 = line.slice(start, c.pos);
    }
    out.push(challenge);
    c.skipWs();
    if (!c.atEnd() && c.peek() !== ',') {
      // Unexpected character: resynchronise on the next comma.
      while (!c.atEnd() && c.peek() !== ',') c.pos++;
    }
  }
}

/**
 * All challenges from one or more `WWW-Authenticate` header values, in order.
 * Accepts what undici returns: undefined, a string, or an array of strings.
 */
export function parseWwwAuthenticate(value: string | readonly string[] | undefined | null): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  if (value == null) return out;
  for (const line of typeof value === 'string' ? [value] : value) parseOne(line, out);
  return out;
}

/** Parses an `Authorization` request header (one credentials value). */
export function parseAuthorization(value: string | undefined | null): AuthChallenge | null {
  if (!value) return null;
  return parseWwwAuthenticate(value)[0] ?? null;
}

/** Quotes a value for a header parameter (RFC 9110 quoted-string). */
export function quoteParam(value: string): string {
  return `"${value.replace(/["\\]/g, (m) => `\\${m}`)}"`;
}

/** Challenge schemes offered, for messages: "Digest, Basic". */
export function describeSchemes(challenges: readonly AuthChallenge[]): string {
  const names = [...new Set(challenges.map((c) => c.scheme))];
  return names.length ? names.join(', ') : 'no WWW-Authenticate challenge';
}

export function findChallenge(challenges: readonly AuthChallenge[], scheme: string): AuthChallenge | undefined {
  const want = scheme.toLowerCase();
  return challenges.find((c) => c.scheme.toLowerCase() === want);
}
