// Linux input events (struct input_event) from gpio-keys / gpio-matrix-keypad devices.
// 64-bit layout: struct timeval (2 × 8 bytes), __u16 type, __u16 code, __s32 value = 24 bytes.

export const INPUT_EVENT_BYTES = 24;
export const EV_KEY = 1;

export interface InputEvent {
  readonly type: number;
  readonly code: number;
  readonly value: number;
}

/** Splits a byte stream into input events; keeps a partial event for the next chunk. */
export class InputEventDecoder {
  private pending = Buffer.alloc(0);

  push(chunk: Buffer): InputEvent[] {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: InputEvent[] = [];
    let off = 0;
    for (; off + INPUT_EVENT_BYTES <= buf.length; off += INPUT_EVENT_BYTES) {
      out.push({ type: buf.readUInt16LE(off + 16), code: buf.readUInt16LE(off + 18), value: buf.readInt32LE(off + 20) });
    }
    this.pending = Buffer.from(buf.subarray(off));
    return out;
  }
}

export function encodeInputEvent(ev: InputEvent): Buffer {
  const b = Buffer.alloc(INPUT_EVENT_BYTES);
  b.writeUInt16LE(ev.type, 16);
  b.writeUInt16LE(ev.code, 18);
  b.writeInt32LE(ev.value, 20);
  return b;
}
