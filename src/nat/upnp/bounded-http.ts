// HTTP for the UPnP client: fetch with a deadline and a body size limit, so a LAN device that
// stalls or streams forever costs the phone a timeout, never memory or a hung start-up.
import { IgdError } from './upnp-error.js';

export interface BoundedRequest {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Aborts the exchange early (the owner closing). */
  readonly signal?: AbortSignal;
}

export interface BoundedResponse {
  readonly status: number;
  readonly body: string;
}

export async function boundedFetch(url: string, req: BoundedRequest): Promise<BoundedResponse> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
  const fail = (err: unknown): IgdError => {
    if (req.signal?.aborted) return new IgdError('closed', 'UPnP client closed', { cause: err });
    if (timeout.aborted) return new IgdError('timeout', `no complete answer from ${url} in ${req.timeoutMs} ms`, { cause: err });
    if (err instanceof IgdError) return err;
    return new IgdError('network', `${url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  };
  try {
    const res = await fetch(url, {
      method: req.method ?? 'GET',
      ...(req.headers ? { headers: req.headers } : {}),
      ...(req.body !== undefined ? { body: req.body } : {}),
      signal,
      redirect: 'error',
    });
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > req.maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw new IgdError('too-large', `${url}: Content-Length ${declared} over ${req.maxBytes}`);
    }
    return { status: res.status, body: await readLimited(res, req.maxBytes, url) };
  } catch (err) {
    throw fail(err);
  }
}

async function readLimited(res: Response, maxBytes: number, url: string): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new IgdError('too-large', `${url}: body over ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
