// The E.180-style tone notation: what it accepts, what it rejects and with which error code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ToneError, type ToneErrorCode, isRinging, parseRingCadence, parseTone } from '../../../src/media/index.js';

test('a tone without a duration is one continuous segment summing its frequencies', () => {
  assert.deepEqual(parseTone('350+440'), {
    notation: '350+440',
    segments: [{ frequenciesHz: [350, 440], modulationHz: 0, durationMs: Number.POSITIVE_INFINITY }],
  });
});

test('a cadence lists on and off segments, 0 meaning silence', () => {
  assert.deepEqual(parseTone('440+480/2000,0/4000').segments, [
    { frequenciesHz: [440, 480], modulationHz: 0, durationMs: 2000 },
    { frequenciesHz: [], modulationHz: 0, durationMs: 4000 },
  ]);
  assert.deepEqual(
    parseTone('400+450/400,0/200,400+450/400,0/2000').segments.map((s) => [s.frequenciesHz.length, s.durationMs]),
    [[2, 400], [0, 200], [2, 400], [0, 2000]],
  );
});

test('carrier*modulator is an amplitude-modulated tone; decimals and spaces are accepted', () => {
  assert.deepEqual(parseTone(' 400*16 / 1000 , 0/2000 ').segments[0], { frequenciesHz: [400], modulationHz: 16, durationMs: 1000 });
  assert.deepEqual(parseTone('697.5').segments[0]?.frequenciesHz, [697.5]);
});

test('rejects bad notation with a typed error code naming the problem', () => {
  const cases: Array<[string, ToneErrorCode]> = [
    ['', 'empty'],
    ['   ', 'empty'],
    ['abc', 'badFrequency'],
    ['-440', 'badFrequency'],
    ['25000', 'badFrequency'],
    ['440+', 'badFrequency'],
    ['/1000', 'badFrequency'],
    ['0+440/100', 'badFrequency'],
    ['400*0', 'badFrequency'],
    ['440/abc', 'badDuration'],
    ['440/0', 'badDuration'],
    ['440/-5', 'badDuration'],
    ['440/1.5', 'badDuration'],
    ['440/600001', 'badDuration'],
    ['440,0/100', 'missingDuration'],
    ['440//100', 'badSyntax'],
    ['440/100,,0/100', 'badSyntax'],
    ['400*16*2', 'badSyntax'],
    ['400+450*16', 'badSyntax'],
    ['1+2+3+4+5', 'tooLong'],
    [Array.from({ length: 33 }, () => '425/100').join(','), 'tooLong'],
    ['4'.repeat(600), 'tooLong'],
  ];
  for (const [notation, code] of cases) {
    assert.throws(
      () => parseTone(notation),
      (err: unknown) => err instanceof ToneError && err.code === code,
      `"${notation.slice(0, 40)}" should fail with ${code}`,
    );
  }
});

test('an error message names the offending segment', () => {
  assert.throws(() => parseTone('425/1000,0/4x00'), /segment 2 "0\/4x00"/);
});

test('a ring cadence is on/off pairs starting with on, looping', () => {
  const us = parseRingCadence('2000,4000');
  assert.deepEqual(us.segments, [{ on: true, durationMs: 2000 }, { on: false, durationMs: 4000 }]);
  assert.equal(us.periodMs, 6000);
  assert.deepEqual([0, 1999, 2000, 5999, 6000, 7999, 8000].map((t) => isRinging(us, t)), [true, true, false, false, true, true, false]);
  const uk = parseRingCadence('400,200,400,2000');
  assert.equal(uk.periodMs, 3000);
  assert.deepEqual([0, 399, 400, 599, 600, 999, 1000, 2999, 3000].map((t) => isRinging(uk, t)), [true, true, false, false, true, true, false, false, true]);
});

test('rejects a ring cadence that is empty, odd or not whole milliseconds', () => {
  for (const [text, code] of [['', 'empty'], ['2000', 'badSyntax'], ['2000,4000,1000', 'badSyntax'], ['2000,x', 'badDuration'], ['2000,0', 'badDuration']] as const) {
    assert.throws(() => parseRingCadence(text), (err: unknown) => err instanceof ToneError && err.code === code, text);
  }
});
