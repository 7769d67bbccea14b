// Cuts a byte stream of S16_LE PCM (a pipe from arecord delivers chunks of any length, even
// odd ones) into exact frames, and converts frames back to bytes for a pipe or a file.

/** Reassembles arbitrary chunks into whole frames of `samplesPerFrame` samples. */
export class AudioFrameCutter {
  readonly frameBytes: number;
  private readonly pending: Buffer;
  private pendingLength = 0;

  constructor(readonly samplesPerFrame: number) {
    if (!Number.isInteger(samplesPerFrame) || samplesPerFrame <= 0) {
      throw new RangeError(`samplesPerFrame must be a positive integer, got ${samplesPerFrame}`);
    }
    this.frameBytes = samplesPerFrame * 2;
    this.pending = Buffer.alloc(this.frameBytes);
  }

  /** Bytes held back until the next chunk completes a frame (always less than one frame). */
  get pendingBytes(): number {
    return this.pendingLength;
  }

  /** Consumes `chunk` and returns the frames it completed, oldest first. */
  push(chunk: Uint8Array): Int16Array[] {
    const frames: Int16Array[] = [];
    let offset = 0;
    if (this.pendingLength > 0) {
      const take = Math.min(this.frameBytes - this.pendingLength, chunk.length);
      this.pending.set(chunk.subarray(0, take), this.pendingLength);
      this.pendingLength += take;
      offset = take;
      if (this.pendingLength < this.frameBytes) return frames;
      frames.push(bytesToPcm(this.pending));
      this.pendingLength = 0;
    }
    while (chunk.length - offset >= this.frameBytes) {
      frames.push(bytesToPcm(chunk.subarray(offset, offset + this.frameBytes)));
      offset += this.frameBytes;
    }
    this.pending.set(chunk.subarray(offset), 0);
    this.pendingLength = chunk.length - offset;
    return frames;
  }

  /** Forgets a partial frame (a new stream starts, e.g. after a restart). */
  reset(): void {
    this.pendingLength = 0;
  }
}

/** Typed arrays use the machine's byte order; on a little-endian one (the Pi, x86) S16_LE is a plain copy. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Little-endian 16-bit samples from bytes (an odd trailing byte is ignored). */
export function bytesToPcm(bytes: Uint8Array): Int16Array {
  const n = bytes.length >> 1;
  const out = new Int16Array(n);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, n * 2));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** The samples as little-endian bytes, in a new buffer. */
export function pcmToBytes(samples: Int16Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
  const out = Buffer.allocUnsafe(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i] as number, i * 2);
  return out;
}
