// Writes a message's text straight into one reused scratch buffer, then copies it out once, so
// serialising builds no intermediate strings (no "Name: value\r\n" per line, no growing
// concatenation to flatten and encode at the end).

const INITIAL_BYTES = 16 * 1024;
const COLON_SPACE = 0x203a; // ": " as a little-endian uint16
const CRLF = 0x0a0d;

export class WireWriter {
  private buf = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  private at = 0;

  /** Starts a new message (the scratch buffer is reused). */
  reset(): this {
    this.at = 0;
    return this;
  }

  text(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.room(s.length * 3);
    this.at += this.buf.write(s, this.at, 'utf8');
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  colonSpace(): void {
    this.room(2);
    this.buf.writeUInt16LE(COLON_SPACE, this.at);
    this.at += 2;
  }

  crlf(): void {
    this.room(2);
    this.buf.writeUInt16LE(CRLF, this.at);
    this.at += 2;
  }

  decimal(n: number): void {
    this.text(String(n));
  }

  /** The bytes written, in a buffer of their own (small ones come from Node's shared pool). */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.at);
    this.buf.copy(out, 0, 0, this.at);
    return out;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
}
