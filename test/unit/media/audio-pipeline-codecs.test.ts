// Every codec a call can negotiate, end to end through two pipelines on a fake clock: tone
// capture → encode → RTP (real packetizer and parser) → jitter buffer → decode → speaker, with
// the tone measured by Goertzel at the far end; DTMF in each codec's RTP clock; devices at
// 8 and 16 kHz, so the resampling both ways is in the path; a codec change in mid-call.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  AudioPipeline, decodeRtp, goertzelAmplitude, openCapture, parseRtcp,
  type AudioCodec, type AudioPlayback, type AudioPlaybackEvents, type AudioQualityReport, type AudioRtp, type AudioSampleRateHz,
  type RtpSessionCounters, type RtpSessionEvents,
} from '../../../src/media/index.js';
import { Resampler } from '../../../src/media/audio-pipeline-resampler.js';
import { RtpPacketizer } from '../../../src/media/rtp-packetizer.js';
import { FakeClock, TypedEmitter } from '../../../src/util/index.js';

const EVENT_PT = 101;
const CODECS: Record<AudioCodec['name'], AudioCodec & { clockRateHz: number }> = {
  PCMU: { name: 'PCMU', payloadType: 0, clockRateHz: 8000 },
  PCMA: { name: 'PCMA', payloadType: 8, clockRateHz: 8000 },
  G722: { name: 'G722', payloadType: 9, clockRateHz: 8000 },
  opus: { name: 'opus', payloadType: 111, clockRateHz: 48000 },
};

class RecordingPlayback implements AudioPlayback {
  readonly samplesPerFrame: number;
  readonly events = new TypedEmitter<AudioPlaybackEvents>();
  readonly bufferedMs = 0;
  readonly frames: Int16Array[] = [];
  constructor(readonly sampleRateHz: AudioSampleRateHz) {
    this.samplesPerFrame = sampleRateHz / 100;
  }
  async start(): Promise<void> {}
  write(frame: Int16Array): void {
    assert.equal(frame.length, this.samplesPerFrame, 'playback gets 10 ms frames at its own rate');
    this.frames.push(frame.slice());
  }
  async close(): Promise<void> {}
  stats() {
    return { frames: this.frames.length, dropped: 0, restarts: 0, underruns: 0 };
  }
  /** What was played from `fromMs` for `ms` milliseconds. */
  window(fromMs: number, ms: number): Int16Array {
    const frames = this.frames.slice(fromMs / 10, (fromMs + ms) / 10);
    const out = new Int16Array(frames.length * this.samplesPerFrame);
    frames.forEach((f, i) => out.set(f, i * this.samplesPerFrame));
    return out;
  }
}

/** An in-memory RTP link: real RTP bytes each way, so the payload types, timestamps and markers are what goes on the wire. */
class FakeRtp implements AudioRtp {
  readonly events = new TypedEmitter<RtpSessionEvents>((err) => assert.fail(String(err)));
  peer: FakeRtp | undefined;
  readonly log: Array<{ pt: number; timestamp: number; bytes: number }> = [];
  /** Rewrites a payload on its way out (a corrupting network), by packet number. */
  corrupt: ((n: number, payload: Uint8Array) => Uint8Array) | undefined;
  /** Loses packets on the way, by packet number. */
  drop: ((n: number) => boolean) | undefined;
  private readonly packetizer: RtpPacketizer;
  private received = 0;

  constructor(readonly ssrc: number) {
    this.packetizer = new RtpPacketizer({ ssrc, sequenceNumber: 100, timestamp: 5000 }, 0);
  }
  get counters(): RtpSessionCounters {
    return { sent: this.packetizer.packetCount, received: this.received, lost: 0, duplicates: 0, rejected: 0, malformed: 0 };
  }
  get jitterMs(): number {
    return 0;
  }
  get sending() {
    return { packetCount: this.packetizer.packetCount, octetCount: this.packetizer.octetCount, nextTimestamp: this.packetizer.nextTimestamp };
  }
  send(payload: Uint8Array, samples: number, marker = false, payloadType?: number): void {
    const n = this.log.push({ pt: payloadType ?? 0, timestamp: this.packetizer.nextTimestamp, bytes: payload.length });
    const bytes = this.packetizer.packetize(this.corrupt?.(n - 1, payload) ?? payload, samples, marker, payloadType);
    if (!this.drop?.(n - 1)) this.peer?.onRtp(bytes);
  }
  skip(samples: number): void {
    this.packetizer.advanceTimestamp(samples);
  }
  sendRtcp(bytes: Uint8Array): void {
    const packets = parseRtcp(bytes);
    assert.ok(Array.isArray(packets));
    this.peer?.events.emit('rtcp', { packets, from: { address: '127.0.0.1', port: 1 } });
  }
  clockNow: () => number = () => 0;
  private onRtp(bytes: Uint8Array): void {
    const p = decodeRtp(bytes);
    assert.ok(!(p instanceof Error));
    this.received++;
    this.events.emit('packet', { ...p, from: { address: '127.0.0.1', port: 1 }, arrivalMs: this.clockNow() });
  }
}

type End = { pipeline: AudioPipeline; rtp: FakeRtp; playback: RecordingPlayback };

async function call(t: TestContext, codec: AudioCodec, rateHz: AudioSampleRateHz, ptimeMs = 20, rtcpIntervalMs?: number) {
  const clock = new FakeClock(1000);
  const end = (ssrc: number, toneHz: number): End => {
    const rtp = new FakeRtp(ssrc);
    rtp.clockNow = () => clock.now();
    const playback = new RecordingPlayback(rateHz);
    const pipeline = new AudioPipeline({
      clock, rtp, playback, codec, telephoneEventPt: EVENT_PT, ptimeMs, wallClockMs: () => 1_700_000_000_000,
      ...(rtcpIntervalMs === undefined ? {} : { rtcpIntervalMs }),
      capture: openCapture(`tone:${toneHz}`, { sampleRateHz: rateHz, clock }),
      onListenerError: (err) => assert.fail(String(err)),
    });
    pipeline.events.on('error', (e) => assert.fail(`${e.context}: ${String(e.error)}`));
    t.after(() => pipeline.close());
    return { pipeline, rtp, playback };
  };
  const a = end(0xa, 1000);
  const b = end(0xb, 600);
  a.rtp.peer = b.rtp;
  b.rtp.peer = a.rtp;
  await Promise.all([a.pipeline.start(), b.pipeline.start()]);
  return { clock, a, b };
}

function assertHears(end: End, hz: number, notHz: number, label: string, fromMs = 500, ms = 500): void {
  const pcm = end.playback.window(fromMs, ms);
  const rate = end.playback.sampleRateHz;
  const wanted = goertzelAmplitude(pcm, hz, rate);
  const other = goertzelAmplitude(pcm, notHz, rate);
  assert.ok(wanted > 3000, `${label}: ${hz} Hz heard at ${wanted.toFixed(0)}`);
  assert.ok(other < wanted / 20, `${label}: ${notHz} Hz (its own tone) at ${other.toFixed(0)}, not echoed`);
}

const CASES: Array<[AudioCodec['name'], AudioSampleRateHz, number]> = [
  ['PCMU', 8000, 160], ['PCMA', 16000, 160], ['G722', 16000, 160], ['G722', 8000, 160], ['opus', 16000, 0], ['opus', 8000, 0],
];
for (const [name, rateHz, payloadBytes] of CASES) {
  test(`${name} with devices at ${rateHz / 1000} kHz: each side hears the other's tone, timestamps count ${CODECS[name].clockRateHz} Hz`, async (t) => {
    const codec = CODECS[name];
    const { clock, a, b } = await call(t, codec, rateHz);
    clock.advance(1000);
    assert.equal(a.rtp.counters.sent, 50);
    assert.ok(a.rtp.log.every((p) => p.pt === codec.payloadType));
    const step = (codec.clockRateHz * 20) / 1000;
    assert.ok(a.rtp.log.slice(1).every((p, i) => p.timestamp === (a.rtp.log[i] as { timestamp: number }).timestamp + step), `one ptime (${step}) apart`);
    if (payloadBytes > 0) assert.ok(a.rtp.log.every((p) => p.bytes === payloadBytes), `${payloadBytes} octets per 20 ms`);
    else assert.ok(a.rtp.log.every((p) => p.bytes > 0 && p.bytes < 400), 'Opus packets of a sane size');
    assertHears(b, 1000, 600, 'B');
    assertHears(a, 600, 1000, 'A');
    assert.equal(b.playback.frames.length, 100, 'one 10 ms frame per 10 ms');
    const s = b.pipeline.stats();
    assert.equal(s.codec, name);
    assert.equal(s.received, 50);
    assert.equal(s.concealed, 0);
    assert.equal(s.receive.undecodable, 0);
  });

  test(`${name} with devices at ${rateHz / 1000} kHz: RFC 4733 digits arrive, timed in the codec's clock`, async (t) => {
    const codec = CODECS[name];
    const { clock, a, b } = await call(t, codec, rateHz);
    const digits: string[] = [];
    b.pipeline.events.on('dtmf', (e) => digits.push(e.digit));
    clock.advance(100);
    a.pipeline.sendDtmf('159#');
    clock.advance(2000);
    assert.deepEqual(digits, ['1', '5', '9', '#']);
    const events = a.rtp.log.filter((p) => p.pt === EVENT_PT);
    assert.equal(events.length, 28, 'seven packets per digit');
    const audio = a.rtp.log.filter((p) => p.pt === codec.payloadType);
    const firstEvent = a.rtp.log.findIndex((p) => p.pt === EVENT_PT);
    const before = a.rtp.log[firstEvent - 1] as { timestamp: number };
    const event = a.rtp.log[firstEvent] as { timestamp: number };
    assert.equal(event.timestamp - before.timestamp, (codec.clockRateHz * 20) / 1000, 'the event starts one packet after the audio, in the same clock');
    assert.ok(audio.length > 0);
    assertHears(b, 1000, 600, 'B after the digits', 1800, 300);
  });
}

test('a codec change in mid-call (PCMU → G.722 → opus, devices at 8 kHz) keeps the tone flowing both ways', async (t) => {
  const { clock, a, b } = await call(t, CODECS.PCMU, 8000);
  clock.advance(600);
  assertHears(b, 1000, 600, 'B on PCMU', 300, 300);
  for (const next of [CODECS.G722, CODECS.opus]) {
    a.pipeline.setCodec(next, EVENT_PT);
    b.pipeline.setCodec(next, EVENT_PT);
    const at = (clock.now() - 1000);
    clock.advance(800);
    assert.equal(a.rtp.log.at(-1)?.pt, next.payloadType);
    assert.equal(b.pipeline.stats().codec, next.name);
    assertHears(b, 1000, 600, `B on ${next.name}`, at + 400, 300);
    assertHears(a, 600, 1000, `A on ${next.name}`, at + 400, 300);
  }
});

test('a change to Opus at a ptime Opus has no frame for (30 ms) is refused and the call keeps its codec', async (t) => {
  const { clock, a, b } = await call(t, CODECS.PCMU, 8000, 30);
  clock.advance(300);
  assert.throws(() => a.pipeline.setCodec(CODECS.opus, EVENT_PT), RangeError);
  clock.advance(600);
  assert.equal(a.pipeline.stats().codec, 'PCMU');
  assert.equal(a.rtp.log.at(-1)?.pt, 0);
  assertHears(b, 1000, 600, 'B still on PCMU', 500, 300);
});

for (const name of ['G722', 'opus'] as const) {
  test(`a lost ${name} packet is concealed and the tone carries on through the gap`, async (t) => {
    const { clock, a, b } = await call(t, CODECS[name], 16000);
    a.rtp.drop = (n) => n === 30;
    clock.advance(1000);
    const s = b.pipeline.stats();
    assert.equal(s.receive.jitterBuffer.lost, 1);
    assert.equal(s.concealed, 1);
    // The gap is somewhere in 600..700 ms of B's playout (packet 30 plus the buffer's delay): every 20 ms there still holds the tone.
    for (let at = 600; at < 700; at += 20) {
      const level = goertzelAmplitude(b.playback.window(at, 20), 1000, 16000);
      assert.ok(level > 1500, `${name}: 1 kHz at ${level.toFixed(0)} in ${at}..${at + 20} ms`);
    }
  });
}

test('a corrupt Opus packet is concealed and counted, and the call goes on', async (t) => {
  const { clock, a, b } = await call(t, CODECS.opus, 16000);
  a.rtp.corrupt = (n, payload) => (n === 25 ? Uint8Array.of(0xff, 0xff, 0xff) : payload);
  clock.advance(1000);
  const s = b.pipeline.stats();
  assert.equal(s.receive.undecodable, 1);
  assertHears(b, 1000, 600, 'B after the bad packet', 600, 400);
});

test('the quality event comes with every RTCP report and names the codec, jitter, loss, RTT and MOS', async (t) => {
  const { clock, a, b } = await call(t, CODECS.G722, 16000);
  const reports: AudioQualityReport[] = [];
  a.pipeline.events.on('quality', (q) => reports.push(q));
  clock.advance(2600);
  assert.equal(reports.length, 1);
  clock.advance(5000);
  assert.equal(reports.length, 2);
  const last = reports[1] as AudioQualityReport;
  assert.equal(last.codec, 'G722');
  assert.equal(last.lossPercent, 0);
  assert.equal(last.jitterMs, 0, 'a link without delay variation');
  assert.ok(last.rttMs !== undefined && last.rttMs < 1, `RTT ${last.rttMs} ms on an instant link`);
  assert.ok(last.mos > 4 && last.mos <= 4.5, `MOS ${last.mos}`);
  assert.deepEqual(a.pipeline.qualityReport(), last);
  assert.ok(b.pipeline.qualityReport().mos > 4);
});

test('without RTCP (no rtcp-mux) the quality event still comes every 5 s, without an RTT', async (t) => {
  const { clock, a } = await call(t, CODECS.opus, 16000, 20, 0);
  const reports: AudioQualityReport[] = [];
  a.pipeline.events.on('quality', (q) => reports.push(q));
  clock.advance(12_600);
  assert.equal(reports.length, 3);
  assert.equal(a.pipeline.stats().rtcpSent, 0);
  assert.ok(reports.every((q) => q.codec === 'opus' && q.rttMs === undefined && q.mos > 3.5));
});

test('the resampler keeps a speech-band tone and removes what would alias', () => {
  const sine = (hz: number, rate: number, n: number) => Int16Array.from({ length: n }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * hz * i) / rate)));
  for (const hz of [300, 1000, 3000]) {
    const up = new Resampler(8000, 16000);
    const out = new Int16Array(3200);
    for (let i = 0; i < 20; i++) out.set(up.process(sine(hz, 8000, 1600).subarray(i * 80, i * 80 + 80)), i * 160);
    const level = goertzelAmplitude(out.subarray(800), hz, 16000);
    assert.ok(Math.abs(level - 10000) < 150, `${hz} Hz up to 16 kHz at ${level.toFixed(0)} of 10000`);
    assert.ok(goertzelAmplitude(out.subarray(800), 8000 - hz, 16000) < 10, `no image at ${8000 - hz} Hz`);
    const down = new Resampler(16000, 8000);
    const back = down.process(sine(hz, 16000, 3200));
    assert.ok(Math.abs(goertzelAmplitude(back.subarray(400), hz, 8000) - 10000) < 150, `${hz} Hz down to 8 kHz`);
  }
  // 6 kHz at 16 kHz would fold to 2 kHz at 8 kHz.
  const aliased = new Resampler(16000, 8000).process(sine(6000, 16000, 3200));
  assert.ok(goertzelAmplitude(aliased.subarray(400), 2000, 8000) < 10, '6 kHz does not come back as 2 kHz');
  assert.throws(() => new Resampler(16000, 8000).process(new Int16Array(3)), RangeError);
  const same = new Int16Array(80);
  assert.equal(new Resampler(8000, 8000).process(same), same);
});
