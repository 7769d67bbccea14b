// Opus (RFC 6716) for voice, through opusscript's WebAssembly build of libopus 1.4: mono, 20 ms
// frames by default, application VOIP. RFC 7587 §4.1: the RTP clock is always 48000 Hz, whatever
// rate the PCM side runs at (16 kHz on the handset, 48 kHz if asked).
//
// We load opusscript's WASM module ourselves instead of using its `OpusScript` class: that class
// indexes its 16-bit heap views with byte addresses, so its PCM buffers sit at twice the address
// it allocated, in memory other instances own, and its decode buffer is half of what one 16 kHz
// concealment call writes (with six 16 kHz instances, one concealing a loss breaks another's
// encoder). We keep the module's calling convention (its C++ glue takes and returns PCM as one
// byte per 16-bit heap word) with buffers we allocate and size ourselves.
//
// Loss: opusscript's glue always calls opus_decode with decode_fec = 0 and a 5760-sample maximum
// frame, so in-band FEC can be sent (for the far end) but not used here, and concealment (an empty
// packet) yields that much at once (60 ms at 48 kHz, 360 ms at 16 kHz); `conceal` hands it out as
// asked and drops the rest when audio resumes. (`decode(null)` is not supported by opusscript.)
import { createRequire } from 'node:module';
import { errorMessage } from '../util/index.js';
import { CodecError, pcmSamplesPerFrame, type AudioCodec } from './audio-codec.js';

export type OpusSampleRateHz = 8000 | 12000 | 16000 | 24000 | 48000;

export interface OpusCodecOptions {
  /** PCM rate of `encode` and `decode` (default 16000, the handset's rate). */
  readonly sampleRateHz?: OpusSampleRateHz;
  /** Target bitrate; default: libopus chooses for VOIP at this rate. */
  readonly bitrateBps?: number;
  /** Send in-band FEC tuned for this expected loss (RFC 7587 `useinbandfec=1`); default off. */
  readonly inbandFecLossPercent?: number;
}

export const OPUS_RTP_CLOCK_RATE_HZ = 48000;
/** opusscript's encoder output limit (its C++ MAX_PACKET_SIZE): three 1275-octet frames plus TOC. */
export const OPUS_MAX_PACKET_BYTES = 1276 * 3;
/** The longest frame we encode (60 ms); decoding accepts any packet up to 120 ms. */
const MAX_ENCODE_MS = 60;
/** opusscript's C++ MAX_FRAME_SIZE: the most samples per channel one decode returns, at any rate. */
const MAX_DECODE_SAMPLES = 5760;
const FRAME_DURATIONS_MS = [2.5, 5, 10, 20, 40, 60] as const;
const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_BITRATE_REQUEST = 4002;
const OPUS_SET_INBAND_FEC_REQUEST = 4012;
const OPUS_SET_PACKET_LOSS_PERC_REQUEST = 4014;
const OPUS_ERRORS: Record<number, string> = {
  [-1]: 'bad argument', [-2]: 'buffer too small', [-3]: 'internal error', [-4]: 'invalid packet',
  [-5]: 'unimplemented', [-6]: 'invalid state', [-7]: 'memory allocation failed',
};

/** The parts of opusscript's Emscripten module we use. */
interface OpusWasmModule {
  readonly HEAPU8: Uint8Array;
  readonly HEAPU16: Uint16Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  readonly OpusScriptHandler: new (sampleRateHz: number, channels: number, application: number) => OpusWasmHandler;
}
interface OpusWasmHandler {
  _encode(pcmPointer: number, pcmBytes: number, packetPointer: number, frameSamples: number): number;
  _decode(packetPointer: number, packetBytes: number, pcmPointer: number): number;
  _encoder_ctl(request: number, value: number): number;
  delete(): void;
}

let wasmModule: OpusWasmModule | undefined;

/** Loads the WASM module once per process and checks it has the shape we rely on. */
function opusWasm(): OpusWasmModule {
  if (wasmModule) return wasmModule;
  const factory: unknown = createRequire(import.meta.url)('opusscript/build/opusscript_native_wasm.js');
  const loaded: unknown = typeof factory === 'function' ? (factory as () => unknown)() : undefined;
  const m = loaded as Partial<OpusWasmModule> | undefined;
  if (!m || typeof m._malloc !== 'function' || typeof m._free !== 'function' || typeof m.OpusScriptHandler !== 'function' || !(m.HEAPU8 instanceof Uint8Array)) {
    throw new CodecError('internal', 'opus', 'opusscript WASM module does not have the expected exports');
  }
  wasmModule = m as OpusWasmModule;
  return wasmModule;
}

/** Bytes of WebAssembly memory opusscript's module holds (it grows, never shrinks): for leak checks. */
export function opusWasmHeapBytes(): number {
  return opusWasm().HEAPU8.length;
}

export class OpusCodec implements AudioCodec {
  readonly name = 'opus' as const;
  readonly clockRateHz = OPUS_RTP_CLOCK_RATE_HZ;
  readonly sampleRateHz: OpusSampleRateHz;
  private readonly wasm: OpusWasmModule;
  private readonly handler: OpusWasmHandler;
  private readonly frameSizes: ReadonlySet<number>;
  private readonly pcmInPtr: number;
  private readonly packetOutPtr: number;
  private readonly packetInPtr: number;
  private readonly pcmOutPtr: number;
  private closed = false;
  /** Concealment audio produced by libopus but not handed out yet. */
  private concealed: Int16Array = new Int16Array(0);

  constructor(options: OpusCodecOptions = {}) {
    this.sampleRateHz = options.sampleRateHz ?? 16000;
    this.frameSizes = new Set(FRAME_DURATIONS_MS.map((ms) => (this.sampleRateHz * ms) / 1000));
    this.wasm = opusWasm();
    try {
      this.handler = new this.wasm.OpusScriptHandler(this.sampleRateHz, 1, OPUS_APPLICATION_VOIP);
    } catch (e) {
      throw new CodecError('internal', 'opus', `cannot create encoder/decoder: ${errorMessage(e)}`, { cause: e });
    }
    // The glue's PCM layout is one byte per 16-bit word, and its encoder reads up to twice as many
    // words as bytes it is given: 4 words per sample in, 2 words per sample out.
    const maxEncodeSamples = (this.sampleRateHz * MAX_ENCODE_MS) / 1000;
    const pointers = [maxEncodeSamples * 8, OPUS_MAX_PACKET_BYTES, OPUS_MAX_PACKET_BYTES, MAX_DECODE_SAMPLES * 4].map((bytes) => this.wasm._malloc(bytes));
    if (pointers.some((p) => p === 0)) {
      for (const p of pointers) if (p !== 0) this.wasm._free(p);
      this.handler.delete();
      throw new CodecError('internal', 'opus', 'WASM heap exhausted');
    }
    [this.pcmInPtr, this.packetOutPtr, this.packetInPtr, this.pcmOutPtr] = pointers as [number, number, number, number];
    if (options.bitrateBps !== undefined) this.ctl(OPUS_SET_BITRATE_REQUEST, options.bitrateBps, 'bitrate');
    if (options.inbandFecLossPercent !== undefined) {
      this.ctl(OPUS_SET_INBAND_FEC_REQUEST, 1, 'in-band FEC');
      this.ctl(OPUS_SET_PACKET_LOSS_PERC_REQUEST, options.inbandFecLossPercent, 'expected loss');
    }
  }

  samplesPerFrame(ptimeMs: number): number {
    return pcmSamplesPerFrame('opus', this.sampleRateHz, ptimeMs);
  }

  /** One frame of 2.5, 5, 10, 20, 40 or 60 ms of mono PCM → one Opus packet. */
  encode(pcm: Int16Array): Uint8Array {
    this.assertOpen();
    if (!this.frameSizes.has(pcm.length)) {
      throw new CodecError('bad-frame-size', 'opus', `${pcm.length} samples is not an Opus frame (2.5–60 ms) at ${this.sampleRateHz} Hz`);
    }
    const words = this.wasm.HEAPU16;
    const base = this.pcmInPtr >> 1;
    for (let i = 0; i < pcm.length; i++) {
      const sample = (pcm[i] as number) & 0xffff;
      words[base + 2 * i] = sample & 0xff;
      words[base + 2 * i + 1] = sample >> 8;
    }
    const length = this.handler._encode(this.pcmInPtr, 2 * pcm.length, this.packetOutPtr, pcm.length);
    if (length < 0) throw new CodecError('internal', 'opus', `opus_encode: ${OPUS_ERRORS[length] ?? length}`);
    return this.wasm.HEAPU8.slice(this.packetOutPtr, this.packetOutPtr + length);
  }

  /** One Opus packet → its PCM (its own duration, up to 120 ms). Corrupt packets throw `invalid-payload`. */
  decode(payload: Uint8Array): Int16Array {
    this.assertOpen();
    if (payload.length === 0) throw new CodecError('invalid-payload', 'opus', 'empty payload (a lost packet is conceal(), not decode)');
    if (payload.length > OPUS_MAX_PACKET_BYTES) {
      throw new CodecError('payload-too-large', 'opus', `${payload.length} octets, at most ${OPUS_MAX_PACKET_BYTES}`);
    }
    this.wasm.HEAPU8.set(payload, this.packetInPtr);
    const samples = this.handler._decode(this.packetInPtr, payload.length, this.pcmOutPtr);
    if (samples < 0) throw new CodecError('invalid-payload', 'opus', `opus_decode: ${OPUS_ERRORS[samples] ?? samples}`);
    this.concealed = new Int16Array(0);
    return this.readPcm(samples);
  }

  /** `samples` of libopus loss concealment, continuing the last decoded audio (silence before any). */
  conceal(samples: number): Int16Array {
    this.assertOpen();
    if (!Number.isInteger(samples) || samples <= 0 || samples > MAX_DECODE_SAMPLES) {
      throw new CodecError('bad-frame-size', 'opus', `cannot conceal ${samples} samples`);
    }
    const out = new Int16Array(samples);
    let filled = 0;
    while (filled < samples) {
      if (this.concealed.length === 0) {
        const produced = this.handler._decode(this.packetInPtr, 0, this.pcmOutPtr);
        if (produced <= 0) break;
        this.concealed = this.readPcm(produced);
      }
      const take = Math.min(samples - filled, this.concealed.length);
      out.set(this.concealed.subarray(0, take), filled);
      this.concealed = this.concealed.subarray(take);
      filled += take;
    }
    return out;
  }

  /** Destroys the libopus encoder and decoder and frees our WASM buffers. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler.delete();
    for (const p of [this.pcmInPtr, this.packetOutPtr, this.packetInPtr, this.pcmOutPtr]) this.wasm._free(p);
    this.concealed = new Int16Array(0);
  }

  private readPcm(samples: number): Int16Array {
    const words = this.wasm.HEAPU16;
    const base = this.pcmOutPtr >> 1;
    const out = new Int16Array(samples);
    for (let i = 0; i < samples; i++) out[i] = (words[base + 2 * i] as number) | ((words[base + 2 * i + 1] as number) << 8);
    return out;
  }

  private ctl(request: number, value: number, what: string): void {
    const result = this.handler._encoder_ctl(request, value);
    if (result < 0) {
      this.close();
      throw new CodecError('unsupported', 'opus', `${what} ${value}: ${OPUS_ERRORS[result] ?? result}`);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new CodecError('closed', 'opus', 'used after close()');
  }
}

/** RFC 6716 §3.1 Table 2: the frame duration of each TOC configuration, in tenths of a millisecond. */
const TOC_FRAME_TENTHS_MS = [
  100, 200, 400, 600, 100, 200, 400, 600, 100, 200, 400, 600, // SILK NB, MB, WB
  100, 200, 100, 200, // hybrid SWB, FB
  25, 50, 100, 200, 25, 50, 100, 200, 25, 50, 100, 200, 25, 50, 100, 200, // CELT NB, WB, SWB, FB
];

/**
 * The audio duration of one Opus packet from its TOC byte (RFC 6716 §3.1): the frame duration
 * times 1 (code 0), 2 (codes 1, 2) or the frame count of a code 3 packet. Undefined for a packet
 * too short to say; the decoder is the judge of the rest.
 */
export function opusPacketDurationMs(packet: Uint8Array): number | undefined {
  const toc = packet[0];
  if (toc === undefined) return undefined;
  const frameTenths = TOC_FRAME_TENTHS_MS[toc >> 3] as number;
  const code = toc & 0x03;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code === 1 || code === 2) frames = 2;
  else {
    const count = packet[1];
    if (count === undefined) return undefined;
    frames = count & 0x3f;
  }
  return (frameTenths * frames) / 10;
}
