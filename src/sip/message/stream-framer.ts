// Framing SIP on TCP/TLS (RFC 3261 §18.3): messages end Content-Length bytes after the empty
// line; CRLFCRLF is a keepalive ping and CRLF its pong (RFC 5626 §4.4.1). A stream whose
// framing breaks cannot recover: push() throws and the transport closes the connection.
import { SipParseError } from './errors.js';
import { DEFAULT_LIMITS, findHeaderEnd, parseContentLength, parseMessage, type ParseLimits } from './parser.js';
import type { SipMessage } from './types.js';

export type FramedItem =
  | SipMessage
  | { kind: 'keepalive'; pong: boolean }
  /** A complete, well-framed message that does not parse: answer it (400) and carry on. */
  | { kind: 'invalid'; error: SipParseError };

const CONTENT_LENGTH_LINE = /^(?:content-length|l)[ \t]*:[ \t]*(.*?)[ \t]*$/gim;

export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);
  private readonly limits: ParseLimits;

  constructor(limits: Partial<ParseLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.buf.length;
  }

  push(chunk: Uint8Array): FramedItem[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: FramedItem[] = [];
    for (;;) {
      if (this.buf.length === 0) break;
      if (this.buf[0] === 0x0d && this.buf[1] === 0x0a) {
        if (this.buf[2] === 0x0d && this.buf[3] === 0x0a) {
          out.push({ kind: 'keepalive', pong: false });
          this.buf = this.buf.subarray(4);
          continue;
        }
        // A lone CRLF is a pong. (A ping split after its first CRLF is read as two pongs;
        // the peer then retries, which RFC 5626 allows for.)
        if (this.buf.length === 2 || this.buf[2] !== 0x0d) {
          out.push({ kind: 'keepalive', pong: true });
          this.buf = this.buf.subarray(2);
          continue;
        }
        break; // "\r\n\r" — wait for one more byte
      }
      const end = findHeaderEnd(this.buf);
      if (!end) {
        if (this.buf.length > this.limits.maxBytes) throw new SipParseError('too-large', `no end of headers within ${this.limits.maxBytes} bytes`, 513);
        break;
      }
      const head = this.buf.toString('latin1', 0, end.at);
      const values = [...head.matchAll(CONTENT_LENGTH_LINE)].map((m) => m[1] ?? '');
      let length: number;
      try {
        // §18.3: Content-Length is mandatory on streams; its absence is read as 0.
        length = parseContentLength(values) ?? 0;
      } catch (err) {
        throw new SipParseError('bad-framing', `stream framing lost: ${(err as Error).message}`, 400);
      }
      const total = end.at + end.sep + length;
      if (total > this.limits.maxBytes) throw new SipParseError('too-large', `message of ${total} bytes exceeds ${this.limits.maxBytes}`, 513);
      if (this.buf.length < total) break;
      const bytes = this.buf.subarray(0, total);
      this.buf = this.buf.subarray(total);
      try {
        out.push(parseMessage(bytes, this.limits));
      } catch (err) {
        if (!(err instanceof SipParseError)) throw err;
        out.push({ kind: 'invalid', error: err });
      }
    }
    if (this.buf.length === 0 || this.buf.byteOffset > 64 * 1024) this.buf = Buffer.from(this.buf);
    return out;
  }
}
