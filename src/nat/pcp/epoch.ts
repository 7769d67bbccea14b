// Did the server lose its mappings? RFC 6887 §8.5 (refining RFC 6886 §3.6): compare how far the
// server's epoch moved with how far our clock moved since the previous response, with slack for
// clock drift (1/16) and rounding (2 s). Pure.

export interface EpochSample {
  readonly epochS: number;
  /** Our clock when the response arrived. */
  readonly clientMs: number;
}

/** True when `curr` means the server restarted or lost state since `prev`. */
export function epochLostState(prev: EpochSample | undefined, curr: EpochSample): boolean {
  if (!prev) return false;
  if (curr.epochS < prev.epochS - 1) return true;
  const c = (curr.clientMs - prev.clientMs) / 1000;
  const s = curr.epochS - prev.epochS;
  return c + 2 < s - s / 16 || s + 2 < c - c / 16;
}
