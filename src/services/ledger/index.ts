/** The points ledger (ledger.ts): the only way points move. */
export type * from './ledger.js';
export { createLedger } from './create-ledger.js';
