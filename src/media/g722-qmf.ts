// The transmit and receive quadrature mirror filters of ITU-T G.722 (09/2012),
// as in the ITU-T reference code (G.191 STL `funcg722.c`: qmf_tx, qmf_rx): a 24-tap delay line
// with the newest sample at index 0, shifted by two samples per sub-band sample.
import { QMF_H } from './g722-tables.js';
import { limit15 } from './g722-adpcm.js';

const TAPS = 24;

function sat16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/** Splits 16 kHz PCM into the two 8 kHz sub-band signals xL and xH (15-bit each). */
export class TransmitQmf {
  private readonly x = new Int32Array(TAPS);

  /**
   * One pair of input samples, `older` first in time. Writes [xL, xH] into `out`: the reference
   * sums even and odd taps, scales by 2^-14 (its ×2 coefficients and `>> 16`) and limits to 15 bits.
   */
  split(older: number, newer: number, out: Int32Array): void {
    const x = this.x;
    x[0] = newer;
    x[1] = older;
    let even = 0;
    let odd = 0;
    for (let i = 0; i < TAPS; i += 2) {
      even += (QMF_H[i] as number) * (x[i] as number);
      odd += (QMF_H[i + 1] as number) * (x[i + 1] as number);
    }
    x.copyWithin(2, 0, TAPS - 2);
    out[0] = limit15(sat16((even + odd) >> 14));
    out[1] = limit15(sat16((even - odd) >> 14));
  }

  reset(): void {
    this.x.fill(0);
  }
}

/** Recombines the two decoded sub-band signals rL and rH into two 16 kHz PCM samples. */
export class ReceiveQmf {
  private readonly y = new Int32Array(TAPS);

  /**
   * One pair of sub-band samples. Writes the two output samples, older first, into `out` at
   * `offset`: the reference's `extract_h(L_shl(acc, 4))` with ×2 coefficients is acc·2^-11,
   * saturated to 16 bits.
   */
  merge(rl: number, rh: number, out: Int16Array, offset: number): void {
    const y = this.y;
    y[0] = sat16(rl - rh);
    y[1] = sat16(rl + rh);
    let even = 0;
    let odd = 0;
    for (let i = 0; i < TAPS; i += 2) {
      even += (QMF_H[i] as number) * (y[i] as number);
      odd += (QMF_H[i + 1] as number) * (y[i + 1] as number);
    }
    y.copyWithin(2, 0, TAPS - 2);
    out[offset] = sat16(even >> 11);
    out[offset + 1] = sat16(odd >> 11);
  }

  reset(): void {
    this.y.fill(0);
  }
}
