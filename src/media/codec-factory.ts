// Builds a codec from its SDP encoding name (media subtype names are case-insensitive, so
// `a=rtpmap:9 g722/8000` is G.722), plus the stateless G.711 codecs, which need only g711.ts.
import { CodecError, pcmSamplesPerFrame, type AudioCodec, type CodecName } from './audio-codec.js';
import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from './g711.js';
import { G722Codec } from './g722-codec.js';
import { OpusCodec, type OpusCodecOptions } from './opus-codec.js';

/** G.711 µ-law (PCMU, static payload type 0) or A-law (PCMA, 8): 8 kHz, one octet per sample. */
export class G711Codec implements AudioCodec {
  readonly clockRateHz = 8000;
  readonly sampleRateHz = 8000;
  private closed = false;

  constructor(readonly name: 'PCMU' | 'PCMA') {}

  samplesPerFrame(ptimeMs: number): number {
    return pcmSamplesPerFrame(this.name, this.sampleRateHz, ptimeMs);
  }

  encode(pcm: Int16Array): Uint8Array {
    this.assertOpen();
    return this.name === 'PCMU' ? encodeUlaw(pcm) : encodeAlaw(pcm);
  }

  decode(payload: Uint8Array): Int16Array {
    this.assertOpen();
    return this.name === 'PCMU' ? decodeUlaw(payload) : decodeAlaw(payload);
  }

  close(): void {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new CodecError('closed', this.name, 'used after close()');
  }
}

export interface CreateCodecOptions {
  /** Only for Opus. */
  readonly opus?: OpusCodecOptions;
}

const NAMES: ReadonlyMap<string, CodecName> = new Map([
  ['pcmu', 'PCMU'],
  ['pcma', 'PCMA'],
  ['g722', 'G722'],
  ['opus', 'opus'],
]);

/** The codec for an SDP encoding name (`PCMU`, `PCMA`, `G722`, `opus`); unknown names throw `unsupported`. */
export function createCodec(name: string, options: CreateCodecOptions = {}): AudioCodec {
  const known = NAMES.get(name.toLowerCase());
  switch (known) {
    case 'PCMU':
    case 'PCMA':
      return new G711Codec(known);
    case 'G722':
      return new G722Codec();
    case 'opus':
      return new OpusCodec(options.opus);
    case undefined:
      throw new CodecError('unsupported', name, 'no such codec');
  }
}
