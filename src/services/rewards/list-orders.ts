/** Orders as participants ("my orders") and managers (filtered lists, the warehouse's CSV) read them. */
import type { Db } from '../../db/sql.js';
import * as ordersRepo from '../../db/rewards/orders-repo.js';
import { localized } from '../../domain/rewards/index.js';
import type { OrderFilter } from '../../domain/rewards/schema.js';
import { STANDARD_CSV, writeCsv, type CsvFormat } from '../../shared/csv.js';
import type { RewardsArea } from './area.js';
import type { ParticipantOrder } from './types.js';

export async function ordersOf(
  db: Db,
  participantId: string,
  options: { limit?: number; offset?: number } = {},
): Promise<{ items: ParticipantOrder[]; total: number }> {
  const limit = Math.min(Math.max(options.limit ?? 5, 1), 50);
  const items = await ordersRepo.ofParticipant(db, participantId, limit, options.offset ?? 0);
  return { items, total: await ordersRepo.countOfParticipant(db, participantId) };
}

export async function listOrders(db: Db, area: RewardsArea, filter: OrderFilter) {
  return ordersRepo.list(db, await area.participants.defaultProgramId(db), filter);
}

const SHIPPING_HEADER = ['order_id', 'ordered_at', 'status', 'reward', 'points', 'participant', 'phone', 'recipient', 'method', 'address_or_store', 'tracking'];

/** Physical orders as CSV for the warehouse (default: those waiting to ship). */
export async function shippingCsv(db: Db, area: RewardsArea, filter: Partial<OrderFilter>, format: CsvFormat = STANDARD_CSV): Promise<string> {
  const { limit: _limit, offset: _offset, ...rest } = filter;
  const rows: unknown[][] = [SHIPPING_HEADER];
  // Every matching order, oldest first (the order the warehouse ships in), read in pages from one
  // cursor: a list's page limit must never silently drop orders from the warehouse's file.
  const items = await ordersRepo.allForExport(db, await area.participants.defaultProgramId(db), {
    status: 'ordered',
    ...rest,
    type: 'physical',
  });
  for (const o of items) {
    const d = o.delivery;
    rows.push([
      o.id,
      o.createdAt,
      o.status,
      localized(o.rewardNames, 'pl'),
      o.points,
      o.participantName,
      o.participantPhone,
      'name' in d ? d.name : '',
      d.method,
      d.method === 'address' ? d.address : d.method === 'pickup' ? d.store : '',
      o.tracking,
    ]);
  }
  return writeCsv(rows, format);
}
