export { type Clock, sleepOn, type TimerHandle } from './clock.js';
export { SystemClock, systemClock } from './system-clock.js';
export { VirtualClock } from './virtual-clock.js';
