// ITU-T G.722 (09/2012) 7 kHz audio coding at 64 kbit/s (mode 1): sub-band ADPCM. A transmit
// QMF splits 16 kHz PCM into two 8 kHz bands; the lower band is coded with 6 bits and the upper
// band with 2, and each pair of input samples becomes one octet, upper-band bits on top
// (IH in bits 7–6, IL in bits 5–0). 20 ms = 320 samples = 160 octets.
//
// RTP (RFC 3551 §4.5.2): the clock rate of payload type 9 is 8000 Hz although the audio is
// sampled at 16 kHz — RFC 1890 assigned 8000 by mistake and it was kept for compatibility. The
// RTP timestamp therefore advances by one per octet (160 per 20 ms), and SDP says `G722/8000`.
import { CodecError } from './audio-codec.js';
import { decodeLowerBand, decodeUpperBand, encodeLowerBand, encodeUpperBand, lowerBandState, upperBandState } from './g722-adpcm.js';
import { ReceiveQmf, TransmitQmf } from './g722-qmf.js';

export const G722_SAMPLE_RATE_HZ = 16000;
/** RFC 3551 §4.5.2: "erroneously assigned in RFC 1890", kept for interoperability. */
export const G722_RTP_CLOCK_RATE_HZ = 8000;
export const G722_STATIC_PAYLOAD_TYPE = 9;
/** Mode 1: 64 kbit/s, one octet per two 16 kHz samples. */
export const G722_BITRATE_BPS = 64000;

/** Encodes 16 kHz 16-bit PCM to G.722 mode 1 octets, keeping the filter and ADPCM state across calls. */
export class G722Encoder {
  private readonly qmf = new TransmitQmf();
  private readonly lower = lowerBandState();
  private readonly upper = upperBandState();
  private readonly bands = new Int32Array(2);

  /** `pcm.length` must be even: each octet codes two samples. */
  encode(pcm: Int16Array): Uint8Array {
    if (pcm.length % 2 !== 0) {
      throw new CodecError('bad-frame-size', 'G722', `odd number of samples (${pcm.length}); G.722 codes sample pairs`);
    }
    const out = new Uint8Array(pcm.length / 2);
    const bands = this.bands;
    for (let i = 0, j = 0; i < out.length; i++, j += 2) {
      this.qmf.split(pcm[j] as number, pcm[j + 1] as number, bands);
      const il = encodeLowerBand(this.lower, bands[0] as number);
      const ih = encodeUpperBand(this.upper, bands[1] as number);
      out[i] = (ih << 6) | il;
    }
    return out;
  }

  /** Back to the reset state, as at the start of a call. */
  reset(): void {
    this.qmf.reset();
    this.lower.reset();
    this.upper.reset();
  }
}

/** Decodes G.722 mode 1 octets to 16 kHz 16-bit PCM. Every octet is valid, so decoding never fails. */
export class G722Decoder {
  private readonly qmf = new ReceiveQmf();
  private readonly lower = lowerBandState();
  private readonly upper = upperBandState();

  decode(octets: Uint8Array): Int16Array {
    const out = new Int16Array(octets.length * 2);
    for (let i = 0; i < octets.length; i++) {
      const code = octets[i] as number;
      const rl = decodeLowerBand(this.lower, code & 0x3f);
      const rh = decodeUpperBand(this.upper, code >> 6);
      this.qmf.merge(rl, rh, out, 2 * i);
    }
    return out;
  }

  reset(): void {
    this.qmf.reset();
    this.lower.reset();
    this.upper.reset();
  }
}
