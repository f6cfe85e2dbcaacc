/** The outbox as services and flows use it: enqueue a message on the caller's transaction. */
export {
  createEnqueueOutbound,
  type EnqueueOutbound,
  type EnqueueInput,
  type EnqueueResult,
  type OutboundInput,
  type OutboxKind,
} from './enqueue-outbound.js';
export { createOutboxNotifier } from './notifier.js';
