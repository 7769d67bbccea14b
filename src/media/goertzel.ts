// The Goertzel algorithm: the DFT at one frequency, as a second-order recursion
// s[n] = x[n] + 2·cos(ω)·s[n−1] − s[n−2] with ω = 2π·f/fs. Used to measure a tone (a dial
// tone, DTMF, a test signal looped through RTP) without a full FFT.

/**
 * The amplitude of the `frequencyHz` component of `samples`, in the samples' own units: a sine
 * of peak A at exactly that frequency over a whole number of cycles yields A.
 */
export function goertzelAmplitude(samples: ArrayLike<number>, frequencyHz: number, sampleRateHz: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const omega = (2 * Math.PI * frequencyHz) / sampleRateHz;
  const coeff = 2 * Math.cos(omega);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = (samples[i] as number) + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / n;
}
