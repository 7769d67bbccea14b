// The common shape of the voice codecs the phone speaks (G.711 µ/A-law, G.722, Opus), so the
// RTP path can packetize, play out and conceal without knowing which one a call negotiated.
// `createCodec` (codec-factory.ts) builds one from its SDP encoding name.
import { CodedError } from '../util/index.js';

/** SDP encoding names (RFC 3551 §4.5, RFC 7587), as they appear in `a=rtpmap`. */
export type CodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus';

export type CodecErrorCode =
  /** The PCM block is not a whole number of the codec's frames or sample pairs. */
  | 'bad-frame-size'
  /** The payload cannot be decoded (a corrupt or truncated packet). */
  | 'invalid-payload'
  /** The payload is larger than the codec accepts. */
  | 'payload-too-large'
  /** The codec was used after `close()`. */
  | 'closed'
  /** The codec library failed (allocation, bad state). */
  | 'internal'
  /** `createCodec` was given a name or option it does not know. */
  | 'unsupported';

export class CodecError extends CodedError<CodecErrorCode> {
  constructor(
    code: CodecErrorCode,
    /** The codec's name, or the unknown name given to `createCodec`. */
    readonly codec: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `${codec}: ${message}`, options);
  }
}

/**
 * One direction-agnostic codec instance for one call: it encodes what the microphone captured and
 * decodes what the far end sent. Stateful codecs (G.722, Opus) keep one encoder and one decoder
 * state, so use one instance per RTP stream.
 */
export interface AudioCodec {
  readonly name: CodecName;
  /** The RTP timestamp rate: 8000 for G.711 and G.722 (RFC 3551 §4.5.2), 48000 for Opus (RFC 7587 §4.1). */
  readonly clockRateHz: number;
  /** The PCM sample rate `encode` takes and `decode` returns. */
  readonly sampleRateHz: number;
  /** PCM samples in one packet of `ptimeMs` milliseconds. */
  samplesPerFrame(ptimeMs: number): number;
  /** Encodes one packet's worth of 16-bit mono PCM. Throws `CodecError`. */
  encode(pcm: Int16Array): Uint8Array;
  /** Decodes one RTP payload into 16-bit mono PCM. Throws `CodecError`, never crashes on bad input. */
  decode(payload: Uint8Array): Int16Array;
  /**
   * Audio for `samples` samples of a lost packet, continuing the decoder's last output, for codecs
   * with built-in loss concealment. Absent: the caller conceals (see PacketLossConcealer).
   */
  conceal?(samples: number): Int16Array;
  /** Frees what the codec holds (for Opus its WASM memory); later calls throw `CodecError('closed')`. */
  close(): void;
}

/** `sampleRateHz · ptimeMs / 1000`, checked to be a whole positive number of samples. */
export function pcmSamplesPerFrame(codec: string, sampleRateHz: number, ptimeMs: number): number {
  const samples = (sampleRateHz * ptimeMs) / 1000;
  if (!Number.isInteger(samples) || samples <= 0) {
    throw new CodecError('bad-frame-size', codec, `ptime ${ptimeMs} ms is not a whole number of samples at ${sampleRateHz} Hz`);
  }
  return samples;
}
