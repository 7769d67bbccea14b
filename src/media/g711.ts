// ITU-T G.711 µ-law and A-law, as in the Sun Microsystems reference g711.c (public domain,
// "updated to correctly convert unquantized 16 bit values", B. Lindberg, 30 Dec 1994): the
// encoders truncate a 16-bit sample to 14 (µ-law) or 13 (A-law) bits and search the segment
// ends; the decoders return G.711's reconstruction values scaled to 16 bits, and are tables.

/** End of each segment of the 14-bit biased µ-law magnitude (G.711 Table 2). */
const ULAW_SEGMENT_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff] as const;
/** End of each segment of the 13-bit A-law magnitude (G.711 Table 1). */
const ALAW_SEGMENT_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff] as const;
const ULAW_BIAS = 0x84;
const ULAW_CLIP = 8159;

function segmentOf(magnitude: number, ends: readonly number[]): number {
  for (let seg = 0; seg < ends.length; seg++) {
    if (magnitude <= (ends[seg] as number)) return seg;
  }
  return ends.length;
}

/** A number as a 16-bit PCM sample: truncated toward zero, clamped, NaN as silence. */
function toInt16(sample: number): number {
  if (Number.isNaN(sample)) return 0;
  return Math.max(-32768, Math.min(32767, Math.trunc(sample)));
}

export function linearToUlaw(sample: number): number {
  let pcm = toInt16(sample) >> 2;
  let mask: number;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7f;
  } else {
    mask = 0xff;
  }
  pcm = Math.min(pcm, ULAW_CLIP) + (ULAW_BIAS >> 2);
  const seg = segmentOf(pcm, ULAW_SEGMENT_END);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0f)) ^ mask;
}

export function linearToAlaw(sample: number): number {
  let pcm = toInt16(sample) >> 3;
  let mask: number;
  if (pcm >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const seg = segmentOf(pcm, ALAW_SEGMENT_END);
  if (seg >= 8) return 0x7f ^ mask;
  const quant = seg < 2 ? (pcm >> 1) & 0x0f : (pcm >> seg) & 0x0f;
  return ((seg << 4) | quant) ^ mask;
}

function ulawReconstruct(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + ULAW_BIAS) << ((u & 0x70) >> 4);
  return u & 0x80 ? ULAW_BIAS - t : t - ULAW_BIAS;
}

function alawReconstruct(code: number): number {
  const a = code ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  if (seg === 0) t += 8;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

const ULAW_DECODE = Int16Array.from({ length: 256 }, (_, c) => ulawReconstruct(c));
const ALAW_DECODE = Int16Array.from({ length: 256 }, (_, c) => alawReconstruct(c));

/** Decodes one µ-law code (only its low 8 bits are used). 0x7F and 0xFF both mean 0. */
export function ulawToLinear(code: number): number {
  return ULAW_DECODE[code & 0xff] as number;
}

/** Decodes one A-law code (only its low 8 bits are used). */
export function alawToLinear(code: number): number {
  return ALAW_DECODE[code & 0xff] as number;
}

export function encodeUlaw(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = linearToUlaw(pcm[i] as number);
  return out;
}

export function encodeAlaw(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = linearToAlaw(pcm[i] as number);
  return out;
}

export function decodeUlaw(codes: Uint8Array): Int16Array {
  const out = new Int16Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = ULAW_DECODE[codes[i] as number] as number;
  return out;
}

export function decodeAlaw(codes: Uint8Array): Int16Array {
  const out = new Int16Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = ALAW_DECODE[codes[i] as number] as number;
  return out;
}
