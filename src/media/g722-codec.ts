// G.722 behind the common codec interface: 16 kHz PCM, RTP clock 8000 Hz (RFC 3551 §4.5.2).
// G.722 has no loss concealment of its own here; the RTP path conceals for it.
import { pcmSamplesPerFrame, CodecError, type AudioCodec } from './audio-codec.js';
import { G722Decoder, G722Encoder, G722_RTP_CLOCK_RATE_HZ, G722_SAMPLE_RATE_HZ } from './g722.js';

export class G722Codec implements AudioCodec {
  readonly name = 'G722' as const;
  readonly clockRateHz = G722_RTP_CLOCK_RATE_HZ;
  readonly sampleRateHz = G722_SAMPLE_RATE_HZ;
  private readonly encoder = new G722Encoder();
  private readonly decoder = new G722Decoder();
  private closed = false;

  samplesPerFrame(ptimeMs: number): number {
    return pcmSamplesPerFrame('G722', this.sampleRateHz, ptimeMs);
  }

  encode(pcm: Int16Array): Uint8Array {
    this.assertOpen();
    return this.encoder.encode(pcm);
  }

  decode(payload: Uint8Array): Int16Array {
    this.assertOpen();
    return this.decoder.decode(payload);
  }

  close(): void {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new CodecError('closed', 'G722', 'used after close()');
  }
}
