// The constant tables of ITU-T G.722 (09/2012), in the form the ITU-T reference code
// (G.191 STL `funcg722.c`) and its public-domain descendants use them: quantizer levels already
// scaled by 8 (Q15 products with the scale factor), inverse-quantizer outputs signed and indexed
// directly by the code word.

/** 6-bit lower-band quantizer decision levels Q6 (STL `quantl`), indexed by magnitude step 0..30. */
export const Q6 = Int16Array.of(
  0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714,
  786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 3200,
);

/** Lower-band code for a negative error by magnitude step (ILN; STL `misil[0]`). */
export const ILN = Uint8Array.of(
  0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19,
  18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0,
);

/** Lower-band code for a non-negative error by magnitude step (ILP; STL `misil[1]`). */
export const ILP = Uint8Array.of(
  0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47,
  46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0,
);

/**
 * 4-bit inverse quantizer QQ4 × 8, signed, indexed by the top 4 bits of a lower-band code
 * (IL >> 2) (STL `invqal`). This is the quantized difference that drives the predictor in every mode.
 */
export const QM4 = Int16Array.of(
  0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
  20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
);

/** 6-bit inverse quantizer QQ6 × 8, signed, indexed by the full lower-band code (mode 1; STL `invqbl`). */
export const QM6 = Int16Array.of(
  -136, -136, -136, -136, -24808, -21904, -19008, -16704,
  -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
  -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
  -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
  24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
  10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
  4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
  1688, 1360, 1040, 728, 432, 136, -432, -136,
);

/** RIL4: the magnitude index 0..7 of a 4-bit lower-band code, for the log scale factor. */
export const RL42 = Uint8Array.of(0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0);

/** Lower-band log scale factor multipliers WL (STL `logscl`), indexed by RL42. */
export const WL = Int16Array.of(-60, -30, 58, 172, 334, 538, 1198, 3042);

/**
 * The fractional part of the inverse log-to-linear conversion (STL table ILA): 2^(i/32) × 2048 for
 * i = 0..31. The scale factor is this value shifted by the integer part of NB/2048, which is the
 * 353-entry ILA table of the reference folded to 32 entries.
 */
export const ILB = Int16Array.of(
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
  2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
);

/** Upper-band decision level Q2 (STL `quanth`): 564 (× 8 in the reference, hence `>> 12` here). */
export const Q2 = 564;

/** Upper-band code for a negative / non-negative error by magnitude step 1..2 (STL `misih`). */
export const IHN = Uint8Array.of(0, 1, 0);
export const IHP = Uint8Array.of(0, 3, 2);

/** 2-bit inverse quantizer QQ2 × 8, signed, indexed by the upper-band code IH. */
export const QM2 = Int16Array.of(-7408, -1616, 7408, 1616);

/** RIH2: the magnitude index of an upper-band code, for the log scale factor. */
export const RH2 = Uint8Array.of(2, 1, 2, 1);

/** Upper-band log scale factor multipliers WH (STL `logsch`), indexed by RH2. */
export const WH = Int16Array.of(0, -214, 798);

/**
 * The 24 QMF coefficients h0..h23 (STL `coef_qmf` / 2, in units of 2^-13; h(23 − i) = h(i)).
 * With the newest sample at delay 0, even taps weight the newer sample of each pair and odd taps
 * the older one.
 */
export const QMF_H = Int32Array.of(
  3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876,
  3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11, 3,
);
