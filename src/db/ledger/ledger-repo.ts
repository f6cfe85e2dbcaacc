/**
 * Thin calls to the ledger's plpgsql functions (migrations/0002_ledger.sql): one round trip each.
 * Results come back as jsonb rendered to text and parsed here, so the client's camelCase transform
 * never rewrites the keys of a reason's params.
 */
import type { Db } from '../sql.js';

/** The raw outcome a ledger function returns (see the SQL for each status). */
export type RawOutcome = { status: string; [k: string]: unknown };

const parse = (rows: readonly { r: string }[]): RawOutcome => JSON.parse(rows[0]!.r) as RawOutcome;

export interface CreditArgs {
  kind: 'earn' | 'pending' | 'adjust';
  programId: string;
  participantId: string;
  amount: number;
  key: string;
  hash: string;
  source: string | null;
  campaignId: string | null;
  reasonKey: string;
  reasonParams: Record<string, unknown> | null;
  expiryMode: 'default' | 'never' | 'at';
  expiresAt: Date | null;
  actor: string | null;
  now: Date;
}

/**
 * Part of a statement: SQL text whose parameters are numbered from `first`, and their values in
 * order. The ledger's calls are sent as constant text with `sql.unsafe(…, { prepare: true })`:
 * a tagged template rebuilds its text and a nested fragment its query object on every call, which
 * cost an earn about 13 µs of Node CPU (a sixth of its client side).
 */
export interface StatementPart {
  sql(first: number): string;
  params: unknown[];
}

const CREDIT_CASTS = ['', '::uuid', '::uuid', '::bigint', '', '', '', '::uuid', '', '::jsonb', '', '::timestamptz', '', '::timestamptz'];
const creditCallSql = (first: number) => `ledger_credit(${CREDIT_CASTS.map((c, i) => `$${first + i}${c}`).join(', ')})`;

/**
 * The `ledger_credit(…)` call (yielding jsonb) for a caller that runs it inside a statement of its
 * own, e.g. only for the row a conditional update took; read its text with `parseOutcome`.
 */
export function creditCall(a: CreditArgs): StatementPart {
  return {
    sql: creditCallSql,
    params: [a.kind, a.programId, a.participantId, a.amount, a.key, a.hash, a.source, a.campaignId, a.reasonKey,
      a.reasonParams, a.expiryMode, a.expiresAt, a.actor, a.now],
  };
}

export const parseOutcome = (text: string): RawOutcome => JSON.parse(text) as RawOutcome;

const CREDIT_ARG_TYPES = ['text', 'uuid', 'uuid', 'bigint', 'text', 'text', 'text', 'uuid', 'text', 'jsonb', 'text', 'timestamptz', 'text', 'timestamptz'];

/**
 * Many `creditCall`s as one `ledger_credit_many(…)` (migrations/0016_ledger_credit_many.sql): a
 * set of `(ord, outcome jsonb)` rows for the calls whose 1-based position is in `ords` (an SQL
 * bigint[] expression), each answering what its own `ledger_credit` would have in that order. The
 * arrays' parameters are numbered from `first`.
 */
export function creditManyCall(parts: readonly StatementPart[], first: number, ords: string): { sql: string; params: unknown[] } {
  const params = CREDIT_ARG_TYPES.map((_, i) =>
    // Dates as text: the client declares an array by its first element, so a Date would make it one timestamptz.
    parts.map((p) => {
      const v = p.params[i];
      return v instanceof Date ? v.toISOString() : v;
    }),
  );
  return {
    sql: `ledger_credit_many(${ords}, ${CREDIT_ARG_TYPES.map((t, i) => `$${first + i}::${t}[]`).join(', ')})`,
    params,
  };
}

const CREDIT = `select ${creditCallSql(1)}::text as r`;

export async function credit(db: Db, a: CreditArgs): Promise<RawOutcome> {
  return parse(await db.unsafe<{ r: string }[]>(CREDIT, creditCall(a).params as never[], { prepare: true }));
}

export interface DebitArgs {
  kind: 'spend' | 'hold' | 'adjust';
  programId: string;
  participantId: string;
  amount: number;
  key: string;
  hash: string;
  campaignId: string | null;
  reasonKey: string;
  reasonParams: Record<string, unknown> | null;
  actor: string | null;
  holdExpiresAt: Date | null;
  now: Date;
}

const DEBIT = `select ledger_debit($1, $2::uuid, $3::uuid, $4::bigint, $5, $6, $7::uuid, $8, $9::jsonb, $10,
  $11::timestamptz, $12::timestamptz)::text as r`;

export async function debit(db: Db, a: DebitArgs): Promise<RawOutcome> {
  const params = [a.kind, a.programId, a.participantId, a.amount, a.key, a.hash, a.campaignId, a.reasonKey, a.reasonParams,
    a.actor, a.holdExpiresAt, a.now];
  return parse(await db.unsafe<{ r: string }[]>(DEBIT, params as never[], { prepare: true }));
}

export interface ResolveArgs {
  pendingKey: string;
  action: 'post' | 'void' | 'confirm' | 'drop';
  actor: string | null;
  reasonKey: string | null;
  reasonParams: Record<string, unknown> | null;
  now: Date;
}

export async function resolve(db: Db, a: ResolveArgs): Promise<RawOutcome> {
  return parse(
    await db<{ r: string }[]>`select ledger_resolve(
      ${a.pendingKey}, ${a.action}, ${a.actor}, ${a.reasonKey}, ${json(a.reasonParams)}::jsonb,
      ${a.now}::timestamptz)::text as r`,
  );
}

export interface ReverseArgs {
  transferKey: string;
  key: string;
  hash: string;
  actor: string;
  reasonKey: string;
  reasonParams: Record<string, unknown> | null;
  now: Date;
}

export async function reverse(db: Db, a: ReverseArgs): Promise<RawOutcome> {
  return parse(
    await db<{ r: string }[]>`select ledger_reverse(
      ${a.transferKey}, ${a.key}, ${a.hash}, ${a.actor}, ${a.reasonKey}, ${json(a.reasonParams)}::jsonb,
      ${a.now}::timestamptz)::text as r`,
  );
}

export async function expireLot(db: Db, lotId: number, now: Date): Promise<RawOutcome> {
  return parse(await db<{ r: string }[]>`select ledger_expire_lot(${lotId}::bigint, ${now}::timestamptz)::text as r`);
}

export async function dueLots(db: Db, now: Date, limit: number): Promise<number[]> {
  const rows = await db<{ id: number }[]>`
    select id from ledger_lots
     where open and expires_at is not null and expires_at <= ${now}::timestamptz
     order by expires_at, id limit ${limit}`;
  return rows.map((r) => r.id);
}

export async function expiredHoldKeys(db: Db, now: Date, limit: number): Promise<string[]> {
  const rows = await db<{ key: string }[]>`
    select t.key from ledger_transfers t
     where t.kind = 'hold' and t.hold_expires_at is not null and t.hold_expires_at <= ${now}::timestamptz
       and not exists (select 1 from ledger_transfers r where r.pending_id = t.id)
     order by t.hold_expires_at, t.id limit ${limit}`;
  return rows.map((r) => r.key);
}

export interface BalanceRow {
  posted: number;
  held: number;
  pending: number;
  lifetimeEarned: number;
  nextExpiryAt: Date | null;
  nextExpiryAmount: number | null;
}

export async function balance(db: Db, programId: string, participantId: string): Promise<BalanceRow | undefined> {
  const [row] = await db<BalanceRow[]>`
    select a.posted, a.held, a.pending, a.lifetime_earned, n.at as next_expiry_at, n.amount as next_expiry_amount
      from ledger_accounts a
      left join lateral (
        select l.expires_at as at, sum(l.remaining)::bigint as amount
          from ledger_lots l
         where l.account_id = a.id and l.open and l.expires_at is not null
           and l.expires_at = (select min(m.expires_at) from ledger_lots m
                                where m.account_id = a.id and m.open and m.expires_at is not null)
         group by l.expires_at
      ) n on true
     where a.program_id = ${programId}::uuid and a.kind = 'participant' and a.ref = ${participantId}::uuid::text`;
  return row;
}

export interface HistoryRow {
  transferId: number;
  key: string;
  kind: string;
  amount: number;
  pendingAmount: number;
  at: Date;
  source: string | null;
  campaignId: string | null;
  reasonKey: string;
  reasonParams: string | null;
  expiresAt: Date | null;
}

export async function history(
  db: Db,
  programId: string,
  participantId: string,
  limit: number,
  before: number | null,
): Promise<HistoryRow[]> {
  return db<HistoryRow[]>`
    select t.id as transfer_id, t.key, t.kind,
           case t.kind when 'hold' then -t.amount when 'void' then t.amount
                       when 'post' then 0 when 'pending' then 0 when 'drop' then 0
                       else t.direction * t.amount end as amount,
           case t.kind when 'pending' then t.amount when 'confirm' then -t.amount when 'drop' then -t.amount
                       else 0 end as pending_amount,
           t.created_at as at, t.source, t.campaign_id, t.reason_key, t.reason_params::text as reason_params,
           t.expires_at
      from ledger_accounts a
      join ledger_transfers t on t.account_id = a.id
     where a.program_id = ${programId}::uuid and a.kind = 'participant' and a.ref = ${participantId}::uuid::text
       and (${before}::bigint is null or t.id < ${before}::bigint)
     order by t.id desc
     limit ${limit}`;
}

export interface CheckRow {
  kind: string;
  accountId: number | null;
  transferId: number | null;
  expected: number | null;
  actual: number | null;
  programId: string | null;
  participantId: string | null;
}

export async function check(db: Db, limit = 200): Promise<CheckRow[]> {
  return db<CheckRow[]>`
    select c.kind, c.account_id, c.transfer_id, c.expected, c.actual, a.program_id,
           case when a.kind = 'participant' then a.ref end as participant_id
      from ledger_check(${limit}) c left join ledger_accounts a on a.id = c.account_id`;
}

/** The driver serializes a jsonb parameter itself; a pre-stringified value would be stored as a JSON string. */
const json = (v: Record<string, unknown> | null): never => (v ?? null) as never;
