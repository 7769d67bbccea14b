// Response bodies prepared once (the page, the settings list) and served from the same bytes
// until their content changes, with a strong ETag so a browser that has them gets 304 Not
// Modified. The phone sends RTP from this event loop: a page load must not cost it a
// serialisation per request (issue 6).
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface PreparedBody {
  readonly bytes: Buffer;
  /** RFC 9110 §8.8.3: a strong entity tag, quoted: a hash of the bytes, so equal content has the same tag across restarts. */
  readonly etag: string;
  readonly contentType: string;
}

export function prepareBody(text: string, contentType: string): PreparedBody {
  const bytes = Buffer.from(text, 'utf8');
  return { bytes, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`, contentType };
}

const ENTITY_TAG = /(?:W\/)?"[^"]*"/g;

/**
 * RFC 9110 §13.1.2: If-None-Match holds a list of entity tags (or `*`) and, for GET and HEAD,
 * matches with the weak comparison: a `W/` prefix on either side is ignored.
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  for (const tag of header.match(ENTITY_TAG) ?? []) {
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === etag) return true;
  }
  return false;
}

/**
 * Sends a prepared body, or 304 without one when the request's If-None-Match names its ETag.
 * `cacheControl` goes on both (RFC 9110 §15.4.5: a 304 carries what the 200 would have).
 */
export function sendPrepared(req: FastifyRequest, reply: FastifyReply, body: PreparedBody, cacheControl: string): FastifyReply {
  void reply.header('etag', body.etag).header('cache-control', cacheControl);
  const condition = req.headers['if-none-match'];
  if (ifNoneMatchMatches(Array.isArray(condition) ? condition.join(', ') : condition, body.etag)) return reply.code(304).send();
  return reply.type(body.contentType).send(body.bytes);
}
