/** The outbox API, re-exported for flows: see src/services/participants/outbox.ts. */
export {
  createEnqueueOutbound,
  type EnqueueOutbound,
  type EnqueueInput,
  type EnqueueResult,
  type OutboundInput,
  type OutboxKind,
} from '../services/participants/outbox.js';
