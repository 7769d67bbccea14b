export { type Clock, type TimerHandle, SystemClock, FakeClock } from './clock.js';
export { TypedEmitter, type EventMap, type Listener } from './typed-emitter.js';
export { CodedError, errorMessage } from './errors.js';
export { addToProbedIndex, probedIndexSize, removeSlotFromProbedIndex } from './probed-index.js';
