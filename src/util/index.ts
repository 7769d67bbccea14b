export { type Clock, type TimerHandle, SystemClock, FakeClock } from './clock.js';
export { TypedEmitter, type EventMap, type Listener } from './typed-emitter.js';
export { CodedError, errorMessage } from './errors.js';
export { probedIndexSize, removeFromProbedIndex } from './probed-index.js';
