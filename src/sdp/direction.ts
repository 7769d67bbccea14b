// Stream directions: RFC 4566 §6 attributes, RFC 3264 §6.1 answers, RFC 3264 §8.4 and RFC 6337 §5.3 hold.

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const FLAGS: Readonly<Record<Direction, { readonly send: boolean; readonly recv: boolean }>> = {
  sendrecv: { send: true, recv: true },
  sendonly: { send: true, recv: false },
  recvonly: { send: false, recv: true },
  inactive: { send: false, recv: false },
};

export function isDirection(value: unknown): value is Direction {
  return typeof value === 'string' && Object.hasOwn(FLAGS, value);
}

export const sends = (d: Direction): boolean => FLAGS[d].send;
export const receives = (d: Direction): boolean => FLAGS[d].recv;

function fromFlags(send: boolean, recv: boolean): Direction {
  if (send) return recv ? 'sendrecv' : 'sendonly';
  return recv ? 'recvonly' : 'inactive';
}

/**
 * What we may do given the direction the other side declared and the one we want: send only
 * where it receives, receive only where it sends. For an answer this is RFC 3264 §6.1's table
 * (sendonly → recvonly, recvonly → sendonly, inactive → inactive, sendrecv → what we want,
 * narrowed further when we are holding); after an answer it is what our offer has become.
 */
export function mutualDirection(remote: Direction, wanted: Direction): Direction {
  return fromFlags(receives(remote) && sends(wanted), sends(remote) && receives(wanted));
}

/** RFC 3264 §8.4: c=0.0.0.0 means "send me no RTP or RTCP", whatever the attribute says. */
export function withoutReceiving(d: Direction): Direction {
  return fromFlags(sends(d), false);
}

/**
 * The direction to offer for hold and resume (RFC 3264 §8.4, RFC 6337 §5.3): hold with sendonly,
 * or inactive when the other side already holds us; resume with sendrecv and let a side that
 * still holds us narrow it in its answer.
 */
export function holdDirection(state: { readonly holding: boolean; readonly heldByRemote: boolean }): Direction {
  if (!state.holding) return 'sendrecv';
  return state.heldByRemote ? 'inactive' : 'sendonly';
}
