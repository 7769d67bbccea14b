export { type BoardDefinition, BoardError, loadBoard, listBoards, parseBoard, autoBoardName } from './board.js';
export type { Hardware, HardwareEvents, HardwareState, LedState } from './hardware.js';
export { SimHardware } from './sim/sim-hardware.js';
export { LinuxHardware, type LinuxHardwareOptions } from './linux/linux-hardware.js';
export { InputEventDecoder, encodeInputEvent, EV_KEY, INPUT_EVENT_BYTES } from './linux/input-events.js';

import type { BoardDefinition } from './board.js';
import type { Hardware } from './hardware.js';
import { SimHardware } from './sim/sim-hardware.js';
import { LinuxHardware } from './linux/linux-hardware.js';

/** Creates the drivers a board names: the sim board gets SimHardware, real boards LinuxHardware. */
export function openHardware(board: BoardDefinition, onListenerError?: (err: unknown, event: string) => void): Hardware {
  const sim = board.hook.driver === 'sim' && board.keypad.driver === 'sim';
  return sim ? new SimHardware(board, onListenerError) : new LinuxHardware(board, {}, onListenerError);
}
