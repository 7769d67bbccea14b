// The per-country tone plans: complete, parseable, and the countries the registry offers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TONE_NAMES, TONE_PLANS, TONE_PLAN_COUNTRIES, ToneError, tonePlanFor } from '../../../src/media/index.js';
import { KEYS } from '../../../src/registry/index.js';

test('there is a plan for exactly the countries media.toneCountry accepts', () => {
  const key = KEYS.find((k) => k.key === 'media.toneCountry');
  assert.ok(key?.values, 'media.toneCountry is an enum');
  assert.deepEqual([...TONE_PLAN_COUNTRIES].sort(), [...key.values].sort());
  assert.deepEqual(Object.keys(TONE_PLANS).sort(), [...key.values].sort());
});

test('every plan parses: five tones and a ringer cadence per country', () => {
  for (const country of TONE_PLAN_COUNTRIES) {
    const plan = tonePlanFor(country);
    assert.equal(plan.country, country);
    assert.deepEqual(Object.keys(plan.tones).sort(), [...TONE_NAMES].sort());
    for (const name of TONE_NAMES) {
      const tone = plan.tones[name];
      assert.equal(tone.notation, TONE_PLANS[country][name]);
      assert.ok(tone.segments.some((s) => s.frequenciesHz.length > 0), `${country} ${name} has an on segment`);
      for (const s of tone.segments) assert.ok(s.frequenciesHz.every((f) => f >= 300 && f < 1000), `${country} ${name}: ${s.frequenciesHz}`);
    }
    // Ringback and busy are cadenced everywhere; dial tone is continuous except in Italy.
    assert.ok(plan.tones.ringback.segments.length >= 2 && plan.tones.busy.segments.length >= 2, country);
    assert.equal(plan.tones.dial.segments.length === 1, country !== 'it', country);
    assert.ok(plan.ringCadence.periodMs >= 3000 && plan.ringCadence.periodMs <= 6000, `${country} ring period ${plan.ringCadence.periodMs}`);
  }
});

test('the plans carry the E.180 values of the US, UK, Germany and France', () => {
  const summary = (country: string) => {
    const p = tonePlanFor(country);
    return Object.fromEntries(TONE_NAMES.map((n) => [n, p.tones[n].segments.map((s) => `${s.frequenciesHz.join('+') || '0'}/${s.durationMs}`).join(',')]));
  };
  assert.deepEqual(summary('us'), {
    dial: '350+440/Infinity',
    ringback: '440+480/2000,0/4000',
    busy: '480+620/500,0/500',
    congestion: '480+620/250,0/250',
    callWaiting: '440/300,0/10000',
  });
  assert.equal(summary('uk').ringback, '400+450/400,0/200,400+450/400,0/2000');
  assert.equal(summary('uk').busy, '400/375,0/375');
  assert.equal(summary('uk').congestion, '400/400,0/350,400/225,0/525');
  assert.deepEqual([summary('de').dial, summary('de').ringback, summary('de').busy, summary('de').congestion], ['425/Infinity', '425/1000,0/4000', '425/480,0/480', '425/240,0/240']);
  assert.deepEqual([summary('fr').dial, summary('fr').ringback, summary('fr').busy], ['440/Infinity', '440/1500,0/3500', '440/500,0/500']);
  assert.deepEqual(tonePlanFor('us').ringCadence.segments.map((s) => s.durationMs), [2000, 4000]);
  assert.deepEqual(tonePlanFor('uk').ringCadence.segments.map((s) => s.durationMs), [400, 200, 400, 2000]);
});

test('an unknown country is a ToneError with code unknownCountry', () => {
  assert.throws(() => tonePlanFor('xx'), (err: unknown) => err instanceof ToneError && err.code === 'unknownCountry');
  assert.throws(() => tonePlanFor('US'), (err: unknown) => err instanceof ToneError && err.code === 'unknownCountry');
});
