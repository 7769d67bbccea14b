// The driver of one call's RFC 6263 keep-alives (media/rtp-keepalive.ts is the machine): owns the
// timer, reads when the RTP session last sent, and sends the §4.6 packet on it — our SSRC, the
// next sequence number, the stream's timestamp, no payload, and a payload type that no SDP of the
// call lists (so it remembers every payload type either side named).
import { RtpKeepalive, rtpKeepaliveIntervalMs, unusedPayloadType, type RtpKeepaliveAction, type RtpSession } from '../media/index.js';
import { parseSessionDescription, type AudioDescription } from '../sdp/index.js';
import type { Clock, TimerHandle } from '../util/index.js';

export interface SessionMediaKeepaliveDeps {
  readonly clock: Clock;
  readonly rtp: RtpSession;
  /** The SIP flow's keep-alive interval, s (rtpKeepaliveIntervalMs combines it with Tr). */
  readonly flowIntervalS?: () => number;
  /** Where keep-alives go now; undefined before negotiation. */
  readonly remoteAddress: () => string | undefined;
  readonly onError: (error: unknown) => void;
}

export class SessionMediaKeepalive {
  private machine: RtpKeepalive | undefined;
  private timer: TimerHandle | undefined;
  private readonly listedPts = new Set<number>();

  constructor(private readonly deps: SessionMediaKeepaliveDeps) {}

  /** The interval running, ms; undefined when stopped. */
  get intervalMs(): number | undefined {
    return this.machine?.intervalMs;
  }

  get isRunning(): boolean {
    return this.machine !== undefined;
  }

  /** Starts, or takes a new interval; a running machine at the same interval goes on untouched. */
  start(): void {
    const intervalMs = rtpKeepaliveIntervalMs(this.deps.flowIntervalS?.());
    if (this.machine?.isRunning && this.machine.intervalMs === intervalMs) return;
    this.stop();
    const machine = new RtpKeepalive(intervalMs);
    this.machine = machine;
    this.run(machine, machine.start(this.deps.clock.now(), this.deps.rtp.lastSentMs));
  }

  stop(): void {
    this.machine?.stop();
    this.machine = undefined;
    this.deps.clock.cancel(this.timer);
    this.timer = undefined;
  }

  /** Records the payload types an SDP of the call lists (ours as text, the peer's parsed). */
  notePayloadTypes(sdp: string | AudioDescription): void {
    let d: AudioDescription;
    try {
      d = typeof sdp === 'string' ? parseSessionDescription(sdp, { allowLowPorts: true }) : sdp;
    } catch {
      return;
    }
    for (const c of d.audio.codecs) this.listedPts.add(c.payloadType);
    for (const e of d.audio.telephoneEvents) this.listedPts.add(e.payloadType);
  }

  private run(machine: RtpKeepalive, actions: RtpKeepaliveAction[]): void {
    const { clock, rtp } = this.deps;
    for (const a of actions) {
      if (a.kind === 'send') this.send();
      else {
        clock.cancel(this.timer);
        this.timer = clock.setTimer(Math.max(0, a.atMs - clock.now()), () => {
          if (this.machine === machine) this.run(machine, machine.wake(clock.now(), rtp.lastSentMs));
        });
      }
    }
  }

  private send(): void {
    const remote = this.deps.remoteAddress();
    // RFC 3264 §8.4: an old-style hold's 0.0.0.0 is nowhere to send to.
    if (remote === undefined || remote === '0.0.0.0' || remote === '::') return;
    try {
      this.deps.rtp.send(new Uint8Array(0), 0, false, unusedPayloadType(this.listedPts));
    } catch (error) {
      this.deps.onError(error);
    }
  }
}
