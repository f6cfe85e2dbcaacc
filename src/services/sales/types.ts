/** The sales area's vocabulary: what its use cases take and answer. */
import type { Db, Sql } from '../../db/sql.js';
import type { ProductRuleRow } from '../../db/campaigns/repo.js';
import type { TargetRow, listSales } from '../../db/sales/repo.js';
import type { Earner, Localized } from '../../domain/campaigns/campaign.js';
import type { TargetInput } from '../../domain/campaigns/rules-schema.js';
import type { Participant } from '../../domain/participants/index.js';
import type { TargetProgress } from '../../domain/sales/sales.js';
import type { SellOutRow } from '../../domain/sales/sales.js';

/** A product rule of a campaign the participant can earn in, with that campaign's name. */
export interface ProductOffer extends ProductRuleRow {
  campaignName: string;
  campaignNames: Localized;
}

export interface TargetView extends TargetProgress {
  campaignName: string;
  campaignNames: Localized;
  store: string | null;
}

export type LogSaleResult =
  | {
      status: 'logged';
      saleId: string;
      points: number;
      pending: boolean;
      offer: ProductOffer;
      quantity: number;
      balance: { available: number; pending: number };
      targets: TargetView[];
      bonuses: Array<{ targetId: string; points: number }>;
    }
  | { status: 'duplicate_invoice'; at: Date }
  | { status: 'unknown_product' }
  | { status: 'daily_cap' | 'campaign_cap'; cap: number }
  | { status: 'budget_exhausted' };

export interface LogSaleInput {
  participant: Earner;
  productId: string;
  quantity: number;
  invoice: string;
  photoRef?: string | null;
}

export type DecisionResult =
  | { status: 'confirmed' | 'rejected'; saleId: string }
  | { status: 'already_decided'; saleStatus: string }
  | { status: 'not_found' };

export interface SellOutReport {
  confirmed: number;
  rejected: number;
  clawedBack: number;
  /**
   * Clawbacks (of a sale's points or of a target bonus it completed) that could not take everything
   * back because the points were already spent: `due` stays owed and later imports collect it.
   */
  clawbackShort: ClawbackShort[];
  /** Points collected in this run on clawbacks left owed by earlier decisions. */
  recovered: number;
  notFound: string[];
  alreadyDecided: number;
  bad: Array<{ line: number; reason: string }>;
}

export interface ClawbackShort {
  saleId: string;
  participantId: string;
  kind: 'sale' | 'bonus';
  due: number;
}

export interface SalesFilter {
  status?: 'pending' | 'confirmed' | 'rejected';
  campaignId?: string;
  limit?: number;
  offset?: number;
}

export interface SalesService {
  /** Products the earner can log now, best-paying campaign per product. */
  offers(db: Db, earner: Earner): Promise<ProductOffer[]>;
  /** By SKU (any case) or EAN/GTIN digits. */
  findOffer(db: Db, earner: Earner, query: string): Promise<ProductOffer | undefined>;
  logSale(db: Db, input: LogSaleInput): Promise<LogSaleResult>;
  /** A manager's decision on a pending sale; runs in `db`'s transaction, or in one of its own. */
  approve(db: Db, saleId: string, actor: string): Promise<DecisionResult>;
  reject(db: Db, saleId: string, actor: string, note?: string): Promise<DecisionResult>;
  /** One transaction per invoice, so it takes the pool. */
  importSellOut(sql: Sql, csv: string, actor: string): Promise<SellOutReport>;
  applySellOut(sql: Sql, rows: SellOutRow[], actor: string): Promise<Omit<SellOutReport, 'bad'>>;
  targets(db: Db, earner: Earner): Promise<TargetView[]>;
  /** Progress toward each open target of a staff participant ("my balance"); [] for others. */
  progressOf(db: Db, participant: Participant): Promise<TargetView[]>;
  /** How many sales are kept for a participant (for /mydata). */
  countOf(db: Db, participantId: string): Promise<number>;
  createTarget(db: Db, campaignId: string, input: TargetInput, actor: string): Promise<TargetRow>;
  listTargets(db: Db, campaignId: string): Promise<Array<TargetRow & { done: number }>>;
  list(db: Db, filter: SalesFilter): ReturnType<typeof listSales>;
  /** Erasure: the participant's sales keep no photo; the rows stay for the campaign's totals. */
  forgetParticipant(db: Db, participantId: string): Promise<number>;
}
