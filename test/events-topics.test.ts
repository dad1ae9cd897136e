/**
 * GetEventInstances parsing against hostile answers: a camera (or anything
 * answering on its address) controls this text, and the editor's topic picker
 * feeds it to the parser in the Node-RED process. The work must grow linearly
 * with the answer and the output must stay bounded, whatever its shape.
 *
 * Work is checked with the parser's counters and output sizes, not wall clock;
 * one ratio of best-of-N timings (2 MB vs 200 KB) has a wide margin between
 * linear (about 10x) and quadratic (about 100x).
 */
import assert from 'node:assert/strict';
import { DEFAULT_TOPIC_LIMITS, parseEventInstances, type TopicParseStats } from '../src/events';

const MB2 = 2 * 1024 * 1024;
const wrap = (inner: string): string =>
  '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope><SOAP-ENV:Body><aev:GetEventInstancesResponse><wstop:TopicSet>' +
  inner +
  '</wstop:TopicSet></aev:GetEventInstancesResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>';

/** The shapes that hurt a naive walk, each filled to about `bytes`. */
const HOSTILE: Record<string, (bytes: number) => string> = {
  // Every element a topic, one chain: topic strings grow with depth (the quadratic case).
  'one deep chain of topics': (bytes) => {
    const o = '<tnsaxis:A wstop:topic="true">';
    const c = '</tnsaxis:A>';
    const n = Math.floor(bytes / (o.length + c.length));
    return wrap(o.repeat(n) + c.repeat(n));
  },
  // Chains just inside the depth limit, repeated: many long topics.
  'many chains at the depth limit': (bytes) => {
    const d = DEFAULT_TOPIC_LIMITS.maxDepth - 1;
    const block = '<tnsaxis:Ab wstop:topic="true" aev:NiceName="n">'.repeat(d) + '</tnsaxis:Ab>'.repeat(d);
    return wrap(block.repeat(Math.floor(bytes / block.length)));
  },
  // Flat: tens of thousands of sibling topics with long display names.
  'flat topics with long names': (bytes) => {
    const t = `<T wstop:topic="true" aev:NiceName="${'N'.repeat(900)}"/>`;
    return wrap(t.repeat(Math.floor(bytes / t.length)));
  },
  // Element names far longer than any topic.
  'huge element names': (bytes) => {
    const name = 'x'.repeat(20_000);
    const o = `<${name} wstop:topic="true">`;
    const c = `</${name}>`;
    const n = Math.floor(bytes / (o.length + c.length));
    return wrap(o.repeat(n) + c.repeat(n));
  },
  // Unterminated quotes: a regex tag matcher rescans from every '<'.
  'unterminated attribute quotes': (bytes) => wrap('<a x="'.repeat(Math.floor(bytes / 6))),
  // Unterminated comment after many topics.
  'unterminated comment': (bytes) => wrap('<T wstop:topic="true"/>'.repeat(100) + '<!--' + '<T wstop:topic="true"/>'.repeat(Math.floor(bytes / 23))),
  // State keys and message descriptions nested deep inside a MessageInstance.
  'deep message instance': (bytes) => {
    const o = '<aev:SimpleItemInstance Name="k" isPropertyState="true">';
    const c = '</aev:SimpleItemInstance>';
    const n = Math.floor(bytes / (o.length + c.length));
    return wrap('<T wstop:topic="true"><aev:MessageInstance aev:isProperty="true"><aev:DataInstance>' + o.repeat(n) + c.repeat(n));
  },
};

/** Upper bound of the JSON the admin endpoint can send, from the limits alone. */
const MAX_JSON = DEFAULT_TOPIC_LIMITS.maxTopics * (DEFAULT_TOPIC_LIMITS.maxTopicChars + DEFAULT_TOPIC_LIMITS.maxNiceNameChars * 6 + 300);

function parseCounted(xml: string): { json: number; stats: TopicParseStats; result: ReturnType<typeof parseEventInstances> } {
  const stats: TopicParseStats = { tags: 0, topicChars: 0 };
  const result = parseEventInstances(xml, {}, stats);
  return { json: JSON.stringify(result).length, stats, result };
}

function bestMs(fn: () => void, runs: number): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return best;
}

describe('GetEventInstances parsing of hostile answers', function () {
  this.timeout(60_000);

  for (const [name, make] of Object.entries(HOSTILE)) {
    it(`${name}: 2 MB gives bounded output with a truncation flag, work linear in the input`, () => {
      const xml = make(MB2);
      assert.ok(xml.length > MB2 * 0.9, 'the generator filled the size');
      const { json, stats, result } = parseCounted(xml);
      assert.ok(json <= MAX_JSON, `output ${json} chars > bound ${MAX_JSON}`);
      assert.ok(result.topics.length <= DEFAULT_TOPIC_LIMITS.maxTopics);
      for (const t of result.topics) {
        assert.ok(t.topic.length <= DEFAULT_TOPIC_LIMITS.maxTopicChars, 'topic length');
        assert.ok(t.topic.split('/').length <= DEFAULT_TOPIC_LIMITS.maxDepth, 'topic depth');
        assert.ok((t.niceName ?? '').length <= DEFAULT_TOPIC_LIMITS.maxNiceNameChars, 'nice name length');
      }
      assert.equal(result.truncated, true, 'a hostile answer is flagged, so the editor can say the list is incomplete');
      assert.ok(result.reason, 'with the limit that was hit');
      // Each tag is at least 3 characters, and topic strings are built at most maxTopics times, maxTopicChars each.
      assert.ok(stats.tags <= xml.length / 3, `tags read ${stats.tags}`);
      assert.ok(stats.topicChars <= DEFAULT_TOPIC_LIMITS.maxTopics * DEFAULT_TOPIC_LIMITS.maxTopicChars, `topic chars ${stats.topicChars}`);
    });
  }

  it('the topic strings built do not grow with the input beyond the limits (2 MB vs 200 KB of one deep chain)', () => {
    const small = parseCounted(HOSTILE['one deep chain of topics'](200 * 1024));
    const big = parseCounted(HOSTILE['one deep chain of topics'](MB2));
    // Quadratic before: 300 KB built 140 MB of topic strings. Now both stop at the depth limit.
    assert.equal(big.stats.topicChars, small.stats.topicChars);
    assert.equal(big.json, small.json);
    assert.equal(big.result.reason, 'too-deep');
    assert.equal(big.result.topics.length, DEFAULT_TOPIC_LIMITS.maxDepth);
  });

  it('2 MB takes about 10x the time of 200 KB, not 100x (best of several runs)', () => {
    const small = HOSTILE['many chains at the depth limit'](200 * 1024);
    const big = HOSTILE['many chains at the depth limit'](MB2);
    parseEventInstances(big); // warm the JIT on the same shape
    const tSmall = bestMs(() => parseEventInstances(small), 7);
    const tBig = bestMs(() => parseEventInstances(big), 3);
    assert.ok(tBig / Math.max(tSmall, 0.05) < 40, `2 MB ${tBig.toFixed(1)} ms vs 200 KB ${tSmall.toFixed(1)} ms`);
  });

  it('limits can be set per call, and a list within them is not flagged', () => {
    const xml = wrap('<tns1:A><B wstop:topic="true"/><C wstop:topic="true"/><D wstop:topic="true"/></tns1:A>');
    assert.deepEqual(parseEventInstances(xml), {
      topics: [{ topic: 'tns1:A/B' }, { topic: 'tns1:A/C' }, { topic: 'tns1:A/D' }],
      truncated: false,
    });
    assert.deepEqual(parseEventInstances(xml, { maxTopics: 2 }), {
      topics: [{ topic: 'tns1:A/B' }, { topic: 'tns1:A/C' }],
      truncated: true,
      reason: 'too-many-topics',
    });
    assert.equal(parseEventInstances(xml, { maxDepth: 1 }).reason, 'too-deep');
    assert.equal(parseEventInstances(xml, { maxTopicChars: 7 }).reason, 'topic-too-long');
  });

  it('keeps what came before a broken tag and says the rest was malformed', () => {
    const r = parseEventInstances(wrap('<tns1:A wstop:topic="true"/><tns1:B wstop:topic="tr'));
    assert.deepEqual(r.topics, [{ topic: 'tns1:A' }]);
    assert.equal(r.reason, 'malformed');
  });

  it('skips comments, CDATA and processing instructions inside the topic set', () => {
    const r = parseEventInstances(
      wrap('<!-- <X wstop:topic="true"/> --><![CDATA[<Y wstop:topic="true"/>]]><?pi <Z wstop:topic="true"/>?><tns1:A wstop:topic="true"/>'),
    );
    assert.deepEqual(r, { topics: [{ topic: 'tns1:A' }], truncated: false });
  });
});
