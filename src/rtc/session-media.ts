// The media side of one session: an RTP socket from the registry's port range, its advertised
// address from the port manager (the only place a session's SDP addresses come from), the
// offer/answer state (RFC 3264 session version), and the call's audio: an AudioPipeline between
// the devices MediaSettings names and the RTP session, started once media is negotiated.
import type { PortManager, PortMapping } from '../nat/index.js';
import {
  AudioPipeline, RTCP_INTERVAL_MS, RtpSession, captureRateFor, openCapture, openPlayback,
  type AudioCodec, type AudioDeviceOptions, type AudioPipelineStats, type AudioQualityReport, type AudioSampleRateHz, type CallQuality,
  type DtmfDigit, type RtpSessionCounters,
} from '../media/index.js';
import {
  acceptAnswer, createAnswer, createOffer, holdDirection, parseSessionDescription,
  type AudioDescription, type CodecName, type Direction, type LocalMedia, type Negotiated, SdpError,
} from '../sdp/index.js';
import { TypedEmitter, type Clock } from '../util/index.js';
import { SessionMediaKeepalive } from './session-media-keepalive.js';

/** Codecs this build can encode; the registry's list (media.codecs, in order of preference) is filtered by it. */
export const ENCODABLE_CODECS: readonly CodecName[] = ['PCMU', 'PCMA', 'G722', 'opus'];

/** RFC 6716 §2.1.4: the frame durations an Opus packet of one frame can have that are whole 10 ms device frames. */
const OPUS_PTIMES_MS: readonly number[] = [10, 20, 40, 60];
/** Our Opus frames when the peer's a=ptime is not one of those (RFC 7587 §4.4 leaves ptime to the sender). */
const OPUS_DEFAULT_PTIME_MS = 20;

export interface MediaSettings {
  readonly localAddress: string;
  readonly portMin: number;
  readonly portMax: number;
  readonly codecs: readonly string[];
  readonly ptimeMs: number;
  /** The microphone: an audio device spec (alsa:<pcm>, file:<path.wav>, tone:<Hz>, null); default null (silence). */
  readonly capture?: string;
  /** The speaker: alsa:<pcm>, file:<path.wav> or null; default null. */
  readonly playback?: string;
  /** The older way to name the microphone, as capture tone:<Hz> or null; `capture` wins over it. */
  readonly source?: { readonly kind: 'silence' } | { readonly kind: 'tone'; readonly frequencyHz: number };
  /** Accept media ports below 1024 from peers. */
  readonly allowLowPorts?: boolean;
}

export interface MediaDeps {
  readonly clock: Clock;
  readonly portManager: PortManager;
  readonly settings: () => MediaSettings;
  /** The SIP flow's keep-alive interval, s: the RFC 6263 interval is the shorter of it and Tr (15 s); absent or 0: Tr. */
  readonly keepaliveIntervalS?: () => number;
  /** RFC 6263 media keep-alives; default true (false only for a test's control). */
  readonly mediaKeepalive?: boolean;
}

export type SessionMediaEvents = {
  /** An RFC 4733 key press of the peer. */
  dtmf: { readonly digit: DtmfDigit };
  /** An audio device or the RTP socket failed; the call goes on with silence in its place. */
  error: { readonly error: unknown; readonly context: string };
  /** The call's codec and quality (jitter, loss, RTT, E-model MOS), once per RTCP report interval. */
  quality: AudioQualityReport;
};

export class MediaError extends Error {
  constructor(readonly code: 'no-port' | 'not-negotiated', message: string) {
    super(message);
    this.name = 'MediaError';
  }
}

/** Ports in use by open sessions of this process, so two calls never race for one. */
const portsInUse = new Set<number>();

export class SessionMedia {
  readonly events = new TypedEmitter<SessionMediaEvents>();
  private negotiatedNow: Negotiated | undefined;
  private pipeline: AudioPipeline | undefined;
  private sessionVersion = 1;
  private readonly sessionId = Math.floor(Math.random() * 2 ** 31);
  private lastOffer: LocalMedia | undefined;
  private holding = false;
  private heldByRemote = false;
  private closed = false;
  /** RFC 6263 keep-alives of the RTP port, for every negotiated call (session-media-keepalive.ts). */
  private readonly keepalive: SessionMediaKeepalive;

  private constructor(
    private readonly deps: MediaDeps,
    readonly rtp: RtpSession,
    readonly mapping: PortMapping,
  ) {
    this.keepalive = new SessionMediaKeepalive({
      clock: deps.clock, rtp, ...(deps.keepaliveIntervalS ? { flowIntervalS: deps.keepaliveIntervalS } : {}),
      remoteAddress: () => this.negotiatedNow?.remoteAddress,
      onError: (error) => this.events.emit('error', { error, context: 'RTP keep-alive' }),
    });
  }

  /** Binds an even port in the registry's range (RTCP is multiplexed on it, RFC 5761/3605). */
  static async open(deps: MediaDeps): Promise<SessionMedia> {
    const s = deps.settings();
    const first = s.portMin + (s.portMin % 2);
    const span = Math.max(1, Math.floor((s.portMax - first) / 2) + 1);
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const port = first + 2 * ((start + i) % span);
      if (portsInUse.has(port)) continue;
      portsInUse.add(port);
      try {
        const rtp = await RtpSession.open({ localAddress: s.localAddress, localPort: port, remote: { address: s.localAddress, port: 9 }, payloadTypes: [0], clock: deps.clock });
        try {
          const mapping = await deps.portManager.getMapping({
            kind: 'rtp', local: rtp.local, scope: 'session',
            channel: {
              socket: { send: (msg, p, address, callback) => rtp.sendRaw(msg, { address, port: p }, callback) },
              subscribe: (handler) => rtp.events.on('stun', ({ bytes, from }) => void handler(bytes, from)),
            },
          });
          return new SessionMedia(deps, rtp, mapping);
        } catch (err) {
          await rtp.close();
          throw err;
        }
      } catch (err) {
        portsInUse.delete(port);
        if (err instanceof Error && err.name === 'RtpError') continue; // taken by another process: next port
        throw err;
      }
    }
    throw new MediaError('no-port', `no free RTP port in ${s.portMin}-${s.portMax}`);
  }

  get negotiated(): Negotiated | undefined {
    return this.negotiatedNow;
  }

  get counters(): RtpSessionCounters {
    return this.rtp.counters;
  }

  /** RFC 3550 jitter of the peer's stream in the negotiated codec's clock (the pipeline's), else the socket's. */
  get jitterMs(): number {
    return this.pipeline?.stats().jitterMs ?? this.rtp.jitterMs;
  }

  get isHolding(): boolean {
    return this.holding;
  }

  get isHeldByRemote(): boolean {
    return this.heldByRemote;
  }

  private local(direction: Direction): LocalMedia {
    const s = this.deps.settings();
    const codecs = s.codecs.filter((c): c is CodecName => (ENCODABLE_CODECS as readonly string[]).includes(c));
    return {
      address: this.mapping.address,
      rtpPort: this.mapping.port,
      rtcpPort: this.mapping.port,
      codecs: codecs.length > 0 ? codecs : ['PCMU'],
      telephoneEvent: true,
      ptimeMs: s.ptimeMs,
      direction,
      sessionId: this.sessionId,
      sessionVersion: this.sessionVersion++,
      username: 'deskphone',
      rtcpMux: true,
    };
  }

  private wantedDirection(): Direction {
    return holdDirection({ holding: this.holding, heldByRemote: this.heldByRemote });
  }

  /** Our offer (initial, or a re-INVITE/UPDATE for hold and resume). */
  createOffer(hold?: boolean): string {
    if (hold !== undefined) this.holding = hold;
    this.lastOffer = this.local(this.wantedDirection());
    const sdp = createOffer(this.lastOffer);
    this.keepalive.notePayloadTypes(sdp);
    return sdp;
  }

  /** Whether our last offer still waits for its final answer. */
  get awaitingAnswer(): boolean {
    return this.lastOffer !== undefined;
  }

  /**
   * The peer's answer to our last offer. Throws SdpError when it is unusable. A preview (SDP in an
   * unreliable 1xx, RFC 3261 §13.2.1) is used but the offer stays open for the final answer.
   */
  acceptAnswer(body: Uint8Array, final: boolean): Negotiated {
    if (!this.lastOffer) throw new MediaError('not-negotiated', 'an answer without our offer');
    const answer = parseSessionDescription(body, this.parseOptions());
    this.keepalive.notePayloadTypes(answer);
    const r = acceptAnswer(this.lastOffer, answer);
    if (!r.ok) throw r.error;
    if (final) this.lastOffer = undefined;
    this.apply(r.negotiated);
    return r.negotiated;
  }

  /** The peer's offer: our answer SDP, or an SdpError (488 Not Acceptable Here). */
  answerOffer(body: Uint8Array): { sdp: string; negotiated: Negotiated } {
    const offer: AudioDescription = parseSessionDescription(body, this.parseOptions());
    this.keepalive.notePayloadTypes(offer);
    // RFC 6337: an offer that only sends to us (or sends nothing) means the peer holds the call.
    this.heldByRemote = offer.audio.direction === 'sendonly' || offer.audio.direction === 'inactive';
    const r = createAnswer(offer, this.local(this.wantedDirection()));
    if (!r.ok) throw r.error;
    this.keepalive.notePayloadTypes(r.sdp);
    this.apply(r.negotiated);
    return { sdp: r.sdp, negotiated: r.negotiated };
  }

  /** Whether a body is an SDP offer we could parse at all (for 400 vs 488 decisions). */
  static isSdpError(err: unknown): err is SdpError {
    return err instanceof SdpError;
  }

  private parseOptions(): { allowLowPorts?: boolean } {
    const s = this.deps.settings();
    return s.allowLowPorts ? { allowLowPorts: true } : {};
  }

  private apply(n: Negotiated): void {
    this.negotiatedNow = n;
    const pts = [n.codec.payloadType, ...(n.telephoneEventPt !== undefined ? [n.telephoneEventPt] : [])];
    // Without rtcp-mux our RTCP goes to the peer's RTCP port, still from the media socket (our SDP's a=rtcp names it).
    this.rtp.setRemote({ address: n.remoteAddress, port: n.remoteRtpPort }, pts, n.rtcpMux ? undefined : { address: n.remoteRtcpAddress, port: n.remoteRtcpPort });
    this.deps.portManager.updateRemoteAddress('rtp', this.rtp.local, { address: n.remoteAddress, port: n.remoteRtpPort });
  }

  /** Call audio statistics; undefined until media started. */
  get audioStats(): AudioPipelineStats | undefined {
    return this.pipeline?.stats();
  }

  /** The E-model estimate of the call so far (G.107); undefined until media started. */
  callQuality(): CallQuality | undefined {
    return this.pipeline?.callQuality();
  }

  /** The codec, jitter, loss, RTT and MOS as of now; undefined until media started. */
  qualityReport(): AudioQualityReport | undefined {
    return this.pipeline?.qualityReport();
  }

  /** Sends key presses as RFC 4733 telephone-events; throws MediaError before media started, AudioPipelineError for a bad digit or no telephone-event. */
  sendDtmf(digits: string): void {
    if (!this.pipeline) throw new MediaError('not-negotiated', 'no call audio to send DTMF in');
    this.pipeline.sendDtmf(digits);
  }

  /** Starts the call's audio, or applies a new offer/answer to it: direction, codec. */
  start(): void {
    const n = this.negotiatedNow;
    if (!n || this.closed) return;
    const codec = audioCodecOf(n);
    if (!codec) {
      this.events.emit('error', { error: new MediaError('not-negotiated', `cannot encode ${n.codec.name}`), context: 'audio' });
      return;
    }
    const send = n.localDirection === 'sendrecv' || n.localDirection === 'sendonly';
    const receive = n.localDirection === 'sendrecv' || n.localDirection === 'recvonly';
    if (this.deps.mediaKeepalive !== false) this.keepalive.start();
    if (this.pipeline) {
      try {
        this.pipeline.setCodec(codec, n.telephoneEventPt);
      } catch (error) {
        this.events.emit('error', { error, context: `audio codec change to ${codec.name}` }); // the old codec goes on
      }
      this.pipeline.setDirection(send, receive);
      return;
    }
    const pipeline = this.openPipeline(n, codec);
    this.pipeline = pipeline;
    pipeline.setDirection(send, receive);
    void pipeline.start().catch((error: unknown) => this.events.emit('error', { error, context: 'audio start' }));
  }

  /** Stops sending and playing (the call is ending); close() releases everything. */
  stop(): void {
    this.keepalive.stop();
    this.pipeline?.setDirection(false, false);
  }

  /** The SIP flow's interval changed (a new measured lifetime, nat.keepaliveIntervalS): a running keep-alive takes the new one at once. */
  keepaliveSettingChanged(): void {
    if (this.keepalive.isRunning) this.keepalive.start();
  }

  /** The RFC 6263 keep-alive interval running for this call, ms; undefined when none runs. */
  get keepaliveIntervalMs(): number | undefined {
    return this.keepalive.intervalMs;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.keepalive.stop();
    await this.pipeline?.close();
    portsInUse.delete(this.rtp.local.port);
    await this.deps.portManager.releaseMapping('rtp', this.rtp.local).catch(() => {});
    await this.rtp.close();
  }

  private openPipeline(n: Negotiated, codec: AudioCodec): AudioPipeline {
    const s = this.deps.settings();
    const onListenerError = (error: unknown, event: string): void => this.events.emit('error', { error, context: `listener of ${event}` });
    const options: AudioDeviceOptions = { sampleRateHz: deviceRateFor(codec), clock: this.deps.clock, onListenerError };
    const microphone = captureSpec(s);
    const captureOptions: AudioDeviceOptions = { ...options, sampleRateHz: captureRateFor(microphone, options.sampleRateHz) };
    const pipeline = new AudioPipeline({
      clock: this.deps.clock,
      rtp: this.rtp,
      capture: this.device('capture', microphone, (spec) => openCapture(spec, spec === microphone ? captureOptions : options)),
      playback: this.device('playback', s.playback ?? 'null', (spec) => openPlayback(spec, options)),
      codec,
      ptimeMs: sendPtimeMs(codec, n.ptimeMs),
      ...(n.telephoneEventPt === undefined ? {} : { telephoneEventPt: n.telephoneEventPt }),
      rtcpIntervalMs: RTCP_INTERVAL_MS,
      onListenerError,
    });
    pipeline.events.on('dtmf', ({ digit }) => this.events.emit('dtmf', { digit }));
    pipeline.events.on('error', (e) => this.events.emit('error', e));
    pipeline.events.on('quality', (q) => this.events.emit('quality', q));
    return pipeline;
  }

  /** A spec the device layer refuses (a typo in a board file) must not fail the call: it gets the null device. */
  private device<T>(kind: 'capture' | 'playback', spec: string, open: (spec: string) => T): T {
    try {
      return open(spec);
    } catch (error) {
      this.events.emit('error', { error, context: `${kind} device "${spec}"` });
      return open('null');
    }
  }
}

function captureSpec(s: MediaSettings): string {
  if (s.capture !== undefined) return s.capture;
  return s.source?.kind === 'tone' ? `tone:${s.source.frequencyHz}` : 'null';
}

function audioCodecOf(n: Negotiated): AudioCodec | undefined {
  const name = n.codec.name;
  return ENCODABLE_CODECS.includes(name) ? { name, payloadType: n.codec.payloadType } : undefined;
}

/**
 * The rate the devices open at for the first codec of a call: 8 kHz for G.711, 16 kHz for the
 * wideband codecs (Opus codes 16 kHz natively; 48 kHz would only cost CPU on the handset). A
 * later codec of another rate is resampled by the pipeline; the devices stay open.
 */
function deviceRateFor(codec: AudioCodec): AudioSampleRateHz {
  return codec.name === 'PCMU' || codec.name === 'PCMA' ? 8000 : 16000;
}

/** Opus frames must be whole Opus frame durations and 10 ms device frames; any other ptime sends 20 ms. */
function sendPtimeMs(codec: AudioCodec, ptimeMs: number): number {
  if (codec.name !== 'opus') return ptimeMs;
  return OPUS_PTIMES_MS.includes(ptimeMs) ? ptimeMs : OPUS_DEFAULT_PTIME_MS;
}
