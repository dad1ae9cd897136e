/**
 * Topic strings from a VAPIX `GetEventInstances` SOAP answer, for the
 * editor's topic picker. The answer is a tree of elements under
 * `wstop:TopicSet`; an element with `wstop:topic="true"` is a topic whose
 * string is the path of element names, a namespace prefix written only where
 * it changes, as Axis writes them: `<tns1:Device><tnsaxis:IO><tnsaxis:VirtualInput>`
 * is `tns1:Device/tnsaxis:IO/VirtualInput`.
 * A small tag walk is enough: we only need names and two attributes, so no
 * XML library.
 */

export const GET_EVENT_INSTANCES_BODY =
  '<?xml version="1.0" encoding="UTF-8"?>' +
  '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope">' +
  '<SOAP-ENV:Body><GetEventInstances xmlns="http://www.axis.com/vapix/ws/event1"/></SOAP-ENV:Body>' +
  '</SOAP-ENV:Envelope>';

export interface TopicInfo {
  topic: string;
  /** The camera's display name (`aev:NiceName`), when it gives one. */
  niceName?: string;
}

const TAG = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^\s=>/]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;

function attr(attrs: string, localName: string): string | undefined {
  const re = new RegExp(`(?:^|\\s)(?:[\\w.-]+:)?${localName}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`);
  const m = re.exec(attrs);
  return m ? (m[1] ?? m[2]) : undefined;
}

const localName = (qname: string): string => qname.slice(qname.indexOf(':') + 1);
const prefixOf = (qname: string): string => (qname.includes(':') ? qname.slice(0, qname.indexOf(':')) : '');

interface Segment {
  text: string;
  /** Effective prefix: an unprefixed element inherits its parent's. */
  prefix: string;
}

export function parseEventInstances(xml: string): TopicInfo[] {
  const out: TopicInfo[] = [];
  const path: Segment[] = [];
  let inTopicSet = false;
  /** Depth inside a MessageInstance (its contents describe data, not topics). */
  let skip = 0;
  TAG.lastIndex = 0;
  for (let m = TAG.exec(xml); m; m = TAG.exec(xml)) {
    const [, closing, name, attrs, selfClosing] = m;
    const local = localName(name);
    if (!inTopicSet) {
      if (local === 'TopicSet' && !closing && !selfClosing) inTopicSet = true;
      continue;
    }
    if (closing) {
      if (skip > 0) skip--;
      else if (local === 'TopicSet') inTopicSet = false;
      else path.pop();
      continue;
    }
    if (skip > 0 || local === 'MessageInstance') {
      if (!selfClosing) skip++;
      continue;
    }
    const parentPrefix = path.length ? path[path.length - 1].prefix : '';
    const prefix = prefixOf(name) || parentPrefix;
    path.push({ text: prefix === parentPrefix ? local : name, prefix });
    if (attr(attrs, 'topic') === 'true') {
      const info: TopicInfo = { topic: path.map((p) => p.text).join('/') };
      const nice = attr(attrs, 'NiceName');
      if (nice) info.niceName = nice;
      out.push(info);
    }
    if (selfClosing) path.pop();
  }
  return out;
}
