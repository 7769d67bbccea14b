// Finding the IGD (UPnP Device Architecture 2.0 §1.3): multicast M-SEARCH for IGD:1 and IGD:2,
// follow each answer's LOCATION to its device description, and take the first device with a
// WAN connection service. Every wait has a deadline and every input a size limit.
import { createSocket, type RemoteInfo } from 'node:dgram';
import { SystemClock, type Clock } from '../../util/index.js';
import { boundedFetch } from './bounded-http.js';
import { IGD_MAX_DESCRIPTION_BYTES, parseIgdDescription, type IgdService } from './igd-description.js';
import { IGD_SEARCH_TARGETS, SSDP_MAX_RESPONSE_BYTES, SSDP_MULTICAST_ADDRESS, SSDP_PORT, buildMSearch, parseSsdpResponse } from './ssdp-message.js';
import { IgdError } from './upnp-error.js';

export interface DiscoverIgdOptions {
  /** How long to listen for SSDP answers. Default 3000 ms. */
  readonly timeoutMs?: number;
  /** MX of the M-SEARCH (1..5 s); kept below the timeout. Default 2. */
  readonly mxS?: number;
  readonly searchTargets?: readonly string[];
  /** Local IPv4 address to send from (and the multicast interface). Default: any. */
  readonly bindAddress?: string;
  /** Where M-SEARCH goes. Default 239.255.255.250:1900; tests point it at a loopback responder. */
  readonly target?: { readonly address: string; readonly port: number };
  /** Refuse a LOCATION whose host is not the answer's sender. Default true. */
  readonly requireLocationFromSender?: boolean;
  readonly httpTimeoutMs?: number;
  /** Distinct LOCATIONs followed at most. Default 8. */
  readonly maxLocations?: number;
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
}

export function discoverIgd(o: DiscoverIgdOptions = {}): Promise<IgdService> {
  const clock = o.clock ?? new SystemClock();
  const timeoutMs = o.timeoutMs ?? 3000;
  const mxS = Math.max(1, Math.min(o.mxS ?? 2, Math.floor(timeoutMs / 1000) || 1));
  const target = o.target ?? { address: SSDP_MULTICAST_ADDRESS, port: SSDP_PORT };
  const maxLocations = o.maxLocations ?? 8;
  const socket = createSocket({ type: 'udp4', reuseAddr: false });
  const locations = new Set<string>();
  const pending = new Set<Promise<void>>();
  let lastProblem = '';
  let settled = false;
  let listening = true;

  return new Promise<IgdService>((resolve, reject) => {
    const timers = [clock.setTimer(timeoutMs / 3, () => search()), clock.setTimer(timeoutMs, () => void finish())];
    const stopListening = (): void => {
      if (!listening) return;
      listening = false;
      for (const t of timers) clock.cancel(t);
      o.signal?.removeEventListener('abort', onAbort);
      socket.close();
    };
    const settle = (result: IgdService | IgdError): void => {
      stopListening();
      if (settled) return;
      settled = true;
      if (result instanceof IgdError) reject(result);
      else resolve(result);
    };
    const finish = async (): Promise<void> => {
      stopListening();
      while (pending.size > 0) await Promise.all(pending);
      settle(new IgdError('no-igd', `no IGD answered within ${timeoutMs} ms${lastProblem ? ` (last problem: ${lastProblem})` : ''}`));
    };
    const onAbort = (): void => settle(new IgdError('closed', 'IGD discovery aborted'));
    const search = (): void => {
      for (const st of o.searchTargets ?? IGD_SEARCH_TARGETS) {
        socket.send(buildMSearch(st, mxS), target.port, target.address, (err) => {
          if (err) lastProblem = `M-SEARCH not sent: ${err.message}`;
        });
      }
    };
    const follow = (location: string): void => {
      const p = boundedFetch(location, { timeoutMs: o.httpTimeoutMs ?? 3000, maxBytes: IGD_MAX_DESCRIPTION_BYTES, ...(o.signal ? { signal: o.signal } : {}) })
        .then((res) => {
          if (res.status !== 200) throw new IgdError('http-status', `${location}: HTTP ${res.status}`);
          settle(parseIgdDescription(res.body, location));
        })
        .catch((err: unknown) => {
          lastProblem = err instanceof Error ? err.message : String(err);
        })
        .finally(() => pending.delete(p));
      pending.add(p);
    };
    const onMessage = (bytes: Buffer, rinfo: RemoteInfo): void => {
      if (settled || bytes.length > SSDP_MAX_RESPONSE_BYTES) return;
      try {
        const answer = parseSsdpResponse(bytes, o.requireLocationFromSender === false ? undefined : rinfo.address);
        if (!answer || locations.has(answer.location) || locations.size >= maxLocations) return;
        locations.add(answer.location);
        follow(answer.location);
      } catch (err) {
        lastProblem = err instanceof Error ? err.message : String(err);
      }
    };

    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener('abort', onAbort);
    socket.on('message', onMessage);
    socket.on('error', (err) => {
      lastProblem = err.message;
    });
    socket.bind(0, o.bindAddress, () => {
      if (!listening) return;
      // UDA 2.0 §1.1.2: SSDP multicast TTL defaults to 2.
      socket.setMulticastTTL(2);
      if (o.bindAddress) socket.setMulticastInterface(o.bindAddress);
      search();
    });
  });
}

/**
 * The local address the kernel would use to reach `remoteAddress`: what an IGD in secure mode
 * expects as NewInternalClient. A connected UDP socket asks the routing table; nothing is sent.
 */
export function localAddressFor(remoteAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket(remoteAddress.includes(':') ? 'udp6' : 'udp4');
    s.once('error', (err) => {
      s.close();
      reject(new IgdError('network', `no route to ${remoteAddress}: ${err.message}`, { cause: err }));
    });
    s.connect(SSDP_PORT, remoteAddress, () => {
      const { address } = s.address();
      s.close();
      resolve(address);
    });
  });
}
