// The one XML edge of the UPnP client: device descriptions and SOAP envelopes go through this
// parser with limits, and callers walk the result with the narrowing helpers below.
import { XMLParser } from 'fast-xml-parser';
import { IgdError } from './upnp-error.js';

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: 32,
  // UPnP XML has no DOCTYPE; the predefined entities (&amp; in a description) still decode.
  processEntities: { enabled: true, maxEntityCount: 0, maxTotalExpansions: 2000, maxExpandedLength: 70_000 },
  isArray: (name) => name === 'service' || name === 'device',
});

export function parseUpnpXml(text: string): unknown {
  try {
    return parser.parse(text);
  } catch (err) {
    throw new IgdError('malformed', `XML: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** The named child of an element, or undefined when `node` is not an element or has no such child. */
export function child(node: unknown, name: string): unknown {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
  return Object.hasOwn(node, name) ? (node as Record<string, unknown>)[name] : undefined;
}

/** An element's text: a leaf gives its string, an empty element ''. */
export function text(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  const t = child(node, '#text');
  return typeof t === 'string' ? t : undefined;
}

export function list(node: unknown): readonly unknown[] {
  if (node === undefined) return [];
  return Array.isArray(node) ? node : [node];
}

/** The leaf children of an element as name → text (SOAP out-arguments). */
export function leafTexts(node: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return out;
  for (const [k, v] of Object.entries(node)) {
    const t = text(v);
    if (t !== undefined) out.set(k, t);
  }
  return out;
}
