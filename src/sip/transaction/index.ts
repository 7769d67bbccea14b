export { TransactionLayer, ClientTransaction, ServerTransaction, MAGIC_COOKIE, serverKey, clientKey, type Peer, type ClientEvents, type TransactionUser, type TransactionLayerOptions } from './transaction-layer.js';
export { InviteClientTransaction, type InviteClientState } from './invite-client-transaction.js';
export { NonInviteClientTransaction, type NonInviteClientState } from './non-invite-client-transaction.js';
export { InviteServerTransaction, TRYING_DELAY_MS, type InviteServerState } from './invite-server-transaction.js';
export { NonInviteServerTransaction, type NonInviteServerState } from './non-invite-server-transaction.js';
export { DEFAULT_TIMERS, TransactionError, type TransactionTimers, type TxAction, type TimerName } from './transaction-types.js';
