/**
 * Topic strings from a VAPIX `GetEventInstances` SOAP answer, for the
 * editor's topic picker and for the state key of each topic.
 *
 * The answer is a tree of elements under `wstop:TopicSet`; an element with
 * `wstop:topic="true"` is a topic whose string is the path of element names,
 * a namespace prefix written only where it changes, as Axis writes them:
 * `<tns1:Device><tnsaxis:IO><tnsaxis:VirtualInput>` is
 * `tns1:Device/tnsaxis:IO/VirtualInput`. Its `aev:MessageInstance` says
 * whether the topic is stateful (`aev:isProperty="true"`) and which data item
 * carries the state (`isPropertyState="true"`), e.g. `day` for day/night.
 *
 * The answer comes from the network, so the walk is built to survive a
 * hostile one: a single forward pass (every character is looked at a bounded
 * number of times, no regex backtracking), a topic string is only built when
 * it is short enough, and nesting, topic count and string lengths have named
 * limits. Hitting a limit returns what was found so far with `truncated` set,
 * so the editor can say the list is incomplete.
 */

import type { BufferResponse, FetchBufferOptions } from '../http';

/** Where VAPIX takes SOAP requests such as GetEventInstances. */
export const SERVICES_PATH = '/vapix/services';
/** Largest GetEventInstances answer read; a camera with many applications answers a few hundred KB. */
export const TOPICS_MAX_BYTES = 2 * 1024 * 1024;

export const GET_EVENT_INSTANCES_BODY =
  '<?xml version="1.0" encoding="UTF-8"?>' +
  '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope">' +
  '<SOAP-ENV:Body><GetEventInstances xmlns="http://www.axis.com/vapix/ws/event1"/></SOAP-ENV:Body>' +
  '</SOAP-ENV:Envelope>';

export interface TopicLimits {
  /** Topics listed at most; a real camera lists tens to a few hundred. */
  maxTopics: number;
  /** Element nesting inside the TopicSet (real answers: under 12). */
  maxDepth: number;
  /** Characters of one topic string (real ones: under 100). */
  maxTopicChars: number;
  /** Characters kept of a NiceName. */
  maxNiceNameChars: number;
}

export const DEFAULT_TOPIC_LIMITS: Readonly<TopicLimits> = Object.freeze({
  maxTopics: 1000,
  maxDepth: 32,
  maxTopicChars: 512,
  maxNiceNameChars: 200,
});

/** Longest data item name taken as a state key. */
const MAX_STATE_KEY_CHARS = 128;

export interface TopicInfo {
  topic: string;
  /** The camera's display name (`aev:NiceName`), when it gives one. */
  niceName?: string;
  /** The camera declared the topic stateful (true) or stateless (false); absent when it said nothing. */
  stateful?: boolean;
  /** The data item that carries the state (`isPropertyState`), e.g. `active`, `day`, `is_moving`. */
  stateKey?: string;
}

export type TopicTruncation = 'too-many-topics' | 'too-deep' | 'topic-too-long' | 'malformed';

export interface TopicList {
  topics: TopicInfo[];
  /** Some of the answer was not listed; `reason` says which limit (the first one hit). */
  truncated: boolean;
  reason?: TopicTruncation;
}

/** Work done by one parse, for tests that check it stays linear. */
export interface TopicParseStats {
  /** Tags (and comments, PIs) read. */
  tags: number;
  /** Characters of topic strings built. */
  topicChars: number;
}

/** What an element inside the TopicSet is. */
const enum Kind {
  /** A node of the topic tree (maybe a topic). */
  Path,
  /** `aev:MessageInstance` of the topic that is its parent. */
  Message,
  /** `aev:DataInstance` inside a MessageInstance. */
  Data,
  /** Anything else inside a MessageInstance. */
  Other,
}

interface Frame {
  kind: Kind;
  /** Path: segment text as written in the topic string. */
  seg: string;
  /** Path: effective namespace prefix (an unprefixed element inherits its parent's). */
  prefix: string;
  /** Path: length of the topic string up to and including this element. */
  len: number;
  /** The topic this element is, or (Message/Data/Other) whose message this describes. */
  info: TopicInfo | null;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const localName = (qname: string): string => qname.slice(qname.indexOf(':') + 1);
const prefixOf = (qname: string): string => {
  const i = qname.indexOf(':');
  return i < 0 ? '' : qname.slice(0, i);
};

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML attribute value to text: the five named entities and numeric character references. */
function decodeXml(v: string): string {
  if (!v.includes('&')) return v;
  return v.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g, (m, e: string) => {
    if (e[0] !== '#') return ENTITIES[e] ?? m;
    const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

interface Tag {
  name: string;
  closing: boolean;
  selfClosing: boolean;
  /** Only the attributes we use, by local name. */
  attrs: Map<string, string>;
  /** Index after the tag's `>`. */
  end: number;
}

const WANTED = new Set(['topic', 'NiceName', 'isProperty', 'isPropertyState', 'Name']);

/**
 * Reads the tag starting at `lt` (`xml[lt] === '<'`, not a comment or PI).
 * Null when it is not a well-formed tag: the caller stops, so a broken answer
 * costs one scan, never a rescan from every `<`.
 */
function readTag(xml: string, lt: number): Tag | null {
  let i = lt + 1;
  const closing = xml.charCodeAt(i) === 0x2f; // '/'
  if (closing) i++;
  const nameStart = i;
  while (i < xml.length) {
    const c = xml.charCodeAt(i);
    if (isSpace(c) || c === 0x3e || c === 0x2f) break; // '>' '/'
    i++;
  }
  if (i === nameStart) return null;
  const name = xml.slice(nameStart, i);
  const attrs = new Map<string, string>();
  for (;;) {
    while (i < xml.length && isSpace(xml.charCodeAt(i))) i++;
    if (i >= xml.length) return null;
    const c = xml.charCodeAt(i);
    if (c === 0x3e) return { name, closing, selfClosing: false, attrs, end: i + 1 };
    if (c === 0x2f) return xml.charCodeAt(i + 1) === 0x3e ? { name, closing, selfClosing: true, attrs, end: i + 2 } : null;
    if (closing) return null;
    const an = i;
    while (i < xml.length) {
      const d = xml.charCodeAt(i);
      if (d === 0x3d || isSpace(d) || d === 0x3e || d === 0x2f) break; // '='
      i++;
    }
    if (i === an) return null;
    const attrName = xml.slice(an, i);
    while (i < xml.length && isSpace(xml.charCodeAt(i))) i++;
    if (xml.charCodeAt(i) !== 0x3d) return null;
    i++;
    while (i < xml.length && isSpace(xml.charCodeAt(i))) i++;
    const q = xml.charCodeAt(i);
    if (q !== 0x22 && q !== 0x27) return null; // '"' "'"
    const close = xml.indexOf(q === 0x22 ? '"' : "'", i + 1);
    if (close < 0) return null;
    const ln = localName(attrName);
    if (WANTED.has(ln) && !attrs.has(ln)) attrs.set(ln, xml.slice(i + 1, close));
    i = close + 1;
  }
}

/** Skips `<!-- -->`, `<![CDATA[ ]]>`, `<!DOCTYPE >`, `<? ?>` at `lt`; index after it, or -1. */
function skipSpecial(xml: string, lt: number): number {
  const c = xml.charCodeAt(lt + 1);
  let endMark: string;
  if (c === 0x3f) endMark = '?>';
  else if (xml.startsWith('<!--', lt)) endMark = '-->';
  else if (xml.startsWith('<![CDATA[', lt)) endMark = ']]>';
  else endMark = '>';
  const e = xml.indexOf(endMark, lt + 2);
  return e < 0 ? -1 : e + endMark.length;
}

export function parseEventInstances(xml: string, limits: Partial<TopicLimits> = {}, stats?: TopicParseStats): TopicList {
  const lim: TopicLimits = { ...DEFAULT_TOPIC_LIMITS, ...limits };
  const topics: TopicInfo[] = [];
  let reason: TopicTruncation | undefined;
  const note = (r: TopicTruncation): void => {
    if (!reason) reason = r;
  };
  const stack: Frame[] = [];
  /** Open elements below the depth limit: counted, not kept. */
  let overflow = 0;
  let inTopicSet = false;
  let pos = 0;

  for (;;) {
    const lt = xml.indexOf('<', pos);
    if (lt < 0) break;
    if (stats) stats.tags++;
    const c = xml.charCodeAt(lt + 1);
    if (c === 0x21 || c === 0x3f) {
      // '!' '?'
      const next = skipSpecial(xml, lt);
      if (next < 0) {
        if (inTopicSet) note('malformed');
        break;
      }
      pos = next;
      continue;
    }
    const tag = readTag(xml, lt);
    if (!tag) {
      if (inTopicSet) note('malformed');
      break;
    }
    pos = tag.end;
    const local = localName(tag.name);

    if (!inTopicSet) {
      if (local === 'TopicSet' && !tag.closing && !tag.selfClosing) inTopicSet = true;
      continue;
    }
    if (tag.closing) {
      if (overflow > 0) overflow--;
      else if (stack.length === 0) break; // the TopicSet itself: only the first one counts
      else stack.pop(); // by count: a stray name mismatch does not derail the walk
      continue;
    }
    if (overflow > 0 || stack.length >= lim.maxDepth) {
      note('too-deep');
      if (!tag.selfClosing) overflow++;
      continue;
    }

    const parent = stack.length ? stack[stack.length - 1] : null;
    let frame: Frame;
    if (parent && parent.kind !== Kind.Path) {
      // Inside a MessageInstance: data descriptions, never topics.
      const kind = parent.kind === Kind.Message && local === 'DataInstance' ? Kind.Data : Kind.Other;
      frame = { kind, seg: '', prefix: '', len: 0, info: parent.info };
      if (parent.kind === Kind.Data && local === 'SimpleItemInstance' && parent.info && parent.info.stateKey === undefined) {
        const name = tag.attrs.get('Name');
        if (tag.attrs.get('isPropertyState') === 'true' && name && name.length <= MAX_STATE_KEY_CHARS) parent.info.stateKey = name;
      }
    } else if (local === 'MessageInstance') {
      const info = parent?.info ?? null;
      if (info && info.stateful === undefined) info.stateful = tag.attrs.get('isProperty') === 'true';
      frame = { kind: Kind.Message, seg: '', prefix: '', len: 0, info };
    } else {
      const parentPrefix = parent ? parent.prefix : '';
      const prefix = prefixOf(tag.name) || parentPrefix;
      const seg = prefix === parentPrefix ? local : tag.name;
      const len = parent ? parent.len + 1 + seg.length : seg.length;
      frame = { kind: Kind.Path, seg, prefix, len, info: null };
      if (tag.attrs.get('topic') === 'true') {
        if (len > lim.maxTopicChars) note('topic-too-long');
        else if (topics.length >= lim.maxTopics) note('too-many-topics');
        else {
          // Bounded by maxTopicChars, and done at most maxTopics times.
          let s = seg;
          for (let i = stack.length - 1; i >= 0; i--) s = `${stack[i].seg}/${s}`;
          if (stats) stats.topicChars += s.length;
          const info: TopicInfo = { topic: s };
          const nice = tag.attrs.get('NiceName');
          if (nice) info.niceName = decodeXml(nice.slice(0, lim.maxNiceNameChars * 2)).slice(0, lim.maxNiceNameChars);
          topics.push(info);
          frame.info = info;
        }
      }
    }
    if (!tag.selfClosing) stack.push(frame);
  }
  return reason ? { topics, truncated: true, reason } : { topics, truncated: false };
}

/** Asks the camera for its topic list (GetEventInstances) and parses it within the default limits. */
export async function fetchTopicList(
  client: { fetchBuffer(pathAndQuery: string, opts?: FetchBufferOptions): Promise<BufferResponse> },
  signal?: AbortSignal,
): Promise<TopicList> {
  const r = await client.fetchBuffer(SERVICES_PATH, {
    method: 'POST',
    body: GET_EVENT_INSTANCES_BODY,
    headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
    maxBytes: TOPICS_MAX_BYTES,
    signal,
  });
  return parseEventInstances(r.body.toString('utf8'));
}
