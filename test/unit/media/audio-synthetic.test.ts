// The clock-paced captures (tone, null, WAV file) and the null playback, driven by a FakeClock.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PacedCapture, silenceSource, toneSource } from '../../../src/media/audio-synthetic.js';
import { AudioDeviceError, WavError, encodeWav, goertzelAmplitude, openCapture, openPlayback, SineSource, type CapturedFrame } from '../../../src/media/index.js';
import { FakeClock, type Clock, type TimerHandle } from '../../../src/util/index.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir('dpa-audio-');

function record(capture: { events: { on(e: 'frame', fn: (f: CapturedFrame) => void): unknown } }): CapturedFrame[] {
  const frames: CapturedFrame[] = [];
  capture.events.on('frame', (f) => frames.push(f));
  return frames;
}

const join16 = (frames: CapturedFrame[]): number[] => frames.flatMap((f) => [...f.samples]);

test('tone: one 10 ms frame per 10 ms of clock, stamped with the time it completed', async () => {
  const clock = new FakeClock(1000);
  const capture = openCapture('tone:1000', { sampleRateHz: 8000, clock });
  const frames = record(capture);
  await capture.start();
  clock.advance(9);
  assert.equal(frames.length, 0);
  clock.advance(1);
  assert.equal(frames.length, 1);
  clock.advance(90);
  assert.equal(frames.length, 10);
  assert.deepEqual(frames.map((f) => f.capturedAtMs), [1010, 1020, 1030, 1040, 1050, 1060, 1070, 1080, 1090, 1100]);
  assert.ok(frames.every((f) => f.samples.length === 80));
  assert.equal(capture.stats().frames, 10);
  await capture.close();
  assert.equal(clock.pending, 0, 'close() cancels the pacing timer');
  clock.advance(100);
  assert.equal(frames.length, 10);
});

test('tone: frames join phase-continuously into the same sine as one long run, and carry the frequency', async () => {
  const clock = new FakeClock();
  const capture = openCapture('tone:697.5', { sampleRateHz: 16000, clock, toneAmplitude: 10000 });
  const frames = record(capture);
  await capture.start();
  clock.advance(200);
  assert.equal(frames.length, 20);
  assert.ok(frames.every((f) => f.samples.length === 160));
  const joined = join16(frames);
  assert.deepEqual(joined, [...new SineSource({ frequencyHz: 697.5, sampleRateHz: 16000, amplitude: 10000 }).next(3200)]);
  assert.ok(Math.abs(goertzelAmplitude(joined, 697.5, 16000) - 10000) < 50);
  await capture.close();
});

test('null: capture gives silent frames paced by the clock; playback takes frames and discards them', async () => {
  const clock = new FakeClock();
  const capture = openCapture('null', { sampleRateHz: 16000, clock });
  const frames = record(capture);
  await capture.start();
  clock.advance(50);
  assert.equal(frames.length, 5);
  assert.ok(frames.every((f) => f.samples.length === 160 && f.samples.every((s) => s === 0)));
  await capture.close();

  const playback = openPlayback('null', { sampleRateHz: 8000 });
  await playback.start();
  playback.write(new Int16Array(80));
  assert.equal(playback.bufferedMs, 0);
  assert.throws(() => playback.write(new Int16Array(79)), (err) => err instanceof AudioDeviceError && err.code === 'bad-frame');
  assert.equal(playback.stats().frames, 1);
  await playback.close();
});

/** A clock whose timer the test fires by hand, late, as a busy event loop would. */
class LateClock implements Clock {
  timeMs = 0;
  fn: (() => void) | undefined;
  now(): number {
    return this.timeMs;
  }
  setTimer(_delayMs: number, fn: () => void): TimerHandle {
    this.fn = fn;
    return { id: 1 };
  }
  cancel(): void {
    this.fn = undefined;
  }
  fireAt(timeMs: number): void {
    this.timeMs = timeMs;
    const fn = this.fn;
    this.fn = undefined;
    fn?.();
  }
}

test('a late timer catches up the frames it missed, at most five, then skips ahead', async () => {
  const clock = new LateClock();
  const capture = new PacedCapture({ sampleRateHz: 8000, clock, open: silenceSource });
  const frames = record(capture);
  await capture.start();
  clock.fireAt(35);
  assert.deepEqual(frames.map((f) => f.capturedAtMs), [10, 20, 30]);
  clock.fireAt(1000);
  assert.deepEqual(frames.slice(3).map((f) => f.capturedAtMs), [40, 50, 60, 70, 80]);
  clock.fireAt(1010);
  assert.deepEqual(frames.slice(8).map((f) => f.capturedAtMs), [1010]);
  await capture.close();
});

test('start() twice is refused; close() before start() is harmless', async () => {
  const capture = new PacedCapture({ sampleRateHz: 8000, clock: new FakeClock(), open: () => toneSource(440, 8000) });
  await capture.start();
  await assert.rejects(capture.start(), (err) => err instanceof AudioDeviceError && err.code === 'bad-state');
  await capture.close();
  await new PacedCapture({ sampleRateHz: 8000, open: silenceSource }).close();
});

test('file: capture plays the WAV once, pads the last frame with silence, then emits ended', async () => {
  const path = join(dir, 'ramp.wav');
  const samples = Int16Array.from({ length: 200 }, (_, i) => i + 1);
  writeFileSync(path, encodeWav(samples, 8000));
  const clock = new FakeClock();
  const capture = openCapture(`file:${path}`, { sampleRateHz: 8000, clock });
  const frames = record(capture);
  const ended: number[] = [];
  capture.events.on('ended', (e) => ended.push(e.frames));
  await capture.start();
  clock.advance(100);
  assert.equal(frames.length, 3);
  assert.deepEqual(join16(frames), [...samples, ...new Array(40).fill(0)]);
  assert.deepEqual(ended, [3]);
  assert.equal(clock.pending, 0);
  await capture.close();
});

test('file: capture with loop starts over seamlessly at the end', async () => {
  const path = join(dir, 'short.wav');
  const samples = Int16Array.from({ length: 120 }, (_, i) => i);
  writeFileSync(path, encodeWav(samples, 8000));
  const clock = new FakeClock();
  const capture = openCapture(`file:${path}`, { sampleRateHz: 8000, clock, loop: true });
  const frames = record(capture);
  await capture.start();
  clock.advance(30);
  assert.deepEqual(join16(frames), [...samples, ...samples].slice(0, 240));
  await capture.close();
});

test('file: capture refuses a file at another rate, or not a WAV, when it starts', async () => {
  const path16k = join(dir, 'wide.wav');
  writeFileSync(path16k, encodeWav(new Int16Array(160), 16000));
  await assert.rejects(
    openCapture(`file:${path16k}`, { sampleRateHz: 8000, clock: new FakeClock() }).start(),
    (err) => err instanceof WavError && err.code === 'unsupported-format' && /16000 Hz/.test(err.message) && err.message.includes(path16k),
  );
  const garbage = join(dir, 'garbage.wav');
  writeFileSync(garbage, 'hello, this is text');
  await assert.rejects(openCapture(`file:${garbage}`, { sampleRateHz: 8000 }).start(), (err) => err instanceof WavError && err.code === 'not-riff');
  await assert.rejects(openCapture(`file:${join(dir, 'missing.wav')}`, { sampleRateHz: 8000 }).start(), /ENOENT/);
});

test('consumer-paced: no timer of its own; each pull emits the frames asked for, the last stamped with the pull time', async () => {
  const clock = new FakeClock(1000);
  const capture = openCapture('tone:1000', { sampleRateHz: 8000, clock });
  const frames = record(capture);
  const pull = capture.consumerPaced?.();
  assert.ok(pull, 'a tone capture can be paced by its consumer');
  pull(2, 1000);
  assert.equal(frames.length, 0, 'nothing before start() has finished');
  await capture.start();
  assert.equal(clock.pending, 0, 'no timer');
  clock.advance(100);
  assert.equal(frames.length, 0, 'the clock alone moves nothing');
  pull(2, 1120);
  pull(3, 1150);
  assert.deepEqual(frames.map((f) => f.capturedAtMs), [1110, 1120, 1130, 1140, 1150]);
  const sine = toneSource(1000, 8000);
  assert.deepEqual(join16(frames), [...(sine(400) as Int16Array)], 'the same phase-continuous tone as the clock-paced capture');
  await capture.close();
  pull(2, 1200);
  assert.equal(frames.length, 5, 'nothing after close()');
});

test('consumer-paced after start(): the capture\'s own timer stops and pulls take over', async () => {
  const clock = new FakeClock(0);
  const capture = openCapture('null', { sampleRateHz: 8000, clock });
  const frames = record(capture);
  await capture.start();
  clock.advance(20);
  assert.equal(frames.length, 2);
  const pull = capture.consumerPaced?.() as (frames: number, nowMs: number) => void;
  assert.equal(clock.pending, 0);
  clock.advance(100);
  pull(2, 120);
  assert.deepEqual(frames.map((f) => f.capturedAtMs), [10, 20, 110, 120]);
  await capture.close();
});

test('consumer-paced file capture emits ended when the file runs out', async () => {
  const path = join(dir, 'short-pulled.wav');
  writeFileSync(path, encodeWav(new Int16Array(150).fill(7), 8000));
  const capture = openCapture(`file:${path}`, { sampleRateHz: 8000, clock: new FakeClock() });
  const frames = record(capture);
  const ended: number[] = [];
  capture.events.on('ended', (e) => ended.push(e.frames));
  const pull = capture.consumerPaced?.() as (frames: number, nowMs: number) => void;
  await capture.start();
  pull(2, 20);
  pull(2, 40);
  assert.equal(frames.length, 2);
  assert.deepEqual(ended, [2]);
  await capture.close();
});
