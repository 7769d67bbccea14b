// RIFF/WAVE for 16-bit mono PCM: the reader parses a whole file with limits and accepts only
// that format (plain PCM, or WAVE_FORMAT_EXTENSIBLE whose sub-format is PCM); the header
// encoder writes the canonical 44-byte form, whose sizes a streaming writer patches on close.
import { CodedError } from '../util/index.js';
import { bytesToPcm } from './audio-frame-cutter.js';

export type WavErrorCode =
  | 'not-riff'
  | 'not-wave'
  | 'truncated'
  | 'missing-fmt'
  | 'missing-data'
  | 'bad-fmt'
  | 'unsupported-format'
  | 'too-large';

export class WavError extends CodedError<WavErrorCode> {}

export type WavAudio = {
  readonly sampleRateHz: number;
  readonly samples: Int16Array;
};

export const WAV_HEADER_BYTES = 44;
export const WAV_MAX_DATA_BYTES = 0xffff_ffff - (WAV_HEADER_BYTES - 8);
export const WAV_DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Decodes a 16-bit mono PCM WAV file; anything else is a WavError saying what it is instead. */
export function decodeWav(bytes: Uint8Array, maxBytes = WAV_DEFAULT_MAX_FILE_BYTES): WavAudio {
  if (bytes.length > maxBytes) throw new WavError('too-large', `WAV file is ${bytes.length} bytes, over the limit of ${maxBytes}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12) throw new WavError(bytes.length >= 4 && tag(0) !== 'RIFF' ? 'not-riff' : 'truncated', `WAV file is only ${bytes.length} bytes`);
  if (tag(0) !== 'RIFF') throw new WavError('not-riff', `not a RIFF file (starts with ${JSON.stringify(tag(0))})`);
  if (tag(8) !== 'WAVE') throw new WavError('not-wave', `a RIFF file but not WAVE (form type ${JSON.stringify(tag(8))})`);
  const riffEnd = 8 + view.getUint32(4, true);
  if (riffEnd > bytes.length) throw new WavError('truncated', `RIFF size says ${riffEnd} bytes but the file has ${bytes.length}`);

  let fmt: { sampleRateHz: number } | undefined;
  let data: Uint8Array | undefined;
  for (let at = 12; at < riffEnd; ) {
    if (at + 8 > riffEnd) throw new WavError('truncated', `chunk header at byte ${at} is cut off`);
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (body + size > riffEnd) throw new WavError('truncated', `chunk "${id}" at byte ${at} claims ${size} bytes, past the end of the file`);
    if (id === 'fmt ') fmt = parseFmt(view, body, size);
    else if (id === 'data' && data === undefined) data = bytes.subarray(body, body + size);
    at = body + size + (size & 1); // chunks are padded to an even length
  }
  if (!fmt) throw new WavError('missing-fmt', 'WAV file has no "fmt " chunk');
  if (!data) throw new WavError('missing-data', 'WAV file has no "data" chunk');
  if (data.length % 2 !== 0) throw new WavError('truncated', `data chunk of ${data.length} bytes ends in half a sample`);
  return { sampleRateHz: fmt.sampleRateHz, samples: bytesToPcm(data) };
}

function parseFmt(view: DataView, at: number, size: number): { sampleRateHz: number } {
  if (size < 16) throw new WavError('bad-fmt', `"fmt " chunk is ${size} bytes, need at least 16`);
  let formatTag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRateHz = view.getUint32(at + 4, true);
  const byteRate = view.getUint32(at + 8, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  if (formatTag === WAVE_FORMAT_EXTENSIBLE) {
    // WAVEFORMATEXTENSIBLE: cbSize(2) validBits(2) channelMask(4) then the sub-format GUID,
    // whose first two bytes are the format tag.
    if (size < 40) throw new WavError('bad-fmt', `extensible "fmt " chunk is ${size} bytes, need 40`);
    formatTag = view.getUint16(at + 24, true);
  }
  if (formatTag !== WAVE_FORMAT_PCM) {
    throw new WavError('unsupported-format', `WAV format tag 0x${formatTag.toString(16).padStart(4, '0')} is not PCM (only 16-bit mono PCM is supported)`);
  }
  if (channels !== 1 || bitsPerSample !== 16) {
    throw new WavError('unsupported-format', `WAV file is ${channels}-channel ${bitsPerSample}-bit; only 16-bit mono PCM is supported`);
  }
  if (sampleRateHz === 0 || blockAlign !== 2 || byteRate !== sampleRateHz * 2) {
    throw new WavError('bad-fmt', `inconsistent "fmt " chunk: ${sampleRateHz} Hz, block align ${blockAlign}, byte rate ${byteRate}`);
  }
  return { sampleRateHz };
}

/** The canonical 44-byte header of a 16-bit mono PCM file holding `dataBytes` bytes of samples. */
export function encodeWavHeader(sampleRateHz: number, dataBytes: number): Buffer {
  if (!Number.isInteger(dataBytes) || dataBytes < 0 || dataBytes > WAV_MAX_DATA_BYTES) {
    throw new RangeError(`WAV data size ${dataBytes} is outside 0..${WAV_MAX_DATA_BYTES}`);
  }
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(WAV_HEADER_BYTES - 8 + dataBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  h.writeUInt16LE(1, 22); // channels
  h.writeUInt32LE(sampleRateHz, 24);
  h.writeUInt32LE(sampleRateHz * 2, 28); // byte rate
  h.writeUInt16LE(2, 32); // block align
  h.writeUInt16LE(16, 34); // bits per sample
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** A whole WAV file holding `samples`. */
export function encodeWav(samples: Int16Array, sampleRateHz: number): Buffer {
  const out = Buffer.alloc(WAV_HEADER_BYTES + samples.length * 2);
  encodeWavHeader(sampleRateHz, samples.length * 2).copy(out, 0);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i] as number, WAV_HEADER_BYTES + i * 2);
  return out;
}
