import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DialPlan, PhoneStateMachine, type PhoneAction } from '../../../src/phone/index.js';

const machine = () => new PhoneStateMachine(new DialPlan('^(\\*\\d+#?|\\d{3,15}#|\\d{10})$'), () => 'Ready');
const kinds = (a: PhoneAction[]) => a.map((x) => (x.kind === 'tone' ? `tone:${x.tone}` : x.kind === 'place' ? `place:${x.number}` : x.kind));

test('lifting the handset plays dial tone; the first key stops it', () => {
  const m = machine();
  assert.deepEqual(kinds(m.handle({ kind: 'hook', offHook: true })), ['tone:dial', 'display', 'led']);
  assert.equal(m.state, 'dialTone');
  assert.deepEqual(kinds(m.handle({ kind: 'key', key: '5' })), ['tone:null', 'display', 'startInterDigitTimer']);
  assert.equal(m.state, 'collecting');
});

test('ten digits match the dial plan and are placed at once', () => {
  const m = machine();
  m.handle({ kind: 'hook', offHook: true });
  let last: PhoneAction[] = [];
  for (const k of '5551234567') last = m.handle({ kind: 'key', key: k });
  assert.deepEqual(kinds(last).slice(-1), ['place:5551234567']);
  assert.equal(m.state, 'placing');
});

test('# dials what was typed, without the #', () => {
  const m = machine();
  m.handle({ kind: 'hook', offHook: true });
  m.handle({ kind: 'key', key: '1' });
  m.handle({ kind: 'key', key: '2' });
  assert.deepEqual(kinds(m.handle({ kind: 'key', key: '#' })).slice(-1), ['place:12']);
});

test('the inter-digit timeout dials a partial number', () => {
  const m = machine();
  m.handle({ kind: 'hook', offHook: true });
  m.handle({ kind: 'key', key: '7' });
  assert.deepEqual(kinds(m.handle({ kind: 'interDigitTimeout' })).slice(-1), ['place:7']);
});

test('a failed call plays congestion until the handset is put down', () => {
  const m = machine();
  m.handle({ kind: 'hook', offHook: true });
  m.handle({ kind: 'interDigitTimeout' });
  assert.equal(m.state, 'dialTone', 'no digits: nothing to dial');
  for (const k of '5551234567') m.handle({ kind: 'key', key: k });
  assert.deepEqual(kinds(m.handle({ kind: 'placeFailed', reason: 'No SIP account' })), ['tone:congestion', 'display']);
  assert.equal(m.state, 'unavailable');
  assert.deepEqual(kinds(m.handle({ kind: 'hook', offHook: false })), ['cancelInterDigitTimer', 'tone:null', 'led', 'display']);
  assert.equal(m.state, 'idle');
});

test('keys while on hook do nothing', () => {
  const m = machine();
  assert.deepEqual(m.handle({ kind: 'key', key: '1' }), []);
  assert.equal(m.state, 'idle');
});

test('an invalid dial plan is a typed error', () => {
  assert.throws(() => new DialPlan('(['), /phone.dialPlan is not a valid regular expression/);
});

test('an outgoing call plays ringback while the far end rings, silence when it answers, busy when it hangs up', () => {
  const m = machine();
  m.handle({ kind: 'hook', offHook: true });
  for (const k of '5551234567') m.handle({ kind: 'key', key: k });
  assert.equal(m.state, 'placing');
  assert.deepEqual(kinds(m.handle({ kind: 'call', state: 'early' })), ['tone:ringback', 'display']);
  assert.equal(m.state, 'ringback');
  assert.deepEqual(kinds(m.handle({ kind: 'call', state: 'connected' })), ['tone:null', 'display']);
  assert.equal(m.state, 'talking');
  const ended = m.handle({ kind: 'call', state: 'ended', text: 'Call ended' });
  assert.deepEqual(kinds(ended), ['tone:busy', 'display']);
  assert.deepEqual(ended[1], { kind: 'display', lines: ['Call ended', 'Hang up'] });
  assert.deepEqual(kinds(m.handle({ kind: 'hook', offHook: false })), ['cancelInterDigitTimer', 'tone:null', 'led', 'display'], 'no hangup: the call is already over');
  assert.equal(m.state, 'idle');
});

test('putting the handset down during a call hangs up', () => {
  const m = machine();
  m.handle({ kind: 'hook', offHook: true });
  for (const k of '5551234567') m.handle({ kind: 'key', key: k });
  m.handle({ kind: 'call', state: 'connected' });
  assert.deepEqual(kinds(m.handle({ kind: 'hook', offHook: false })).slice(0, 2), ['hangup', 'cancelInterDigitTimer']);
});

test('an incoming call rings; lifting the handset answers; a cancelled call stops ringing as a missed call', () => {
  const m = machine();
  assert.deepEqual(kinds(m.handle({ kind: 'incoming', from: 'bob@example.net' })), ['ringer', 'display', 'led']);
  assert.equal(m.state, 'ringing');
  assert.deepEqual(m.handle({ kind: 'hook', offHook: true }), [{ kind: 'ringer', on: false }, { kind: 'answer' }, { kind: 'led', name: 'line', state: 'on' }]);
  assert.equal(m.state, 'talking');
  const missed = machine();
  missed.handle({ kind: 'incoming', from: 'bob@example.net' });
  const gone = missed.handle({ kind: 'incomingGone' });
  assert.deepEqual(gone[0], { kind: 'ringer', on: false });
  assert.deepEqual(gone[2], { kind: 'display', lines: ['Ready', 'Missed call'] });
  assert.equal(missed.state, 'idle');
});

test('keys and a late call event while ringing do nothing; an incoming call while dialling is not taken', () => {
  const m = machine();
  m.handle({ kind: 'hook', offHook: true });
  assert.deepEqual(m.handle({ kind: 'incoming', from: 'x' }), []);
  assert.equal(m.state, 'dialTone');
});
