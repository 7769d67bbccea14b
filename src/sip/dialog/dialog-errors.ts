import { CodedError } from '../../util/errors.js';

export type DialogErrorCode = 'illegal-transition' | 'no-dialog' | 'bad-request' | 'out-of-order';

export class DialogError extends CodedError<DialogErrorCode> {}
