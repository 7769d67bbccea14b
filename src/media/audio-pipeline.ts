// One call's audio path. Send: microphone frames (10 ms) → one packet per ptime → the
// negotiated codec (G.711, G.722 or Opus, resampled between the device's and the codec's rate
// where they differ) → RTP,
// on PacketPacer's absolute schedule, with RFC 4733 key presses in place of audio while they
// are sent. Receive: RTP → telephone-event to the DTMF receiver, audio to the jitter buffer →
// one frame per packet time decoded or concealed → speaker. RTCP SR/RR on the RTP port
// (RFC 5761) gives the round-trip time, and the E-model (G.107) rates the call.
//
// The decisions live in pure pieces (audio-pipeline-sender/-receiver/-rtcp.ts and what they
// use); this driver wires them to the clock, the RTP session and the devices. It owns the
// devices it is given, its pacers and its timer; the RTP session belongs to the caller.
//
// One timer per call: the media pacer's tick pulls one ptime from a capture that lets its
// consumer pace it (tone, null, file), sends it, and plays one frame while the peer's packet
// time is ours; a capture with a clock of its own (ALSA) pushes its frames, and a peer with
// another packet time gets a playout pacer of its own. Wake-ups, not the work done in them,
// are most of a call's CPU.
import { randomBytes } from 'node:crypto';
import { TypedEmitter, type Clock, type TimerHandle } from '../util/index.js';
import { AudioReceivePath, type AudioJitterOptions, type AudioReceiveStats } from './audio-pipeline-receiver.js';
import { RtcpReporter } from './audio-pipeline-rtcp.js';
import { AudioPipelineError, AudioSendPath, type AudioCodec, type AudioCodecName, type AudioSendStats } from './audio-pipeline-sender.js';
import { AUDIO_FRAME_MS, type AudioCapture, type AudioPlayback } from './audio-types.js';
import { callQuality, type CallQuality } from './e-model.js';
import { PacketPacer, type PacerTick } from './packet-pacer.js';
import type { ReceivedRtpPacket, RtpSession } from './rtp-session.js';
import type { DtmfDigit } from './telephone-event.js';

export { AudioPipelineError, type AudioPipelineErrorCode, type AudioCodec, type AudioCodecName } from './audio-pipeline-sender.js';
export type { AudioJitterOptions } from './audio-pipeline-receiver.js';

/** What the pipeline uses of an RtpSession (tests pass a fake link). */
export type AudioRtp = Pick<RtpSession, 'events' | 'ssrc' | 'counters' | 'jitterMs' | 'sending' | 'send' | 'skip' | 'sendRtcp'>;

const NO_SAMPLES = new Int16Array(0);

/** RFC 3550 §6.2 allows a fixed 5 s minimum interval; with two participants that is the interval. */
export const RTCP_INTERVAL_MS = 5000;

export interface AudioPipelineOptions {
  readonly clock: Clock;
  readonly rtp: AudioRtp;
  /** The microphone and the speaker: the pipeline owns them from here on and closes them. */
  readonly capture: AudioCapture;
  readonly playback: AudioPlayback;
  readonly codec: AudioCodec;
  /** The peer's telephone-event payload type, at the codec's RTP clock rate; without one, sendDtmf() throws. */
  readonly telephoneEventPt?: number;
  readonly ptimeMs: number;
  /** RTCP report interval; 0 sends none (RTCP not multiplexed, so no socket for it). Default 5000. */
  readonly rtcpIntervalMs?: number;
  /** RFC 7022: a random CNAME by default. */
  readonly cname?: string;
  /** Wall-clock ms for the SR's NTP timestamp, read once; default Date.now. */
  readonly wallClockMs?: () => number;
  readonly jitter?: AudioJitterOptions;
  readonly dtmfDurationMs?: number;
  readonly onListenerError?: (err: unknown, event: string) => void;
}

export type AudioPipelineEvents = {
  /** A key press of the peer (RFC 4733), reported on its first packet. */
  dtmf: { readonly digit: DtmfDigit; readonly ssrc: number };
  /** A device or the socket failed; the call goes on, with silence where the audio was. */
  error: { readonly error: unknown; readonly context: string };
  /** The call's quality, with every RTCP report of ours (every RTCP_INTERVAL_MS when RTCP is off). */
  quality: AudioQualityReport;
};

/** What the web page shows of a call's audio: the codec, the network and the E-model's verdict. */
export interface AudioQualityReport {
  readonly codec: AudioCodecName;
  /** RFC 3550 A.8 interarrival jitter of the peer's stream. */
  readonly jitterMs: number;
  /** Network loss plus late packets, of those expected so far. */
  readonly lossPercent: number;
  /** From RTCP; undefined until the peer reported on an SR of ours. */
  readonly rttMs: number | undefined;
  /** G.107 R and MOS (e-model.ts). */
  readonly r: number;
  readonly mos: number;
}

export interface AudioPipelineStats {
  readonly codec: AudioCodecName;
  /** RTP packets sent, audio and telephone-event. */
  readonly sent: number;
  readonly received: number;
  /** RFC 3550 A.3: lost in the network. */
  readonly lost: number;
  /** Arrived after their frame was played. */
  readonly late: number;
  /** Frames played from the concealer (losses, and frames inserted to grow the delay). */
  readonly concealed: number;
  /** RFC 3550 A.8 interarrival jitter. */
  readonly jitterMs: number;
  /** The jitter buffer's delay plus what waits in the playback device. */
  readonly currentDelayMs: number;
  /** From RTCP; undefined until the peer reported on an SR of ours. */
  readonly rttMs: number | undefined;
  readonly dtmfSent: number;
  readonly dtmfReceived: number;
  readonly rtcpSent: number;
  readonly rtcpReceived: number;
  readonly send: AudioSendStats;
  readonly receive: AudioReceiveStats;
}

export class AudioPipeline {
  readonly events: TypedEmitter<AudioPipelineEvents>;
  private readonly clock: Clock;
  private readonly rtp: AudioRtp;
  private readonly sendPath: AudioSendPath;
  private readonly receivePath: AudioReceivePath;
  private readonly reporter: RtcpReporter;
  private readonly rtcpIntervalMs: number;
  private readonly wallOffsetMs: number;
  private codec: AudioCodec;
  /** Sends, and plays out while the playout frame is one ptime. */
  private mediaPacer: PacketPacer | undefined;
  /** Plays out when the peer's packet time is not ours. */
  private playoutPacer: PacketPacer | undefined;
  /** Emits frames of a consumer-paced capture, one ptime per send tick. */
  private readonly pullCapture: ((frames: number, nowMs: number) => void) | undefined;
  /** Sending was off (hold): the next send tick moves the timestamp on by the time it was. */
  private sendPaused = false;
  private rtcpTimer: TimerHandle | undefined;
  private state: 'idle' | 'running' | 'closed' = 'idle';
  private sending = true;
  private receiving = true;
  /** The RTP timestamp of the audio clock at a pacer tick, for the SR (RFC 3550 §6.4.1). */
  private sendClock: { timestamp: number; atMs: number } | undefined;
  private lastSendTickMs: number | undefined;
  /** Played samples short of a whole 10 ms device frame. */
  private pendingOut = NO_SAMPLES;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly opts: AudioPipelineOptions) {
    this.events = new TypedEmitter<AudioPipelineEvents>(opts.onListenerError);
    this.clock = opts.clock;
    this.rtp = opts.rtp;
    this.codec = opts.codec;
    const dtmf = opts.telephoneEventPt === undefined ? {} : { telephoneEventPt: opts.telephoneEventPt };
    this.sendPath = new AudioSendPath({
      codec: opts.codec, ptimeMs: opts.ptimeMs, sampleRateHz: opts.capture.sampleRateHz, ...dtmf,
      ...(opts.dtmfDurationMs === undefined ? {} : { dtmfDurationMs: opts.dtmfDurationMs }),
    });
    this.receivePath = new AudioReceivePath({
      codec: opts.codec, ptimeMs: opts.ptimeMs, sampleRateHz: opts.playback.sampleRateHz, ...dtmf, ...(opts.jitter ? { jitter: opts.jitter } : {}),
    });
    this.reporter = new RtcpReporter({ ssrc: opts.rtp.ssrc, cname: opts.cname ?? randomBytes(12).toString('base64url'), clockRateHz: this.sendPath.clockRateHz });
    this.rtcpIntervalMs = opts.rtcpIntervalMs ?? RTCP_INTERVAL_MS;
    this.wallOffsetMs = (opts.wallClockMs ?? Date.now)() - opts.clock.now();
    this.pullCapture = opts.capture.consumerPaced?.();
  }

  /** Starts sending, playout and RTCP at once, then the devices; a device that fails is reported and replaced by silence. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new AudioPipelineError('bad-state', `start() on a pipeline that is ${this.state}`);
    this.state = 'running';
    const { capture, playback } = this.opts;
    this.unsubscribe.push(
      capture.events.on('frame', (f) => this.sendPath.push(f.samples)),
      capture.events.on('error', (error) => this.fail(error, 'capture')),
      playback.events.on('error', (error) => this.fail(error, 'playback')),
      this.rtp.events.on('packet', (p) => this.onPacket(p)),
      this.rtp.events.on('rtcp', (r) => this.reporter.receive(r.packets, this.clock.now(), this.ntpMs())),
    );
    this.applyDirection();
    this.startPlayout();
    this.scheduleReport(this.reportIntervalMs / 2); // §6.2: the first report after half an interval
    const results = await Promise.allSettled([capture.start(), playback.start()]);
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.fail(r.reason, i === 0 ? 'capture start' : 'playback start');
    });
  }

  /** What the negotiated direction allows (RFC 3264 §6.1): a held call neither sends nor plays. */
  setDirection(send: boolean, receive: boolean): void {
    this.sending = send;
    this.receiving = receive;
    if (this.state === 'running') this.applyDirection();
  }

  /** A re-negotiation kept the stream but changed the codec or the telephone-event payload type; throws RangeError, changing nothing, for a codec that cannot be sent at this ptime (Opus at 30 ms). */
  setCodec(codec: AudioCodec, telephoneEventPt: number | undefined): void {
    if (this.state === 'closed') return;
    const frameMs = this.receivePath.frameMs;
    this.sendPath.setCodec(codec, telephoneEventPt); // throws first for a codec it cannot send: nothing changed then
    this.receivePath.setCodec(codec, telephoneEventPt);
    this.codec = codec;
    if (this.reporter.setClockRate(this.sendPath.clockRateHz)) this.sendClock = undefined;
    if (this.state === 'running' && this.receivePath.frameMs !== frameMs) this.startPlayout();
  }

  /** Queues RFC 4733 key presses, sent one after another; throws AudioPipelineError. */
  sendDtmf(digits: string): void {
    if (this.state === 'closed') throw new AudioPipelineError('bad-state', 'the call audio is closed');
    this.sendPath.queueDtmf(digits);
  }

  /** Key presses not yet completely sent. */
  get pendingDtmf(): number {
    return this.sendPath.pendingDigits;
  }

  stats(): AudioPipelineStats {
    const counters = this.rtp.counters;
    const send = this.sendPath.stats;
    const receive = this.receivePath.stats;
    const rtcp = this.reporter.counts;
    return {
      codec: this.codec.name,
      sent: counters.sent,
      received: counters.received,
      lost: counters.lost,
      late: receive.jitterBuffer.late,
      concealed: receive.jitterBuffer.concealed,
      jitterMs: this.reporter.jitterMs,
      currentDelayMs: Math.max(0, receive.jitterBuffer.currentDelayMs) + this.opts.playback.bufferedMs,
      rttMs: this.reporter.rttMs,
      dtmfSent: send.dtmfDigits,
      dtmfReceived: receive.dtmfDigits,
      rtcpSent: rtcp.sent,
      rtcpReceived: rtcp.received,
      send,
      receive,
    };
  }

  /** G.107 estimate: network loss plus late packets, the RTT from RTCP (0 before it is known), the buffer delay. */
  callQuality(): CallQuality {
    return this.quality().quality;
  }

  /** The codec, jitter, loss, RTT and the E-model's R and MOS, as of now. */
  qualityReport(): AudioQualityReport {
    const { stats, lossPercent, quality } = this.quality();
    return { codec: stats.codec, jitterMs: stats.jitterMs, lossPercent, rttMs: stats.rttMs, r: quality.r, mos: quality.mos };
  }

  private quality(): { stats: AudioPipelineStats; lossPercent: number; quality: CallQuality } {
    const s = this.stats();
    const reception = this.reporter.reception;
    const expected = reception?.expected ?? 0;
    const lossPercent = expected > 0 ? Math.min(100, Math.max(0, (100 * (Math.max(0, reception?.lost ?? 0) + s.late)) / expected)) : 0;
    const quality = callQuality({
      rttMs: s.rttMs ?? 0,
      jitterMs: s.jitterMs,
      lossPercent,
      codec: this.codec.name,
      plc: true,
      jitterBufferDelayMs: s.currentDelayMs,
      ptimeMs: this.opts.ptimeMs,
    });
    return { stats: s, lossPercent, quality };
  }

  /** Stops everything, sends RTCP BYE, closes the devices. Idempotent; the RTP session stays open. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasRunning = this.state === 'running';
    this.state = 'closed';
    this.mediaPacer?.close();
    this.playoutPacer?.close();
    this.clock.cancel(this.rtcpTimer);
    this.rtcpTimer = undefined;
    if (wasRunning && this.rtcpIntervalMs > 0) this.sendRtcpPacket(this.reporter.bye());
    for (const off of this.unsubscribe.splice(0)) off();
    this.sendPath.close();
    this.receivePath.close();
    const results = await Promise.allSettled([this.opts.capture.close(), this.opts.playback.close()]);
    for (const r of results) if (r.status === 'rejected') this.fail(r.reason, 'device close');
  }

  private applyDirection(): void {
    if (!this.sending) this.sendPaused = this.lastSendTickMs !== undefined;
    this.runMediaPacer();
  }

  /** The media pacer runs while there is something to send or the playout rides on it. */
  private runMediaPacer(): void {
    if (!this.sending && this.playoutPacer) {
      this.mediaPacer?.stop();
      return;
    }
    this.mediaPacer ??= new PacketPacer({ clock: this.clock, ptimeMs: this.opts.ptimeMs, onTick: (t) => this.mediaTick(t), onError: (err) => this.fail(err, 'playout') });
    this.mediaPacer.start();
  }

  /** A failing send does not cost the tick its playout (the pacer reports a failing playout). */
  private mediaTick(tick: PacerTick): void {
    if (this.sending) {
      try {
        this.sendTick(tick);
      } catch (err) {
        this.fail(err, 'send');
      }
    }
    if (!this.playoutPacer) this.playoutTick(tick);
  }

  private sendTick(tick: PacerTick): void {
    if (this.sendPaused && this.lastSendTickMs !== undefined) {
      // After a pause (hold) the timestamp moves on by the time that passed (RFC 3550 §5.1).
      this.sendPaused = false;
      this.sendClock = undefined;
      const idle = Math.round((tick.dueMs - this.lastSendTickMs - this.opts.ptimeMs) * (this.sendPath.clockRateHz / 1000));
      if (idle > 0) this.rtp.skip(idle);
    }
    this.sendClock ??= { timestamp: this.rtp.sending.nextTimestamp, atMs: tick.dueMs };
    this.lastSendTickMs = tick.dueMs;
    if (this.pullCapture) {
      const framesBy = (index: number): number => Math.floor((index * this.opts.ptimeMs) / AUDIO_FRAME_MS);
      this.pullCapture(framesBy(tick.index) - framesBy(tick.index - 1 - tick.skipped), tick.dueMs);
    }
    for (const a of this.sendPath.tick(tick.skipped)) {
      if (a.kind === 'skip') this.rtp.skip(a.samples);
      else this.rtp.send(a.payload, a.samples, a.marker, a.payloadType);
    }
  }

  private startPlayout(): void {
    this.playoutPacer?.close();
    this.playoutPacer = undefined;
    const frameMs = this.receivePath.frameMs;
    if (frameMs !== this.opts.ptimeMs) {
      this.playoutPacer = new PacketPacer({ clock: this.clock, ptimeMs: frameMs, onTick: (t) => this.playoutTick(t), onError: (err) => this.fail(err, 'playout') });
      this.playoutPacer.start();
    }
    this.runMediaPacer();
  }

  private playoutTick(tick: PacerTick): void {
    let pcm = this.receivePath.playout(tick.dueMs);
    if (this.pendingOut.length > 0) {
      const joined = new Int16Array(this.pendingOut.length + pcm.length);
      joined.set(this.pendingOut);
      joined.set(pcm, this.pendingOut.length);
      pcm = joined;
    }
    const frame = (this.opts.playback.sampleRateHz * AUDIO_FRAME_MS) / 1000;
    let at = 0;
    for (; at + frame <= pcm.length; at += frame) this.opts.playback.write(pcm.subarray(at, at + frame));
    this.pendingOut = at === pcm.length ? NO_SAMPLES : pcm.slice(at);
  }

  private onPacket(p: ReceivedRtpPacket): void {
    if (!this.receiving) return;
    this.reporter.onRtp(p);
    const frameMs = this.receivePath.frameMs;
    const digit = this.receivePath.receive(p);
    if (this.receivePath.frameMs !== frameMs) this.startPlayout();
    if (digit !== undefined) this.events.emit('dtmf', { digit, ssrc: p.ssrc });
  }

  /** The RTCP interval, or the quality event's own when there is no RTCP. */
  private get reportIntervalMs(): number {
    return this.rtcpIntervalMs > 0 ? this.rtcpIntervalMs : RTCP_INTERVAL_MS;
  }

  /** An RTCP report (if RTCP is on) and the quality event, then the next one an interval later. */
  private scheduleReport(delayMs: number): void {
    this.rtcpTimer = this.clock.setTimer(delayMs, () => {
      this.rtcpTimer = undefined;
      if (this.state !== 'running') return;
      if (this.rtcpIntervalMs > 0) this.sendReport();
      this.scheduleReport(this.reportIntervalMs);
      this.events.emit('quality', this.qualityReport());
    });
  }

  private sendReport(): void {
    const now = this.clock.now();
    const sending = this.rtp.sending;
    const clock = this.sendClock;
    const rtpTimestamp = clock ? clock.timestamp + Math.round((now - clock.atMs) * (this.sendPath.clockRateHz / 1000)) : sending.nextTimestamp;
    this.sendRtcpPacket(this.reporter.report(now, this.ntpMs(), { packetCount: sending.packetCount, octetCount: sending.octetCount, rtpTimestamp: rtpTimestamp >>> 0 }));
  }

  private sendRtcpPacket(bytes: Uint8Array): void {
    try {
      this.rtp.sendRtcp(bytes);
    } catch (err) {
      this.fail(err, 'RTCP');
    }
  }

  private ntpMs(): number {
    return this.clock.now() + this.wallOffsetMs;
  }

  private fail(error: unknown, context: string): void {
    this.events.emit('error', { error, context });
  }
}
