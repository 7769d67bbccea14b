// The two sub-band ADPCM coders of ITU-T G.722 (09/2012) at 64 kbit/s (mode 1), ported from the
// ITU-T reference code (G.191 STL `funcg722.c`: lsbcod, hsbcod, lsbdec, hsbdec and the blocks
// they call). Every value is a 16-bit word and every add, subtract, shift and Q15 multiply
// saturates exactly as the STL basic operators do (`add`, `sub`, `shl`, `mult`), because the
// conformance sequences of G.722 Appendix II check those corners bit for bit.
import {
  IHN, IHP, ILB, ILN, ILP, Q2, Q6, QM2, QM4, QM6, RH2, RL42, WH, WL,
} from './g722-tables.js';

const MAX_16 = 32767;
const MIN_16 = -32768;

function sat16(x: number): number {
  return x > MAX_16 ? MAX_16 : x < MIN_16 ? MIN_16 : x;
}
/** STL `add`/`sub`: 16-bit sum with saturation. */
function add16(a: number, b: number): number {
  return sat16(a + b);
}
/** STL `mult`: Q15 product (a·b) >> 15 with saturation (only −32768 · −32768 saturates). */
function mult16(a: number, b: number): number {
  return sat16((a * b) >> 15);
}
/** STL `limit` (blocks 6L/6H LIMIT): the reconstructed sub-band signals are 15-bit. */
export function limit15(x: number): number {
  return x > 16383 ? 16383 : x < -16384 ? -16384 : x;
}
/** |e| for the quantizers: e for e ≥ 0, otherwise −(e + 1) (STL: MAX_16 − (e & MAX_16)). */
function magnitude(e: number): number {
  return e >= 0 ? e : MAX_16 - (e & MAX_16);
}

/** The state of one sub-band ADPCM coder (the reference's AL, BL, DETL, DLT, NBL, PLT, RLT, SL, SPL, SZL). */
export class SubbandState {
  /** Quantizer scale factor DET and its logarithm NB. */
  det: number;
  nb = 0;
  /** Signal estimate S, and its pole (SP) and zero (SZ) sections. */
  s = 0;
  sp = 0;
  sz = 0;
  /** Pole predictor coefficients a1, a2 (index 0 unused). */
  readonly a = new Int16Array(3);
  /** Zero predictor coefficients b1..b6 (index 0 unused). */
  readonly b = new Int16Array(7);
  /** Quantized difference signal d(n), d(n−1) .. d(n−6). */
  readonly d = new Int16Array(7);
  /** Partially reconstructed signal p(n), p(n−1), p(n−2). */
  readonly p = new Int16Array(3);
  /** Reconstructed signal r(n), r(n−1), r(n−2). */
  readonly r = new Int16Array(3);

  constructor(private readonly initialDet: number) {
    this.det = initialDet;
  }

  /** The reset state (the reference's `rs == 1` branch of lsbcod/hsbcod). */
  reset(): void {
    this.det = this.initialDet;
    this.nb = 0;
    this.s = 0;
    this.sp = 0;
    this.sz = 0;
    this.a.fill(0);
    this.b.fill(0);
    this.d.fill(0);
    this.p.fill(0);
    this.r.fill(0);
  }
}

/** Lower band: DETL resets to 32. */
export function lowerBandState(): SubbandState {
  return new SubbandState(32);
}
/** Upper band: DETH resets to 8. */
export function upperBandState(): SubbandState {
  return new SubbandState(8);
}

/** Block 3L LOGSCL + SCALEL: adapts NBL and DETL from the 4-bit part of a lower-band code. */
function adaptLowerScale(st: SubbandState, code: number): void {
  const nb = add16(mult16(st.nb, 32512), WL[RL42[code >> 2] as number] as number);
  st.nb = nb < 0 ? 0 : nb > 18432 ? 18432 : nb;
  st.det = scaleFactor(st.nb, 8);
}

/** Block 3H LOGSCH + SCALEH: adapts NBH and DETH from an upper-band code. */
function adaptUpperScale(st: SubbandState, code: number): void {
  const nb = add16(mult16(st.nb, 32512), WH[RH2[code] as number] as number);
  st.nb = nb < 0 ? 0 : nb > 22528 ? 22528 : nb;
  st.det = scaleFactor(st.nb, 10);
}

/**
 * SCALEL/SCALEH: DET = 2^(NB/2048 + 2 − shift) in Q2 — the reference's ILA table lookup
 * ((ILA[(NB >> 6) + 64 or + 0] + 1) << 2), computed as a 32-entry mantissa and a shift.
 */
function scaleFactor(nb: number, shift: number): number {
  const mantissa = ILB[(nb >> 6) & 31] as number;
  const exponent = shift - (nb >> 11);
  return (exponent < 0 ? mantissa << -exponent : mantissa >> exponent) << 2;
}

/**
 * Block 4 (4L and 4H): reconstruct, adapt the pole (UPPOL1/UPPOL2) and zero (UPZERO) predictor
 * coefficients, shift the delay lines and compute the next estimate (FILTEP, FILTEZ, PREDIC).
 * Identical for both bands; `dq` is the quantized difference signal DLT or DH.
 */
function updatePredictor(st: SubbandState, dq: number): void {
  const { a, b, d, p, r } = st;
  d[0] = dq;
  p[0] = add16(dq, st.sz); // PARREC
  r[0] = add16(st.s, dq); // RECONS

  // UPZERO: sign-sign update of b1..b6 with leakage 1 − 2^-8, shifting d through the line.
  const step = dq === 0 ? 0 : 128;
  const sg0 = dq >> 15;
  for (let i = 6; i > 0; i--) {
    const sgi = (d[i] as number) >> 15;
    b[i] = add16(sgi === sg0 ? step : -step, mult16(b[i] as number, 32640));
    d[i] = d[i - 1] as number;
  }

  const p0 = p[0] as number;
  const sgp0 = p0 >> 15;
  const sgp1 = (p[1] as number) >> 15;
  const sgp2 = (p[2] as number) >> 15;
  const a1 = a[1] as number;

  // UPPOL2: a2 ← a2·(1 − 2^-7) ± 2^-7 − f(a1), limited to ±0.75.
  const wd1 = sat16(a1 * 4);
  const wd2 = (sgp0 === sgp1 ? sat16(-wd1) : wd1) >> 7;
  let a2 = add16(add16(wd2, sgp0 === sgp2 ? 128 : -128), mult16(a[2] as number, 32512));
  a2 = a2 > 12288 ? 12288 : a2 < -12288 ? -12288 : a2;

  // UPPOL1: a1 ← a1·(1 − 2^-8) ± 3·2^-8, limited to ±(1 − 2^-4 − a2) for stability.
  let newA1 = add16(sgp0 === sgp1 ? 192 : -192, mult16(a1, 32640));
  const bound = add16(15360, -a2);
  if (newA1 > bound) newA1 = bound;
  else if (add16(newA1, bound) < 0) newA1 = -bound;
  a[1] = newA1;
  a[2] = a2;
  p[2] = p[1] as number;
  p[1] = p0;

  // FILTEZ: sixth-order zero section, accumulated with saturation at every step.
  let sz = 0;
  for (let i = 6; i > 0; i--) {
    const twiceD = add16(d[i] as number, d[i] as number);
    sz = add16(sz, mult16(twiceD, b[i] as number));
  }
  st.sz = sz;

  // FILTEP: second-order pole section on the reconstructed signal.
  r[2] = r[1] as number;
  r[1] = r[0] as number;
  const r1 = r[1] as number;
  const r2 = r[2] as number;
  st.sp = add16(mult16(newA1, add16(r1, r1)), mult16(a2, add16(r2, r2)));

  st.s = add16(st.sp, st.sz); // PREDIC
}

/** Lower-band encoder (blocks 1L–4L): a 15-bit sub-band sample → a 6-bit code IL. */
export function encodeLowerBand(st: SubbandState, xl: number): number {
  const el = add16(xl, -st.s); // SUBTRA
  const wd = magnitude(el);
  // QUANTL: the first decision level above |el|, at most step 30.
  let step = 1;
  while (step < 30 && wd >= (((Q6[step] as number) * st.det) >> 12)) step++;
  const code = el < 0 ? (ILN[step] as number) : (ILP[step] as number);
  const dq = mult16(st.det, QM4[code >> 2] as number); // INVQAL
  adaptLowerScale(st, code);
  updatePredictor(st, dq);
  return code;
}

/** Upper-band encoder (blocks 1H–4H): a 15-bit sub-band sample → a 2-bit code IH. */
export function encodeUpperBand(st: SubbandState, xh: number): number {
  const eh = add16(xh, -st.s); // SUBTRA
  const step = magnitude(eh) >= ((Q2 * st.det) >> 12) ? 2 : 1; // QUANTH
  const code = eh < 0 ? (IHN[step] as number) : (IHP[step] as number);
  const dq = mult16(st.det, QM2[code] as number); // INVQAH
  adaptUpperScale(st, code);
  updatePredictor(st, dq);
  return code;
}

/** Lower-band decoder in mode 1 (blocks 5L, 6L, 2L–4L): a 6-bit code → a 15-bit sample. */
export function decodeLowerBand(st: SubbandState, code: number): number {
  const yl = limit15(add16(st.s, mult16(st.det, QM6[code] as number))); // INVQBL, RECONS, LIMIT
  const dq = mult16(st.det, QM4[code >> 2] as number); // INVQAL
  adaptLowerScale(st, code);
  updatePredictor(st, dq);
  return yl;
}

/** Upper-band decoder (blocks 2H–6H): a 2-bit code → a 15-bit sample. */
export function decodeUpperBand(st: SubbandState, code: number): number {
  const dq = mult16(st.det, QM2[code] as number); // INVQAH
  const yh = limit15(add16(st.s, dq)); // RECONS, LIMIT
  adaptUpperScale(st, code);
  updatePredictor(st, dq);
  return yh;
}
