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
