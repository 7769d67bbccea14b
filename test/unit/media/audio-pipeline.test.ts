// The audio pipeline driver on a fake clock: two pipelines joined by a fake RTP link (in-memory,
// with optional delay and loss) for the behaviour, and by two real RtpSessions on 127.0.0.1 to
// prove the wiring. Devices are a tone capture paced by the same clock and a recording playback.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  AudioPipeline, RtpSession, callQuality, decodeRtp, goertzelAmplitude, openCapture, parseRtcp,
  type AudioPipelineOptions, type AudioPlayback, type AudioPlaybackEvents, type AudioRtp, type RtpSessionCounters, type RtpSessionEvents,
} from '../../../src/media/index.js';
import { RtpPacketizer } from '../../../src/media/rtp-packetizer.js';
import { RtpReceptionStats } from '../../../src/media/rtp-reception-stats.js';
import { FakeClock, TypedEmitter } from '../../../src/util/index.js';

const PCMU = { name: 'PCMU', payloadType: 0 } as const;
const EVENT_PT = 101;

class RecordingPlayback implements AudioPlayback {
  readonly sampleRateHz = 8000;
  readonly samplesPerFrame = 80;
  readonly events = new TypedEmitter<AudioPlaybackEvents>();
  readonly bufferedMs = 0;
  readonly frames: Int16Array[] = [];
  closed = false;
  async start(): Promise<void> {}
  write(frame: Int16Array): void {
    assert.equal(frame.length, 80, 'playback gets 10 ms frames');
    this.frames.push(frame.slice());
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  stats() {
    return { frames: this.frames.length, dropped: 0, restarts: 0, underruns: 0 };
  }
  /** Everything played after the first `skipMs`. */
  samples(skipMs = 0): Int16Array {
    const frames = this.frames.slice(skipMs / 10);
    const out = new Int16Array(frames.length * 80);
    frames.forEach((f, i) => out.set(f, i * 80));
    return out;
  }
}

/** One end of an in-memory link: what RtpSession does for the pipeline, without a socket. */
class FakeRtp implements AudioRtp {
  readonly events = new TypedEmitter<RtpSessionEvents>((err) => assert.fail(String(err)));
  readonly ssrc: number;
  peer: FakeRtp | undefined;
  /** Every RTP packet sent, as payload type and marker. */
  readonly log: Array<{ pt: number; marker: boolean; timestamp: number }> = [];
  private readonly packetizer: RtpPacketizer;
  private readonly reception = new RtpReceptionStats(8000);
  private received = 0;

  constructor(
    private readonly clock: FakeClock,
    ssrc: number,
    private readonly network: { delayMs: number; drop?: (n: number) => boolean },
  ) {
    this.ssrc = ssrc;
    this.packetizer = new RtpPacketizer({ ssrc, sequenceNumber: 100, timestamp: 5000 }, 0);
  }

  get counters(): RtpSessionCounters {
    return { sent: this.packetizer.packetCount, received: this.received, lost: this.reception.snapshot().lost, duplicates: 0, rejected: 0, malformed: 0 };
  }
  get jitterMs(): number {
    return this.reception.jitterMs;
  }
  get sending() {
    return { packetCount: this.packetizer.packetCount, octetCount: this.packetizer.octetCount, nextTimestamp: this.packetizer.nextTimestamp };
  }
  send(payload: Uint8Array, samples: number, marker = false, payloadType?: number): void {
    const bytes = this.packetizer.packetize(payload, samples, marker, payloadType);
    const n = this.log.push({ pt: payloadType ?? 0, marker, timestamp: this.packetizer.nextTimestamp - samples });
    if (this.network.drop?.(n - 1)) return;
    this.deliver(() => this.peer?.onRtp(bytes));
  }
  skip(samples: number): void {
    this.packetizer.advanceTimestamp(samples);
  }
  sendRtcp(bytes: Uint8Array): void {
    const packets = parseRtcp(bytes);
    assert.ok(Array.isArray(packets));
    this.deliver(() => this.peer?.events.emit('rtcp', { packets, from: { address: '127.0.0.1', port: 1 } }));
  }
  private deliver(fn: () => void): void {
    if (this.network.delayMs === 0) fn();
    else this.clock.setTimer(this.network.delayMs, fn);
  }
  private onRtp(bytes: Uint8Array): void {
    const p = decodeRtp(bytes);
    assert.ok(!(p instanceof Error));
    const arrivalMs = this.clock.now();
    this.reception.receive(p.sequenceNumber, p.timestamp, arrivalMs);
    this.received++;
    this.events.emit('packet', { ...p, from: { address: '127.0.0.1', port: 1 }, arrivalMs });
  }
}

type End = { pipeline: AudioPipeline; rtp: FakeRtp; playback: RecordingPlayback };

async function call(t: TestContext, opts: { delayMs?: number; dropAtoB?: (n: number) => boolean; extra?: Partial<AudioPipelineOptions> } = {}) {
  const clock = new FakeClock(1000);
  const end = async (ssrc: number, toneHz: number, drop?: (n: number) => boolean): Promise<End> => {
    const rtp = new FakeRtp(clock, ssrc, { delayMs: opts.delayMs ?? 0, ...(drop ? { drop } : {}) });
    const playback = new RecordingPlayback();
    const pipeline = new AudioPipeline({
      clock, rtp, playback, codec: PCMU, telephoneEventPt: EVENT_PT, ptimeMs: 20, wallClockMs: () => 1_700_000_000_000,
      capture: openCapture(`tone:${toneHz}`, { sampleRateHz: 8000, clock }),
      onListenerError: (err) => assert.fail(String(err)),
      ...opts.extra,
    });
    pipeline.events.on('error', (e) => assert.fail(`${e.context}: ${String(e.error)}`));
    t.after(() => pipeline.close());
    return { pipeline, rtp, playback };
  };
  const a = await end(0xa, 1000, opts.dropAtoB);
  const b = await end(0xb, 600);
  a.rtp.peer = b.rtp;
  b.rtp.peer = a.rtp;
  await Promise.all([a.pipeline.start(), b.pipeline.start()]);
  return { clock, a, b };
}

const tone = (samples: Int16Array, hz: number): number => goertzelAmplitude(samples, hz, 8000);

test('carries each side\'s microphone to the other\'s speaker: 20 ms µ-law packets out, 10 ms frames played', async (t) => {
  const { clock, a, b } = await call(t);
  clock.advance(1000);
  assert.equal(a.rtp.counters.sent, 50);
  assert.ok(a.rtp.log.every((p) => p.pt === 0));
  assert.ok(a.rtp.log.slice(1).every((p, i) => p.timestamp === (a.rtp.log[i] as { timestamp: number }).timestamp + 160), 'one ptime apart');
  const atB = b.playback.samples(200);
  const atA = a.playback.samples(200);
  assert.ok(tone(atB, 1000) > 5000 && tone(atB, 600) < 200, `B hears A's 1 kHz (${tone(atB, 1000).toFixed(0)}) and not its own 600 Hz`);
  assert.ok(tone(atA, 600) > 5000 && tone(atA, 1000) < 200, `A hears B's 600 Hz (${tone(atA, 600).toFixed(0)})`);
  assert.equal(b.playback.frames.length, 100, 'one 10 ms frame per 10 ms, silence until the buffer fills');
  const s = b.pipeline.stats();
  assert.equal(s.received, 50);
  assert.equal(s.lost, 0);
  assert.equal(s.concealed, 0);
  assert.ok(s.send.captureUnderruns <= 1, 'only the first tick can come before the capture\'s second frame');
});

test('one timer per call: the media pacer paces the tone capture, sending and playout (the RTCP timer beside it)', async (t) => {
  const { clock, a, b } = await call(t);
  clock.advance(1000);
  assert.equal(clock.pending, 4, 'two pipelines × (media pacer + RTCP timer)');
  assert.equal(a.rtp.counters.sent, 50);
  assert.equal(b.playback.frames.length, 100);
  assert.equal(a.pipeline.stats().send.captureUnderruns, 0, 'each tick pulls the ptime it sends');
});

test('sendDtmf("123#"): telephone-events take the place of audio packets and the far side emits each digit once', async (t) => {
  const { clock, a, b } = await call(t);
  const digits: string[] = [];
  b.pipeline.events.on('dtmf', (e) => digits.push(e.digit));
  clock.advance(100);
  a.pipeline.sendDtmf('123#');
  clock.advance(2000);
  assert.deepEqual(digits, ['1', '2', '3', '#']);
  assert.equal(a.pipeline.pendingDtmf, 0);
  const pts = a.rtp.log.map((p) => (p.pt === EVENT_PT ? 'E' : 'a')).join('');
  // Four events of 7 packets each, at least 60 ms (3 packets) of audio between them: no audio inside an event.
  assert.match(pts, /^a+E{7}a{3,}E{7}a{3,}E{7}a{3,}E{7}a+$/);
  assert.deepEqual(a.pipeline.stats().dtmfSent, 4);
  assert.deepEqual(b.pipeline.stats().dtmfReceived, 4);
  assert.equal(b.pipeline.stats().receive.jitterBuffer.lost, 0, 'the events are not audio loss');
});

test('a packet lost on the way is concealed, and counted lost and concealed', async (t) => {
  const { clock, b } = await call(t, { dropAtoB: (n) => n === 20 });
  clock.advance(1000);
  const s = b.pipeline.stats();
  assert.equal(s.lost, 1);
  assert.equal(s.receive.jitterBuffer.lost, 1);
  assert.equal(s.concealed, 1);
  const lossless = callQuality({ rttMs: 0, jitterMs: 0, lossPercent: 0, codec: 'PCMU', plc: true, jitterBufferDelayMs: s.currentDelayMs });
  assert.ok(b.pipeline.callQuality().mos < lossless.mos, 'the loss lowers the estimate');
});

test('RTCP every 5 s: SRs both ways give each side the round-trip time', async (t) => {
  const { clock, a, b } = await call(t, { delayMs: 30 });
  clock.advance(2600);
  assert.equal(a.pipeline.stats().rtcpSent, 1, 'the first report after half an interval');
  assert.equal(a.pipeline.stats().rttMs, undefined, 'the peer had no SR of ours to report on yet');
  clock.advance(5000);
  for (const end of [a, b]) {
    const s = end.pipeline.stats();
    assert.equal(s.rtcpSent, 2);
    assert.ok(s.rttMs !== undefined && Math.abs(s.rttMs - 60) < 1, `RTT ${s.rttMs} ms over a 30 ms link`);
    const q = end.pipeline.callQuality();
    assert.ok(q.oneWayDelayMs >= 30 + 20, `one-way delay ${q.oneWayDelayMs} ms counts half the RTT and a frame`);
    assert.ok(q.mos > 4 && q.mos <= 4.5);
  }
});

test('on hold no packets go out; on resume the timestamp moves on by the time on hold', async (t) => {
  const { clock, a } = await call(t);
  clock.advance(200);
  a.pipeline.setDirection(false, true);
  const before = a.rtp.counters.sent;
  clock.advance(1000);
  assert.equal(a.rtp.counters.sent, before);
  a.pipeline.setDirection(true, true);
  clock.advance(20);
  const [last, next] = a.rtp.log.slice(-2);
  assert.equal((next?.timestamp ?? 0) - (last?.timestamp ?? 0), 8 * 1020);
});

test('close() stops its pacers and timers, sends RTCP BYE and closes both devices', async (t) => {
  const { clock, a, b } = await call(t);
  const rtcp: string[] = [];
  b.rtp.events.on('rtcp', (r) => rtcp.push(r.packets.map((p) => p.type).join(',')));
  clock.advance(500);
  await a.pipeline.close();
  await b.pipeline.close();
  assert.deepEqual(rtcp, ['rr,sdes,bye']);
  assert.equal(clock.pending, 0, 'no timer left: pacers, RTCP and the paced capture all stopped');
  assert.ok(a.playback.closed && b.playback.closed);
  assert.throws(() => a.pipeline.sendDtmf('1'), /closed/);
});

test('two real RtpSessions on 127.0.0.1 carry the audio between two pipelines', async (t) => {
  const clock = new FakeClock(0);
  const open = async (): Promise<RtpSession> => {
    const s = await RtpSession.open({ localAddress: '127.0.0.1', localPort: 0, remote: { address: '127.0.0.1', port: 9 }, payloadTypes: [0, EVENT_PT], clock });
    t.after(() => s.close());
    return s;
  };
  const [ra, rb] = [await open(), await open()];
  ra.setRemote(rb.local, [0, EVENT_PT]);
  rb.setRemote(ra.local, [0, EVENT_PT]);
  const pipe = (rtp: RtpSession, hz: number, playback: RecordingPlayback): AudioPipeline => {
    const p = new AudioPipeline({ clock, rtp, playback, codec: PCMU, telephoneEventPt: EVENT_PT, ptimeMs: 20, capture: openCapture(`tone:${hz}`, { sampleRateHz: 8000, clock }) });
    t.after(() => p.close());
    return p;
  };
  const [pa, pb] = [new RecordingPlayback(), new RecordingPlayback()];
  const a = pipe(ra, 1000, pa);
  const b = pipe(rb, 600, pb);
  const digits: string[] = [];
  b.events.on('dtmf', (e) => digits.push(e.digit));
  await Promise.all([a.start(), b.start()]);
  a.sendDtmf('9');
  for (let i = 0; i < 50; i++) {
    clock.advance(20);
    // The datagrams of this tick reach the other socket before the clock moves on.
    const deadline = Date.now() + 2000;
    while (ra.counters.received < rb.counters.sent || rb.counters.received < ra.counters.sent) {
      assert.ok(Date.now() < deadline, `packets stuck: ${ra.counters.received}/${rb.counters.sent}, ${rb.counters.received}/${ra.counters.sent}`);
      await new Promise((r) => setImmediate(r));
    }
  }
  assert.deepEqual(digits, ['9']);
  assert.ok(tone(pb.samples(400), 1000) > 3000, 'B played A\'s tone');
  assert.ok(tone(pa.samples(400), 600) > 3000, 'A played B\'s tone');
});
