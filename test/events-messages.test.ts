import assert from 'node:assert/strict';
import {
  configureMessage,
  deriveActive,
  instanceKey,
  normaliseTopicFilters,
  parseEventInstances,
  parseMessage,
  parseWsSessionToken,
} from '../src/events';

describe('event messages', () => {
  it('normalises topic filters typed one per line, comma or | separated, without duplicates', () => {
    assert.deepEqual(normaliseTopicFilters(' a/b \n\nc/d, a/b|e//.\n'), ['a/b', 'c/d', 'e//.']);
    assert.deepEqual(normaliseTopicFilters(['x', ' y|x ']), ['x', 'y']);
    assert.deepEqual(normaliseTopicFilters(undefined), []);
  });

  it('builds one events:configure with all filters as alternatives', () => {
    assert.deepEqual(JSON.parse(configureMessage(['a', 'b'])), {
      apiVersion: '1.0',
      method: 'events:configure',
      params: { eventFilterList: [{ topicFilter: 'a|b' }] },
    });
  });

  it('parses a notification, deriving active from the usual data keys', () => {
    const m = parseMessage(
      '{"apiVersion":"1.0","method":"events:notify","params":{"notification":{"topic":"tns1:Device/tnsaxis:IO/VirtualInput","timestamp":1700000000000,"message":{"source":{"port":"1"},"key":{},"data":{"active":"1"}}}}}',
    );
    assert.equal(m.kind, 'notify');
    if (m.kind !== 'notify') return;
    assert.deepEqual(m.event, {
      topic: 'tns1:Device/tnsaxis:IO/VirtualInput',
      timestamp: 1700000000000,
      source: { port: '1' },
      key: {},
      data: { active: '1' },
      active: true,
      stateKey: 'active',
    });
    assert.equal(deriveActive({ State: 'false' }), false);
    assert.equal(deriveActive({ LogicalState: '1' }), true);
    assert.equal(deriveActive({ triggered: 'true' }), true);
    assert.equal(deriveActive({ count: '3' }), undefined);
    assert.equal(deriveActive({ active: 'maybe' }), undefined);
    // State items of real firmware beyond the usual ones.
    assert.equal(deriveActive({ day: '0' }), false);
    assert.equal(deriveActive({ is_moving: '1' }), true);
    assert.equal(deriveActive({ overall_health: '-3', alert: '1', wear: '-3' }), true);
  });

  it('uses the receive time when the camera sends no timestamp', () => {
    const m = parseMessage('{"method":"events:notify","params":{"notification":{"topic":"t","message":{"data":{}}}}}', () => 42);
    assert.ok(m.kind === 'notify' && m.event.timestamp === 42 && m.event.active === undefined);
  });

  it('recognises configure replies and errors, and ignores junk', () => {
    assert.deepEqual(parseMessage('{"apiVersion":"1.0","method":"events:configure","data":{}}'), { kind: 'configured' });
    assert.deepEqual(parseMessage('{"apiVersion":"1.0","method":"events:configure","error":{"code":2104,"message":"bad"}}'), {
      kind: 'configure-error',
      code: 2104,
      message: 'bad',
    });
    assert.equal(parseMessage('not json').kind, 'other');
    assert.equal(parseMessage('null').kind, 'other');
    assert.equal(parseMessage('{"method":"events:notify","params":{}}').kind, 'other');
  });

  it('keys instances by topic and source, independent of key order', () => {
    assert.equal(instanceKey({ topic: 't', source: { b: '2', a: '1' } }), instanceKey({ topic: 't', source: { a: '1', b: '2' } }));
    assert.notEqual(instanceKey({ topic: 't', source: { port: '1' } }), instanceKey({ topic: 't', source: { port: '2' } }));
  });

  it('keeps a numeric session token as the exact string the camera sent (Axis documents a bare token)', () => {
    // 1331901001644832701 > 2^53: JSON.parse would make it 1331901001644832800.
    assert.equal(parseWsSessionToken('1331901001644832701'), '1331901001644832701');
    assert.equal(parseWsSessionToken('1331901001644832701\r\n'), '1331901001644832701');
    assert.equal(parseWsSessionToken('{"data":{"wssession":1331901001644832701}}'), '1331901001644832701');
    assert.equal(parseWsSessionToken('{"wssession": 1331901001644832701}'), '1331901001644832701');
    assert.equal(parseWsSessionToken('"1331901001644832701"'), '1331901001644832701');
    assert.equal(parseWsSessionToken('{"data":"abc"}'), 'abc');
    assert.equal(parseWsSessionToken('{"wssession":"a b"}'), null, 'a token goes into a URL as it is');
    assert.equal(parseWsSessionToken('{"wssession":'), null);
  });

  it('reads the wssession token from JSON or plain text', () => {
    assert.equal(parseWsSessionToken('{"apiVersion":"1.0","method":"wssession","data":{"wssession":"abc123"}}'), 'abc123');
    assert.equal(parseWsSessionToken('{"wssession":"t0k"}'), 't0k');
    assert.equal(parseWsSessionToken('abc.DEF-123\n'), 'abc.DEF-123');
    assert.equal(parseWsSessionToken('{"error":{"code":1}}'), null);
    assert.equal(parseWsSessionToken('<html>login</html>'), null);
    assert.equal(parseWsSessionToken(''), null);
  });
});

describe('GetEventInstances parsing', () => {
  it('walks nested, self-closing and unprefixed topic elements, skipping message descriptions', () => {
    const xml =
      '<s:Envelope><s:Body><aev:GetEventInstancesResponse><wstop:TopicSet>' +
      '<tns1:RuleEngine><tnsaxis:Timer wstop:topic="true"><aev:MessageInstance><aev:SourceInstance><aev:SimpleItemInstance Name="x" wstop:topic="true"/></aev:SourceInstance></aev:MessageInstance></tnsaxis:Timer></tns1:RuleEngine>' +
      "<tns1:VideoSource><MotionAlarm wstop:topic='true' aev:NiceName='Motion &amp; more'/></tns1:VideoSource>" +
      '<tns1:Device><tnsaxis:Status><tnsaxis:Temperature><Above wstop:topic="true"/><Below wstop:topic="false"/></tnsaxis:Temperature></tnsaxis:Status></tns1:Device>' +
      '</wstop:TopicSet></aev:GetEventInstancesResponse></s:Body></s:Envelope>';
    assert.deepEqual(parseEventInstances(xml), {
      topics: [
        { topic: 'tns1:RuleEngine/tnsaxis:Timer', stateful: false },
        { topic: 'tns1:VideoSource/MotionAlarm', niceName: 'Motion & more' },
        { topic: 'tns1:Device/tnsaxis:Status/Temperature/Above' },
      ],
      truncated: false,
    });
    assert.deepEqual(parseEventInstances('<html>no topics</html>'), { topics: [], truncated: false });
  });
});
