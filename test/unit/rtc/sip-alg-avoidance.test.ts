import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SipAlgAvoidance, SipAlgAvoidanceError, type SipAlgAvoidanceAction } from '../../../src/rtc/sip-alg-avoidance.js';

const UDP_5060 = { transport: 'UDP', port: 5060 };
const moves = (a: SipAlgAvoidanceAction[]): string[] => a.flatMap((x) => (x.kind === 'move' ? [x.to] : []));
const reports = (a: SipAlgAvoidanceAction[]): string[] => a.flatMap((x) => (x.kind === 'report' ? [`${x.report.state}/${x.report.transport}`] : []));

test('no ALG, another transport or another port: nothing to do', () => {
  const m = new SipAlgAvoidance('home');
  assert.deepEqual(m.registered(UDP_5060, false, 'tcp'), []);
  assert.deepEqual(m.registered({ transport: 'TCP', port: 5060 }, true, 'tcp'), [], 'already on a stream');
  assert.deepEqual(m.registered({ transport: 'UDP', port: 5080 }, true, 'tcp'), [], 'helpers watch 5060 only');
  assert.equal(m.state, 'watching');
  assert.equal(m.report, undefined);
});

test('tcp: an ALG on UDP 5060 moves the profile to TCP, and registering there ends it', () => {
  const m = new SipAlgAvoidance('home');
  const first = m.registered(UDP_5060, true, 'tcp');
  assert.deepEqual(moves(first), ['TCP']);
  assert.deepEqual(reports(first), ['moving/TCP']);
  assert.deepEqual(m.registered(UDP_5060, true, 'tcp'), [], 'a late UDP registration does not count, nor move again');
  assert.deepEqual(reports(m.registered({ transport: 'TCP', port: 5060 }, true, 'tcp')), ['moved/TCP']);
  assert.equal(m.state, 'moved');
  assert.match(m.report?.reason ?? '', /registered over TCP/);
  assert.deepEqual(m.registered({ transport: 'TCP', port: 5060 }, true, 'tcp'), [], 'refreshes change nothing');
  assert.deepEqual(m.failed('TCP', '503 Service Unavailable'), [], 'a later failure is the registration\'s own back-off, not a move');
});

test('tcp refused: back to UDP for good, never moving again (no loop)', () => {
  const m = new SipAlgAvoidance('home');
  m.registered(UDP_5060, true, 'tcp');
  const back = m.failed('TCP', 'connect-failed');
  assert.deepEqual(moves(back), ['UDP']);
  assert.deepEqual(reports(back), ['stayed/UDP']);
  assert.match(m.report?.reason ?? '', /TCP failed \(connect-failed\): back on UDP/);
  for (let i = 0; i < 5; i++) assert.deepEqual(m.registered(UDP_5060, true, 'tcp'), [], 'registered on UDP again behind the ALG');
  assert.equal(m.state, 'stayed');
});

test('tls: TLS first, TCP when TLS fails, UDP when both do', () => {
  const m = new SipAlgAvoidance('home');
  assert.deepEqual(moves(m.registered(UDP_5060, true, 'tls')), ['TLS']);
  assert.deepEqual(m.failed('UDP', 'x'), [], 'a failure of another transport is not ours');
  assert.deepEqual(moves(m.failed('TLS', 'certificate')), ['TCP']);
  assert.equal(m.state, 'moving');
  assert.deepEqual(moves(m.failed('TCP', 'refused')), ['UDP']);
  assert.equal(m.state, 'stayed');
});

test('off: the ALG is reported once as left alone, and nothing moves', () => {
  const m = new SipAlgAvoidance('home');
  const a = m.registered(UDP_5060, true, 'off');
  assert.deepEqual(moves(a), []);
  assert.deepEqual(reports(a), ['stayed/UDP']);
  assert.deepEqual(m.registered(UDP_5060, true, 'off'), []);
});

test('the setting applies at the next refresh: turned on after staying, turned off after moving', () => {
  const m = new SipAlgAvoidance('home');
  assert.deepEqual(reports(m.registered(UDP_5060, true, 'off')), ['stayed/UDP']);
  const on = m.registered(UDP_5060, true, 'tcp');
  assert.deepEqual(moves(on), ['TCP']);
  assert.deepEqual(reports(m.registered({ transport: 'TCP', port: 5060 }, true, 'tcp')), ['moved/TCP']);
  const off = m.registered({ transport: 'TCP', port: 5060 }, true, 'off');
  assert.deepEqual(moves(off), ['UDP']);
  assert.deepEqual(reports(off), ['stayed/UDP']);
  assert.deepEqual(m.registered(UDP_5060, true, 'off'), [], 'on UDP and off: nothing more');
});

test('after every stream failed, a later refresh never moves again whatever the setting', () => {
  const m = new SipAlgAvoidance('home');
  m.registered(UDP_5060, true, 'tcp');
  m.failed('TCP', 'refused');
  assert.deepEqual(m.registered(UDP_5060, true, 'tls'), []);
  assert.equal(m.state, 'stayed');
});

test('the transitions are checked', () => {
  const m = new SipAlgAvoidance('home');
  assert.throws(() => (m as unknown as { to(s: string, t: string, r: string): unknown }).to('moved', 'TCP', 'x'), SipAlgAvoidanceError, 'watching → moved skips moving');
});
