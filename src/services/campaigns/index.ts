/**
 * Campaigns: create/read/update/list for the admin API, product rules, and the award gate every
 * earning path (codes, sales) passes through: caps per participant per day and per campaign, and
 * the points budget after which the campaign stops awarding and managers are alerted.
 */
import type { Db, Sql } from '../../db/sql.js';
import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import {
  localDay,
  type Campaign,
  type CampaignStatus,
  type Localized,
} from '../../domain/campaigns/campaign.js';
import type { CampaignCreateInput, CampaignPatchInput, ProductRuleInput } from '../../domain/campaigns/rules-schema.js';
import * as repo from '../../db/campaigns/repo.js';
import * as programs from '../../db/programs/repo.js';
import type { Notifier } from './notifier.js';
import { audit } from '../../db/audit-repo.js';

export type { Campaign } from '../../domain/campaigns/campaign.js';
export type { Notifier } from './notifier.js';

export interface CampaignView extends Campaign {
  productRules: Array<{ sku: string; ean: string | null; name: string; names: Localized; pointsPerUnit: number }>;
}

export type AwardGate =
  | { status: 'ok' }
  | { status: 'daily_cap'; cap: number }
  | { status: 'campaign_cap'; cap: number }
  | { status: 'budget_exhausted' };

export interface CampaignsService {
  create(input: CampaignCreateInput, actor: string, db?: Db): Promise<CampaignView>;
  patch(id: string, input: CampaignPatchInput, actor: string): Promise<CampaignView>;
  get(id: string, db?: Db): Promise<CampaignView | undefined>;
  list(filter: { status?: CampaignStatus; limit?: number; offset?: number }): Promise<CampaignView[]>;
  defaultProgramId(db?: Db): Promise<string>;
  /**
   * Reserves `points` of the campaign's caps and budget for one award, inside the caller's
   * transaction (roll it back and the reservation goes too). Budgeted campaigns serialise their
   * awards on the campaign row; unbudgeted ones never touch it.
   */
  reserveAward(db: Db, c: Campaign, participantId: string, points: number): Promise<AwardGate>;
  /** Gives back what `reserveAward` took for an award made at `at` (a rejected or clawed-back sale). */
  releaseAward(db: Db, c: Campaign, participantId: string, points: number, at: Date): Promise<void>;
  /** Marks the budget exhausted once and alerts managers (audit log + a notice to manager participants). */
  budgetExhausted(db: Db, c: Campaign): Promise<void>;
}

export interface CampaignsDeps {
  sql: Sql;
  clock?: Clock;
  logger?: Logger;
  notifier?: Notifier;
}

function localizedName(name: CampaignCreateInput['name']): { name: string; names: Localized } {
  if (typeof name === 'string') return { name, names: {} };
  const first = name.pl ?? name.pt ?? name.be ?? '';
  return { name: first, names: name };
}

export function createCampaigns(deps: CampaignsDeps): CampaignsService {
  const { sql } = deps;
  const clock = deps.clock ?? systemClock;
  const tzCache = new Map<string, string>();
  let programId: string | undefined;

  const defaultProgram = async (db: Db = sql) => (programId ??= await programs.defaultProgramId(db));

  async function view(db: Db, c: Campaign): Promise<CampaignView> {
    const rules = await repo.productRules(db, [c.id]);
    return {
      ...c,
      productRules: rules.map((r) => ({ sku: r.sku, ean: r.ean, name: r.name, names: r.names, pointsPerUnit: r.pointsPerUnit })),
    };
  }

  async function writeRules(db: Db, pid: string, campaignId: string, rules: ProductRuleInput[]): Promise<void> {
    const seen = new Set<string>();
    const out: Array<{ productId: string; pointsPerUnit: number }> = [];
    for (const r of rules) {
      if (seen.has(r.sku)) throw new AppError('invalid_input', `productRules: SKU ${r.sku} appears twice`);
      seen.add(r.sku);
      const { name, names } = r.name === undefined ? { name: r.sku, names: {} } : localizedName(r.name);
      const productId = await repo.upsertProduct(db, pid, { sku: r.sku, ean: r.ean ?? null, name, names });
      out.push({ productId, pointsPerUnit: r.pointsPerUnit });
    }
    await repo.replaceProductRules(db, campaignId, out);
  }

  const toWrite = (input: CampaignCreateInput, base?: Campaign): repo.CampaignWrite => {
    const { name, names } = localizedName(input.name);
    return {
      name,
      names,
      descriptions: input.description ?? base?.descriptions ?? {},
      status: input.status ?? base?.status ?? 'draft',
      startsAt: input.startsAt,
      endsAt: input.endsAt,
      audienceRoles: input.audienceRoles ?? base?.audienceRoles ?? [],
      stores: input.stores ?? base?.stores ?? [],
      regions: input.regions ?? base?.regions ?? [],
      multipliers: input.multipliers ?? base?.multipliers ?? [],
      capPerDay: input.caps?.perParticipantPerDay !== undefined ? input.caps.perParticipantPerDay : (base?.capPerDay ?? null),
      capPerCampaign:
        input.caps?.perParticipantPerCampaign !== undefined ? input.caps.perParticipantPerCampaign : (base?.capPerCampaign ?? null),
      budget: input.budget !== undefined ? input.budget : (base?.budget ?? null),
      requiresApproval: input.requiresApproval ?? base?.requiresApproval ?? false,
    };
  };

  return {
    defaultProgramId: defaultProgram,

    async create(input, actor, db) {
      const run = async (tx: Db) => {
        const pid = await defaultProgram(tx);
        const c = await repo.insertCampaign(tx, pid, toWrite(input));
        if (input.productRules) await writeRules(tx, pid, c.id, input.productRules);
        await audit(tx, actor, 'campaign.create', `campaign:${c.id}`, { name: c.name, status: c.status });
        return view(tx, c);
      };
      return db ? run(db) : sql.begin(run);
    },

    async patch(id, input, actor) {
      return sql.begin(async (tx) => {
        const current = await repo.getCampaign(tx, id, true);
        if (!current) throw new AppError('not_found', 'No such campaign');
        const merged: CampaignCreateInput = {
          name: input.name ?? (Object.keys(current.names).length ? current.names : current.name),
          startsAt: input.startsAt ?? current.startsAt,
          endsAt: input.endsAt ?? current.endsAt,
          ...input,
        } as CampaignCreateInput;
        if (merged.endsAt <= merged.startsAt) throw new AppError('invalid_input', 'endsAt must be after startsAt');
        if (merged.budget != null && merged.budget < current.awarded) {
          throw new AppError('invalid_input', `budget cannot be below the ${current.awarded} points already awarded`);
        }
        const c = await repo.updateCampaign(tx, id, toWrite(merged, current));
        if (input.productRules) await writeRules(tx, c!.programId, id, input.productRules);
        await audit(tx, actor, 'campaign.update', `campaign:${id}`, { fields: Object.keys(input) });
        return view(tx, c!);
      });
    },

    async get(id, db = sql) {
      const c = await repo.getCampaign(db, id);
      return c ? view(db, c) : undefined;
    },

    async list(filter) {
      const pid = await defaultProgram();
      const rows = await repo.listCampaigns(sql, pid, {
        status: filter.status,
        limit: Math.min(filter.limit ?? 50, 200),
        offset: filter.offset ?? 0,
      });
      return Promise.all(rows.map((c) => view(sql, c)));
    },

    async reserveAward(db, c, participantId, points) {
      if (c.capPerDay !== null) {
        let tz = tzCache.get(c.programId);
        if (!tz) tzCache.set(c.programId, (tz = await programs.programTimeZone(db, c.programId)));
        const ok = await reserveTally(db, c.id, participantId, localDay(clock.now(), tz), points, c.capPerDay);
        if (!ok) return { status: 'daily_cap', cap: c.capPerDay };
      }
      if (c.capPerCampaign !== null) {
        const ok = await reserveTally(db, c.id, participantId, 'total', points, c.capPerCampaign);
        if (!ok) return { status: 'campaign_cap', cap: c.capPerCampaign };
      }
      if (c.budget !== null) {
        const rows = await db`
          update campaigns set awarded = awarded + ${points}
          where id = ${c.id} and awarded + ${points} <= budget
          returning awarded, budget`;
        if (!rows.length) return { status: 'budget_exhausted' };
      }
      return { status: 'ok' };
    },

    async releaseAward(db, c, participantId, points, at) {
      const tz = tzCache.get(c.programId) ?? (await programs.programTimeZone(db, c.programId));
      await db`
        update campaign_tallies set points = greatest(points - ${points}, 0)
        where campaign_id = ${c.id} and participant_id = ${participantId} and period in ('total', ${localDay(at, tz)})`;
      if (c.budget !== null) await db`update campaigns set awarded = greatest(awarded - ${points}, 0) where id = ${c.id}`;
    },

    async budgetExhausted(db, c) {
      // `awarded` as the row has it now: `c` may be a copy read before the awards that exhausted it.
      const rows = await db<{ budget: number | null; awarded: number }[]>`
        update campaigns set budget_exhausted_at = ${clock.now()}
        where id = ${c.id} and budget_exhausted_at is null returning budget, awarded`;
      if (!rows.length) return;
      await audit(db, 'system', 'campaign.budget_exhausted', `campaign:${c.id}`, {
        budget: rows[0]!.budget,
        awarded: rows[0]!.awarded,
      });
      deps.logger?.warn({ campaignId: c.id }, 'campaign budget exhausted');
      await deps.notifier?.notifyManagers(db, c.programId, (t, locale) => ({
        text: t('codes:budget_exhausted_alert', { campaign: c.names[locale] ?? c.name }),
      }));
    },
  };
}

/** Adds to a participant's tally unless it would pass `cap`; false when refused. */
async function reserveTally(db: Db, campaignId: string, participantId: string, period: string, points: number, cap: number) {
  if (points > cap) return false;
  const rows = await db`
    insert into campaign_tallies (campaign_id, participant_id, period, points)
    values (${campaignId}, ${participantId}, ${period}, ${points})
    on conflict (campaign_id, participant_id, period) do update set points = campaign_tallies.points + excluded.points
      where campaign_tallies.points + excluded.points <= ${cap}
    returning points`;
  return rows.length > 0;
}
