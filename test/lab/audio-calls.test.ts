// Real call audio both ways with baresip (Debian's 1.0.0) on loopback, as direct IP calls (no
// proxy, no registration). Our microphone is a WAV file holding a 1 kHz tone and our speaker a
// WAV file; baresip's microphone is ausine at 600 Hz and its sndfile module records what it
// decodes. Goertzel on each recording checks one direction on its own, so one-way audio fails.
// DTMF both ways as RFC 4733 telephone-events: baresip logs "received event: '<digit>'" for each
// event packet it takes as a new press, and its menu module's /sndcode sends digits in a call.
// The same both ways with G.722 and Opus forced (our media.codecs; baresip loads its g722 and
// opus modules), the codec checked in our session's mediaChanged event and negotiated SDP.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SineSource, decodeWav, encodeWav, goertzelAmplitude } from '../../src/media/index.js';
import { LocalPortManager } from '../../src/nat/index.js';
import { RtcClient, type CallQualityChanged, type MediaChanged, type Session, type SessionState } from '../../src/rtc/index.js';
import { DEFAULT_TIMERS } from '../../src/sip/transaction/index.js';
import { SystemClock } from '../../src/util/index.js';
import { tempDir } from '../helpers/tmp.js';
import { readWav, startBaresip, type Baresip } from './lib/baresip.js';
import { stopAll, waitFor } from './lib/process.js';
import { nextIncomingCall } from './lib/rtc-wait.js';

const HOST = '127.0.0.1';
const OUR_HZ = 1000;
const BARESIP_HZ = 600;
/** How much call audio each test waits for: 150 packets of 20 ms. */
const CALL_PACKETS = 150;
const base = 47000 + Math.floor(Math.random() * 300) * 10;
const dir = tempDir('dpa-audio-');
const micPath = join(dir, 'mic-1khz.wav');
let speakerPath = join(dir, 'unused.wav');
let bob: Baresip;
let client: RtcClient;
/** Our media.codecs for the next call, in order of preference. */
let ourCodecs: string[] = ['PCMU', 'PCMA'];
const dtmfHeard: Array<{ session: string; digit: string }> = [];
const mediaEvents: MediaChanged[] = [];
const qualityEvents: CallQualityChanged[] = [];

before(async () => {
  const sine = new SineSource({ frequencyHz: OUR_HZ, sampleRateHz: 8000, amplitude: 8000 });
  writeFileSync(micPath, encodeWav(sine.next(8000 * 20), 8000));
  bob = await startBaresip({
    address: HOST, sipPort: base + 1, consPort: base + 50, rtpPorts: [base + 100, base + 199], toneHz: BARESIP_HZ, extraConfig: ['rtcp_mux yes'],
    account: `<sip:bob@${HOST}>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA,G722/16000/1,opus/48000/2`,
    codecModules: ['g711', 'g722', 'opus'],
  });
  client = await RtcClient.start({
    clock: new SystemClock(), addresses: [HOST], sipPort: 0, transports: ['UDP'], timers: () => DEFAULT_TIMERS, userAgent: 'deskphone-agent-test',
    portManager: new LocalPortManager(() => HOST), localAddress: HOST,
    media: () => ({
      localAddress: HOST, portMin: base + 200, portMax: base + 299, codecs: ourCodecs, ptimeMs: 20,
      capture: `file:${micPath}`, playback: `file:${speakerPath}`,
    }),
    calls: () => ({ acceptOnlyFromProxy: false, allowDirectIpCalls: true, callWaiting: true, doNotDisturb: false, sessionExpiresS: 0 }),
    onLog: (err, ctx) => process.env['DEBUG_RTC'] && console.error(`# ${ctx}: ${err instanceof Error ? err.message : String(err)}`),
  });
  client.events.on('dtmfReceived', (e) => dtmfHeard.push(e));
  client.events.on('mediaChanged', (e) => mediaEvents.push(e));
  client.events.on('callQuality', (e) => qualityEvents.push(e));
});

after(async () => {
  await client?.close();
  await stopAll();
  if (bob) rmSync(bob.dir, { recursive: true, force: true });
});

function waitState(s: Session, state: SessionState, timeoutMs = 10_000): Promise<void> {
  return waitFor(`call ${s.id} to be ${state} (now ${s.state})`, () => s.state === state, timeoutMs);
}

/** baresip's log from `from` on (each test looks only at what its own call logged). */
const logSince = (from: number): string => bob.process.output().slice(from);

/** The digits of the telephone-events baresip took as new presses since `from`. */
const baresipDigits = (from: number): string => [...logSince(from).matchAll(/received event: '(.)' \(end=0\)/g)].map((m) => m[1]).join('');

/** Waits for `packets` of call audio each way, for at most `timeoutMs`. */
async function waitForAudio(s: Session, packets = CALL_PACKETS, timeoutMs = 8000): Promise<void> {
  await waitFor(`${packets} RTP packets each way (now ${JSON.stringify(s.media?.counters)})`, () => {
    const c = s.media?.counters;
    return c !== undefined && c.sent >= packets && c.received >= packets;
  }, timeoutMs);
}

/** A WAV file's RIFF size is patched when the writer closes it: until then it is 0. */
async function waitForClosedWav(path: string): Promise<void> {
  await waitFor(`${path} to be closed`, () => statSync(path, { throwIfNoEntry: false }) !== undefined && readFileSync(path).readUInt32LE(4) > 36, 5000);
}

/** baresip's newest recording of what it decoded, once sndfile closed it at the end of the call. */
async function baresipHeard(known: readonly string[]): Promise<{ samples: Int16Array; rateHz: number }> {
  let file: string | undefined;
  await waitFor('baresip\'s new *-dec.wav, closed', () => {
    file = readdirSync(bob.dir).find((n) => n.endsWith('-dec.wav') && !known.includes(n));
    return file !== undefined && readFileSync(join(bob.dir, file)).readUInt32LE(4) > 36;
  }, 5000);
  const wav = readWav(readFileSync(join(bob.dir, file as string)));
  assert.ok(wav, `${file} is a WAV file`);
  return wav;
}

function ourRecording(path: string): { samples: Int16Array; rateHz: number } {
  const wav = decodeWav(readFileSync(path));
  return { samples: wav.samples, rateHz: wav.sampleRateHz };
}

const recordings = (): string[] => readdirSync(bob.dir).filter((n) => n.endsWith('-dec.wav'));

/** The steady part of a recording: without the first half second (jitter buffers filling) and the last 100 ms. */
function steady(samples: Int16Array, rateHz: number): Int16Array {
  return samples.subarray(Math.floor(rateHz / 2), Math.max(Math.floor(rateHz / 2), samples.length - Math.floor(rateHz / 10)));
}

function checkTone(what: string, rec: { samples: Int16Array; rateHz: number }, wantHz: number, notHz: number): void {
  const part = steady(rec.samples, rec.rateHz);
  assert.ok(part.length >= rec.rateHz, `${what}: at least 1 s of steady audio, got ${(part.length / rec.rateHz).toFixed(2)} s`);
  const want = goertzelAmplitude(part, wantHz, rec.rateHz);
  const not = goertzelAmplitude(part, notHz, rec.rateHz);
  console.log(`# ${what}: ${wantHz} Hz ${want.toFixed(0)}, ${notHz} Hz ${not.toFixed(0)} (${(rec.samples.length / rec.rateHz).toFixed(2)} s at ${rec.rateHz} Hz)`);
  assert.ok(want > 2000, `${what}: the ${wantHz} Hz tone is there (amplitude ${want.toFixed(0)})`);
  assert.ok(want > 20 * not, `${what}: ${wantHz} Hz ${want.toFixed(0)} dominates ${notHz} Hz ${not.toFixed(0)}`);
}

test('we call baresip by IP: our 1 kHz reaches its recording, its 600 Hz our speaker file, and our "123#" its log', async () => {
  speakerPath = join(dir, 'heard-outgoing.wav');
  ourCodecs = ['PCMU', 'PCMA'];
  const known = recordings();
  const logFrom = bob.process.output().length;
  const s = client.call(`sip:bob@${HOST}:${base + 1}`);
  await waitState(s, 'connected');
  assert.equal(s.media?.negotiated?.codec.name, 'PCMU');
  assert.notEqual(s.media?.negotiated?.telephoneEventPt, undefined, 'baresip accepts telephone-event');
  await waitForAudio(s, 50);
  s.media?.sendDtmf('123#');
  await waitFor(`baresip to log the 4 digits (so far "${baresipDigits(logFrom)}")`, () => baresipDigits(logFrom).length >= 4, 5000);
  assert.equal(baresipDigits(logFrom), '123#');
  await waitForAudio(s);
  const stats = s.media?.audioStats;
  const quality = s.media?.callQuality();
  console.log(`# outgoing call: ${JSON.stringify({ ...stats, send: undefined, receive: undefined })}, MOS ${quality?.mos.toFixed(2)}`);
  s.hangup();
  await waitState(s, 'ended');
  await waitForClosedWav(speakerPath);
  checkTone('baresip heard', await baresipHeard(known), OUR_HZ, BARESIP_HZ);
  checkTone('we heard', ourRecording(speakerPath), BARESIP_HZ, OUR_HZ);
});

test('baresip calls us by IP: we answer, audio flows both ways, and its /sndcode digits come out as dtmfReceived', async () => {
  speakerPath = join(dir, 'heard-incoming.wav');
  ourCodecs = ['PCMU', 'PCMA'];
  const known = recordings();
  const incoming = nextIncomingCall(client, 10_000, () => `baresip said: ${bob.process.output().slice(-1500)}`);
  await bob.command(`/dial sip:alice@${HOST}:${client.sipPort}`);
  const s = await incoming;
  const id = s.id;
  client.answer(id);
  await waitState(s, 'connected');
  await waitForAudio(s, 50);
  const before = dtmfHeard.length;
  await bob.command('/sndcode 4');
  await waitFor('the first digit from baresip', () => dtmfHeard.length > before, 5000);
  await bob.command('/sndcode 7*');
  await waitFor(`3 digits from baresip (so far ${dtmfHeard.length - before})`, () => dtmfHeard.length >= before + 3, 5000);
  assert.deepEqual(dtmfHeard.slice(before).map((e) => e.digit).join(''), '47*');
  assert.ok(dtmfHeard.slice(before).every((e) => e.session === id));
  await waitForAudio(s);
  await bob.command('/hangup');
  await waitState(s, 'ended');
  assert.equal(s.endReason, 'remote-hangup');
  await waitForClosedWav(speakerPath);
  checkTone('baresip heard', await baresipHeard(known), OUR_HZ, BARESIP_HZ);
  checkTone('we heard', ourRecording(speakerPath), BARESIP_HZ, OUR_HZ);
});

/** The codec of the session's last mediaChanged event, and that it agrees with the negotiated SDP. */
function negotiatedCodec(s: Session): string | undefined {
  const event = mediaEvents.filter((e) => e.session === s.id).at(-1);
  assert.equal(event?.codec, s.media?.negotiated?.codec.name, 'the mediaChanged event names the negotiated codec');
  return event?.codec;
}

for (const [codec, sdpName, clockRateHz] of [['G722', 'G722', 8000], ['opus', 'opus', 48000]] as const) {
  test(`${codec} forced, we call baresip: the call negotiates ${sdpName}/${clockRateHz} and each side hears the other's tone`, async () => {
    speakerPath = join(dir, `heard-outgoing-${codec}.wav`);
    ourCodecs = [codec];
    const known = recordings();
    const logFrom = bob.process.output().length;
    const s = client.call(`sip:bob@${HOST}:${base + 1}`);
    await waitState(s, 'connected');
    assert.equal(negotiatedCodec(s), codec);
    assert.equal(s.media?.negotiated?.codec.clockRateHz, clockRateHz);
    await waitForAudio(s, 50);
    if (codec === 'G722') {
      // baresip offers and accepts telephone-event/8000 only: the G.722 clock, so digits work; with opus they would not share its clock.
      assert.notEqual(s.media?.negotiated?.telephoneEventPt, undefined);
      s.media?.sendDtmf('9*');
      await waitFor(`baresip to log 2 digits (so far "${baresipDigits(logFrom)}")`, () => baresipDigits(logFrom).length >= 2, 5000);
      assert.equal(baresipDigits(logFrom), '9*');
    } else {
      assert.equal(s.media?.negotiated?.telephoneEventPt, undefined, 'baresip has no telephone-event/48000, so no RFC 4733 with opus');
    }
    await waitForAudio(s);
    console.log(`# ${codec} outgoing: ${JSON.stringify({ ...s.media?.audioStats, send: undefined, receive: undefined })}, quality ${JSON.stringify(s.media?.qualityReport())}`);
    assert.equal(s.media?.audioStats?.codec, codec);
    assert.equal(s.media?.audioStats?.receive.undecodable, 0);
    // The first report is due 2.5 s into the call's audio; 150 packets take 3 s.
    const reported = qualityEvents.filter((e) => e.session === s.id);
    assert.ok(reported.length > 0 && reported.every((e) => e.codec === codec && e.mos >= 1 && e.mos <= 4.5), `callQuality events ${JSON.stringify(reported)}`);
    s.hangup();
    await waitState(s, 'ended');
    await waitForClosedWav(speakerPath);
    checkTone(`baresip heard (${codec})`, await baresipHeard(known), OUR_HZ, BARESIP_HZ);
    const heard = ourRecording(speakerPath);
    assert.equal(heard.rateHz, 16000, 'a wideband call plays at 16 kHz');
    checkTone(`we heard (${codec})`, heard, BARESIP_HZ, OUR_HZ);
  });

  test(`${codec} first in our list, baresip calls us: we answer with ${sdpName} and each side hears the other's tone`, async () => {
    speakerPath = join(dir, `heard-incoming-${codec}.wav`);
    ourCodecs = [codec, 'PCMU'];
    const known = recordings();
    const incoming = nextIncomingCall(client, 10_000, () => `baresip said: ${bob.process.output().slice(-1500)}`);
    await bob.command(`/dial sip:alice@${HOST}:${client.sipPort}`);
    const s = await incoming;
    client.answer(s.id);
    await waitState(s, 'connected');
    assert.equal(negotiatedCodec(s), codec, 'our preference wins over baresip\'s PCMU-first offer (RFC 3264 §6.1)');
    await waitForAudio(s);
    assert.equal(s.media?.audioStats?.codec, codec);
    await bob.command('/hangup');
    await waitState(s, 'ended');
    await waitForClosedWav(speakerPath);
    checkTone(`baresip heard (${codec})`, await baresipHeard(known), OUR_HZ, BARESIP_HZ);
    checkTone(`we heard (${codec})`, ourRecording(speakerPath), BARESIP_HZ, OUR_HZ);
  });
}
