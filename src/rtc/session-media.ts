// The media side of one session: an RTP socket from the registry's port range, its advertised
// address from the port manager (the only place a session's SDP addresses come from), the
// offer/answer state (RFC 3264 session version), and the paced sender. Until the audio path
// (media issue) is wired, the sender plays a source the client chooses: silence or a test tone.
import type { PortManager, PortMapping } from '../nat/index.js';
import { encodeAlaw, encodeUlaw, PacketPacer, RtpSession, SineSource, type RtpSessionCounters } from '../media/index.js';
import {
  acceptAnswer, createAnswer, createOffer, holdDirection, parseSessionDescription,
  type AudioDescription, type CodecName, type Direction, type LocalMedia, type Negotiated, SdpError,
} from '../sdp/index.js';
import type { Clock } from '../util/index.js';

/** Codecs this build can encode; the registry's list is filtered by it. */
export const ENCODABLE_CODECS: readonly CodecName[] = ['PCMU', 'PCMA'];

export interface MediaSettings {
  readonly localAddress: string;
  readonly portMin: number;
  readonly portMax: number;
  readonly codecs: readonly string[];
  readonly ptimeMs: number;
  /** What we send while connected: silence, or a tone (tests and the sim demo). */
  readonly source: { readonly kind: 'silence' } | { readonly kind: 'tone'; readonly frequencyHz: number };
  /** Accept media ports below 1024 from peers. */
  readonly allowLowPorts?: boolean;
}

export interface MediaDeps {
  readonly clock: Clock;
  readonly portManager: PortManager;
  readonly settings: () => MediaSettings;
}

export class MediaError extends Error {
  constructor(readonly code: 'no-port' | 'not-negotiated', message: string) {
    super(message);
    this.name = 'MediaError';
  }
}

/** Ports in use by open sessions of this process, so two calls never race for one. */
const portsInUse = new Set<number>();

export class SessionMedia {
  private negotiatedNow: Negotiated | undefined;
  private pacer: PacketPacer | undefined;
  private sessionVersion = 1;
  private readonly sessionId = Math.floor(Math.random() * 2 ** 31);
  private lastOffer: LocalMedia | undefined;
  private holding = false;
  private heldByRemote = false;
  private closed = false;
  private tone: SineSource | undefined;

  private constructor(
    private readonly deps: MediaDeps,
    readonly rtp: RtpSession,
    readonly mapping: PortMapping,
  ) {}

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

  get jitterMs(): number {
    return this.rtp.jitterMs;
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
    return createOffer(this.lastOffer);
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
    const r = acceptAnswer(this.lastOffer, answer);
    if (!r.ok) throw r.error;
    if (final) this.lastOffer = undefined;
    this.apply(r.negotiated);
    return r.negotiated;
  }

  /** The peer's offer: our answer SDP, or an SdpError (488 Not Acceptable Here). */
  answerOffer(body: Uint8Array): { sdp: string; negotiated: Negotiated } {
    const offer: AudioDescription = parseSessionDescription(body, this.parseOptions());
    // RFC 6337: an offer that only sends to us (or sends nothing) means the peer holds the call.
    this.heldByRemote = offer.audio.direction === 'sendonly' || offer.audio.direction === 'inactive';
    const r = createAnswer(offer, this.local(this.wantedDirection()));
    if (!r.ok) throw r.error;
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
    this.rtp.setRemote({ address: n.remoteAddress, port: n.remoteRtpPort }, pts);
    this.deps.portManager.updateRemoteAddress('rtp', this.rtp.local, { address: n.remoteAddress, port: n.remoteRtpPort });
  }

  /** Starts (or keeps) sending every ptime when the negotiated direction lets us send. */
  start(): void {
    const n = this.negotiatedNow;
    if (!n || this.closed) return;
    const sending = n.localDirection === 'sendrecv' || n.localDirection === 'sendonly';
    if (!sending) {
      this.pacer?.stop();
      return;
    }
    if (this.pacer?.isRunning) return;
    this.pacer?.close();
    const samples = (8000 * n.ptimeMs) / 1000;
    const source = this.deps.settings().source;
    this.tone = source.kind === 'tone' ? new SineSource({ frequencyHz: source.frequencyHz, sampleRateHz: 8000, amplitude: 8000 }) : undefined;
    const silence = new Int16Array(samples);
    this.pacer = new PacketPacer({
      clock: this.deps.clock,
      ptimeMs: n.ptimeMs,
      onTick: () => {
        const current = this.negotiatedNow;
        if (!current || this.closed) return;
        const pcm = this.tone ? this.tone.next(samples) : silence;
        const payload = current.codec.name === 'PCMA' ? encodeAlaw(pcm) : encodeUlaw(pcm);
        this.rtp.send(payload, samples, false, current.codec.payloadType);
      },
    });
    this.pacer.start();
  }

  stop(): void {
    this.pacer?.stop();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pacer?.close();
    portsInUse.delete(this.rtp.local.port);
    await this.deps.portManager.releaseMapping('rtp', this.rtp.local).catch(() => {});
    await this.rtp.close();
  }
}
