export { Dialog, dialogKey, type DialogId, type DialogInit, type DialogRequestOptions, type DialogState } from './dialog.js';
export { DialogError, type DialogErrorCode } from './dialog-errors.js';
export { ReliableProvisionalUas, parseRAck, type RAck, type ReliableProvisionalAction, type ReliableProvisionalState } from './reliable-provisional-uas.js';
export { PrackUac, type PrackDecision } from './prack-uac.js';
