export { deliveryWorkflow, pauseSignal, resumeSignal, cancelSignal, retryNowSignal, statusQuery } from './delivery.js';
export { recoveryWorkflow } from './recovery.js';
export { retentionWorkflow } from './retention.js';
