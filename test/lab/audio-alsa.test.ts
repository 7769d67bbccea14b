// The ALSA backend through the real arecord and aplay, with no sound card: a temporary HOME
// holds an .asoundrc whose PCMs are ALSA's `file` plugin over the `null` PCM. Capture reads
// a raw tone file through arecord ("infile"); playback writes through aplay into a raw file.
// The null PCM is not paced by any clock, so arecord delivers as fast as it can read.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AlsaCapture, AlsaPlayback } from '../../src/media/audio-alsa.js';
import { bytesToPcm, pcmToBytes } from '../../src/media/audio-frame-cutter.js';
import {
  SineSource, goertzelAmplitude, openCapture, openPlayback,
  type AudioCapture, type AudioDeviceError, type AudioPlayback, type AudioRestart, type CapturedFrame,
} from '../../src/media/index.js';

const hasAlsaUtils = spawnSync('arecord', ['--version']).status === 0 && spawnSync('aplay', ['--version']).status === 0;
const skip = hasAlsaUtils ? false : 'arecord/aplay (alsa-utils) not installed';

const AMPLITUDE = 8000;
let home = '';
let outRaw8k = '';
let outRaw16k = '';
const devices: (AudioCapture | AudioPlayback)[] = [];

before(() => {
  home = mkdtempSync(join(tmpdir(), 'dpa-alsa-'));
  const inRaw = join(home, 'tone-1k-8k.raw');
  outRaw8k = join(home, 'out-8k.raw');
  outRaw16k = join(home, 'out-16k.raw');
  writeFileSync(inRaw, pcmToBytes(new SineSource({ frequencyHz: 1000, sampleRateHz: 8000, amplitude: AMPLITUDE }).next(8000 * 2)));
  // `slave.pcm "null"` needs the global config (alsa.conf defines pcm.null), which is why a
  // ~/.asoundrc is used rather than ALSA_CONFIG_PATH: that variable replaces alsa.conf.
  writeFileSync(
    join(home, '.asoundrc'),
    [
      `pcm.captest { type file; slave.pcm "null"; file "/dev/null"; infile "${inRaw}"; format "raw" }`,
      `pcm.playtest { type file; slave.pcm "null"; file "${outRaw8k}"; format "raw" }`,
      `pcm.playtest16 { type file; slave.pcm "null"; file "${outRaw16k}"; format "raw" }`,
      '',
    ].join('\n'),
  );
});

after(async () => {
  await Promise.all(devices.map((d) => d.close()));
  if (home) rmSync(home, { recursive: true, force: true });
});

function track<T extends AudioCapture | AudioPlayback>(device: T): T {
  devices.push(device);
  return device;
}

/** Resolves once `cond` holds, checked on every event `subscribe` reports; fails after `timeoutMs`. */
function waitUntil(what: string, subscribe: (check: () => void) => () => void, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    let unsubscribe = (): void => {};
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const check = (): void => {
      if (!cond()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    unsubscribe = subscribe(check);
    check();
  });
}

function assertTone1k(samples: ArrayLike<number>, sampleRateHz: number, label: string): void {
  const at1k = goertzelAmplitude(samples, 1000, sampleRateHz);
  assert.ok(Math.abs(at1k - AMPLITUDE) < AMPLITUDE * 0.02, `${label}: 1 kHz amplitude ${at1k.toFixed(0)}, expected about ${AMPLITUDE}`);
  for (const f of [500, 1500, 2000]) {
    const other = goertzelAmplitude(samples, f, sampleRateHz);
    assert.ok(other < AMPLITUDE * 0.02, `${label}: ${f} Hz amplitude ${other.toFixed(0)} should be near zero`);
  }
}

const alsaEnv = (): { env: Record<string, string> } => ({ env: { HOME: home } });

test('capture: arecord reads the 1 kHz tone file and the frames carry 1 kHz', { skip }, async () => {
  const capture = track(openCapture('alsa:captest', { sampleRateHz: 8000, alsa: alsaEnv() }));
  assert.ok(capture instanceof AlsaCapture);
  const frames: CapturedFrame[] = [];
  const errors: AudioDeviceError[] = [];
  capture.events.on('error', (e) => errors.push(e));
  await capture.start();
  const cmdline = readFileSync(`/proc/${capture.childPid}/cmdline`, 'utf8').split('\0');
  assert.deepEqual(cmdline.slice(1, -1), ['-q', '-t', 'raw', '-f', 'S16_LE', '-c', '1', '-r', '8000', '-D', 'captest', '--period-time=10000', '--buffer-time=40000']);
  await waitUntil('50 frames', (check) => capture.events.on('frame', (f) => (frames.length < 50 ? (frames.push(f), check()) : undefined)), () => frames.length >= 50);
  assert.ok(frames.every((f) => f.samples.length === 80));
  const samples = frames.flatMap((f) => [...f.samples]);
  assertTone1k(samples, 8000, 'captured');
  // The file is played from its start, so the frames are the tone sample for sample.
  assert.deepEqual(samples, [...new SineSource({ frequencyHz: 1000, sampleRateHz: 8000, amplitude: AMPLITUDE }).next(samples.length)]);
  const pid = capture.childPid;
  await capture.close();
  assert.equal(capture.childPid, undefined);
  assert.throws(() => process.kill(pid ?? 0, 0), /ESRCH/, 'arecord is gone after close()');
  assert.deepEqual(errors, [], 'a requested stop is no error');
});

test('capture: an arecord killed with SIGKILL is restarted and frames continue', { skip }, async () => {
  const capture = track(new AlsaCapture({ pcm: 'captest', sampleRateHz: 8000, ...alsaEnv() }));
  const restarts: AudioRestart[] = [];
  const errors: AudioDeviceError[] = [];
  const afterRestart: CapturedFrame[] = [];
  let beforeKill = 0;
  capture.events.on('restarted', (r) => restarts.push(r));
  capture.events.on('error', (e) => errors.push(e));
  capture.events.on('frame', (f) => {
    if (restarts.length === 0) beforeKill++;
    else if (afterRestart.length < 50) afterRestart.push(f);
  });
  await capture.start();
  await waitUntil('frames from the first arecord', (check) => capture.events.on('frame', check), () => beforeKill >= 10);
  const firstPid = capture.childPid;
  assert.ok(firstPid);
  process.kill(firstPid, 'SIGKILL');
  await waitUntil('the restart', (check) => capture.events.on('restarted', check), () => restarts.length === 1);
  assert.equal(restarts[0]?.restarts, 1);
  assert.equal(restarts[0]?.reason, 'killed by SIGKILL');
  assert.equal(restarts[0]?.afterMs, 100);
  assert.equal(errors[0]?.code, 'child-exited');
  assert.notEqual(capture.childPid, firstPid);
  await waitUntil('frames from the new arecord', (check) => capture.events.on('frame', check), () => afterRestart.length >= 50);
  assertTone1k(afterRestart.flatMap((f) => [...f.samples]), 8000, 'after the restart');
  assert.equal(capture.stats().restarts, 1);
  await capture.close();
});

test('playback: frames written through aplay land in the file as the 1 kHz tone', { skip }, async () => {
  for (const [sampleRateHz, pcm, outRaw] of [[8000, 'playtest', outRaw8k], [16000, 'playtest16', outRaw16k]] as const) {
    const playback = track(openPlayback(`alsa:${pcm}`, { sampleRateHz, alsa: alsaEnv() }));
    assert.ok(playback instanceof AlsaPlayback);
    const errors: AudioDeviceError[] = [];
    playback.events.on('error', (e) => errors.push(e));
    await playback.start();
    // A tone capture paced by the system clock feeds it in real time, as a call would.
    const source = track(openCapture('tone:1000', { sampleRateHz, toneAmplitude: AMPLITUDE }));
    let fed = 0;
    await source.start();
    await waitUntil(
      `50 frames fed at ${sampleRateHz} Hz`,
      (check) => source.events.on('frame', (f) => (fed < 50 ? (playback.write(f.samples), fed++, check()) : undefined)),
      () => fed >= 50,
    );
    await source.close();
    assert.ok(playback.bufferedMs <= 100, `buffered ${playback.bufferedMs} ms`);
    await waitUntil('aplay to have taken every frame', (check) => {
      const t = setInterval(check, 5);
      return () => clearInterval(t);
    }, () => playback.stats().frames === 50);
    await playback.close();
    assert.deepEqual(errors, []);
    assert.equal(playback.stats().dropped, 0);
    const written = bytesToPcm(readFileSync(outRaw));
    const n = 50 * (sampleRateHz / 100);
    assert.ok(written.length >= n, `${outRaw} holds ${written.length} samples, expected at least ${n}`);
    const expected = new SineSource({ frequencyHz: 1000, sampleRateHz, amplitude: AMPLITUDE }).next(n);
    assert.deepEqual([...written.subarray(0, n)], [...expected], 'aplay wrote the frames unchanged');
    assertTone1k(written.subarray(0, n), sampleRateHz, `played at ${sampleRateHz} Hz`);
  }
});

test('alsa:default without a sound card: errors carry arecord\'s stderr and restarts back off', { skip }, async () => {
  const emptyHome = join(home, 'empty');
  const capture = track(openCapture('alsa:default', { sampleRateHz: 16000, alsa: { env: { HOME: emptyHome } } }));
  const errors: { err: AudioDeviceError; atMs: number }[] = [];
  capture.events.on('error', (err) => errors.push({ err, atMs: performance.now() }));
  await capture.start();
  await waitUntil('two failed attempts', (check) => capture.events.on('error', check), () => errors.length >= 2);
  assert.equal(errors[0]?.err.code, 'child-exited');
  assert.match(errors[0]?.err.message ?? '', /arecord exited with status 1: .*(audio open error|cannot find card)/);
  const gapMs = (errors[1]?.atMs ?? 0) - (errors[0]?.atMs ?? 0);
  assert.ok(gapMs >= 90, `the second attempt came ${gapMs.toFixed(0)} ms after the first; the back-off is 100 ms`);
  await capture.close();
});
