export { PhoneController, type PhoneCalls, type PhoneLogger } from './phone-controller.js';
export { PhoneStateMachine, type PhoneState, type PhoneEvent, type PhoneAction } from './phone-state.js';
export { DialPlan, DialPlanError, MAX_DIGITS } from './dial-plan.js';
