import { describe, expect, it } from 'vitest';
import {
  allNames,
  campaignGate,
  localDay,
  multiplierAt,
  pointsWithMultiplier,
  storeMatches,
  type Campaign,
} from '../../../../src/domain/campaigns/campaign.js';
import { campaignCreateInput, codeBatchInput } from '../../../../src/domain/campaigns/rules-schema.js';

const base: Campaign = {
  id: 'c',
  programId: 'p',
  name: 'Summer',
  names: {},
  descriptions: {},
  status: 'active',
  startsAt: new Date('2026-06-01T00:00:00Z'),
  endsAt: new Date('2026-07-01T00:00:00Z'),
  audienceRoles: [],
  stores: [],
  regions: [],
  multipliers: [],
  capPerDay: null,
  capPerCampaign: null,
  budget: null,
  awarded: 0,
  requiresApproval: false,
  budgetExhaustedAt: null,
  createdAt: new Date(),
};
const consumer = { id: 'x', programId: 'p', role: 'consumer' as const };

describe('campaign rules', () => {
  it('opens only inside the window, when active, for the audience', () => {
    expect(campaignGate(base, consumer, new Date('2026-06-15T00:00:00Z'))).toEqual({ status: 'open' });
    expect(campaignGate(base, consumer, new Date('2026-05-31T23:59:59Z')).status).toBe('not_started');
    expect(campaignGate(base, consumer, new Date('2026-07-01T00:00:00Z')).status).toBe('over');
    expect(campaignGate({ ...base, status: 'draft' }, consumer, new Date('2026-06-15T00:00:00Z')).status).toBe('not_started');
    expect(campaignGate({ ...base, status: 'ended' }, consumer, new Date('2026-06-15T00:00:00Z')).status).toBe('over');
    expect(campaignGate({ ...base, audienceRoles: ['installer'] }, consumer, new Date('2026-06-15T00:00:00Z')).status).toBe('not_for_role');
    expect(campaignGate({ ...base, stores: ['A'] }, { ...consumer, store: 'B' }, new Date('2026-06-15T00:00:00Z')).status).toBe('not_in_audience');
    expect(campaignGate({ ...base, regions: ['north'] }, { ...consumer, region: 'north' }, new Date('2026-06-15T00:00:00Z')).status).toBe('open');
    expect(campaignGate({ ...base, regions: ['north'] }, consumer, new Date('2026-06-15T00:00:00Z')).status).toBe('not_in_audience');
  });

  it('matches a store typed freely at registration to the store a campaign names', () => {
    const at = new Date('2026-06-15T00:00:00Z');
    const demo = { ...base, stores: ['Demo'] };
    // registration asks for "name and city": the city must not hide the store
    expect(campaignGate(demo, { ...consumer, store: 'Demo, Lisboa' }, at).status).toBe('open');
    expect(campaignGate(demo, { ...consumer, store: '  demo  ' }, at).status).toBe('open');
    expect(campaignGate(demo, { ...consumer, store: 'Demolka' }, at).status).toBe('not_in_audience');
    expect(storeMatches('Sklep Łódź – Piotrkowska 12', 'sklep lodz')).toBe(true);
    expect(storeMatches('Loja Conceição (Porto)', 'LOJA CONCEICAO')).toBe(true);
    expect(storeMatches('Крама «Ўсход», Мінск', 'крама ўсход')).toBe(true);
    expect(storeMatches('Ala Centrum', 'Centrum Ala')).toBe(false);
    expect(storeMatches(null, 'Demo')).toBe(false);
    expect(storeMatches('Demo', '  ')).toBe(false);
  });

  it('fills every language of a name, so a history line reads in the reader language', () => {
    expect(allNames({ name: 'Lato', names: { pl: 'Lato', pt: 'Verão' } })).toEqual({ pl: 'Lato', 'pt-PT': 'Verão', 'pt-BR': 'Verão', be: 'Lato' });
    expect(allNames({ name: 'Summer', names: {} })).toEqual({ pl: 'Summer', 'pt-PT': 'Summer', 'pt-BR': 'Summer', be: 'Summer' });
  });

  it('takes the largest multiplier in force, never stacking, rounding to whole points', () => {
    const m = [
      { startsAt: new Date('2026-06-06T00:00:00Z'), endsAt: new Date('2026-06-08T00:00:00Z'), factor: 2 },
      { startsAt: new Date('2026-06-07T00:00:00Z'), endsAt: new Date('2026-06-08T00:00:00Z'), factor: 1.5 },
    ];
    expect(multiplierAt(m, new Date('2026-06-07T12:00:00Z'))).toBe(2);
    expect(multiplierAt(m, new Date('2026-06-08T00:00:00Z'))).toBe(1);
    expect(pointsWithMultiplier(33, [{ ...m[1]!, startsAt: new Date(0) }], new Date('2026-06-07T12:00:00Z'))).toBe(50);
  });

  it('daily caps reset at midnight in the program time zone', () => {
    expect(localDay(new Date('2026-06-01T22:30:00Z'), 'Europe/Warsaw')).toBe('2026-06-02');
    expect(localDay(new Date('2026-06-01T22:30:00Z'), 'Europe/Lisbon')).toBe('2026-06-01');
  });

  it('validates campaign and batch input with clear paths', () => {
    const bad = campaignCreateInput.safeParse({ name: 'X', startsAt: '2026-02-01T00:00:00Z', endsAt: '2026-01-01T00:00:00Z' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['endsAt']);
    expect(campaignCreateInput.safeParse({ name: {}, startsAt: '2026-01-01', endsAt: '2026-02-01' }).success).toBe(false);
    expect(campaignCreateInput.safeParse({ name: 'X', startsAt: 'yesterday', endsAt: '2026-02-01' }).success).toBe(false);
    expect(codeBatchInput.safeParse({ count: 1_000_000, points: 1 }).success).toBe(true);
    expect(codeBatchInput.safeParse({ count: 1_000_001, points: 1 }).success).toBe(false);
    expect(codeBatchInput.safeParse({ count: 1, points: 1, prefix: 'LOL' }).success).toBe(false);
  });
});
