/** zod schemas for campaign input at the edges (admin API); the HTTP layer reuses them. */
import { z } from 'zod';
import { CAMPAIGN_STATUSES, PARTICIPANT_ROLES } from './campaign.js';

/** ISO 8601 date-time with offset (or a plain date, read as UTC midnight). */
export const isoDate = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .transform((s) => new Date(s));

const localized = z
  .object({ pl: z.string().min(1).max(500), pt: z.string().min(1).max(500), be: z.string().min(1).max(500) })
  .partial();

const multiplier = z
  .object({ startsAt: isoDate, endsAt: isoDate, factor: z.number().min(1).max(10) })
  .refine((m) => m.endsAt > m.startsAt, { message: 'endsAt must be after startsAt', path: ['endsAt'] });

export const productRuleInput = z
  .object({
    sku: z.string().trim().min(1).max(64),
    ean: z
      .string()
      .regex(/^\d{8}$|^\d{12,14}$/, 'EAN/GTIN must be 8, 12, 13 or 14 digits')
      .optional(),
    name: z.union([z.string().min(1).max(200), localized]).optional(),
    pointsPerUnit: z.number().int().min(1).max(1_000_000),
  })
  .strict();
export type ProductRuleInput = z.infer<typeof productRuleInput>;

export const targetInput = z
  .object({
    participantId: z.uuid().optional(),
    store: z.string().trim().min(1).max(200).optional(),
    metric: z.enum(['units', 'points']),
    goal: z.number().int().min(1),
    bonusPoints: z.number().int().min(0).max(10_000_000),
  })
  .strict()
  .refine((t) => (t.participantId === undefined) !== (t.store === undefined), {
    message: 'give either participantId or store',
  });
export type TargetInput = z.infer<typeof targetInput>;

const fields = {
  name: z.union([z.string().trim().min(1).max(200), localized]),
  description: localized.optional(),
  startsAt: isoDate,
  endsAt: isoDate,
  status: z.enum(CAMPAIGN_STATUSES).optional(),
  audienceRoles: z.array(z.enum(PARTICIPANT_ROLES)).max(6).optional(),
  stores: z.array(z.string().trim().min(1).max(200)).max(10_000).optional(),
  regions: z.array(z.string().trim().min(1).max(200)).max(1000).optional(),
  multipliers: z.array(multiplier).max(100).optional(),
  caps: z
    .object({
      perParticipantPerDay: z.number().int().min(1).nullable().optional(),
      perParticipantPerCampaign: z.number().int().min(1).nullable().optional(),
    })
    .strict()
    .optional(),
  budget: z.number().int().min(1).nullable().optional(),
  requiresApproval: z.boolean().optional(),
  productRules: z.array(productRuleInput).max(5000).optional(),
};

export const campaignCreateInput = z
  .object(fields)
  .strict()
  .refine((c) => c.endsAt > c.startsAt, { message: 'endsAt must be after startsAt', path: ['endsAt'] })
  .refine((c) => !c.name || typeof c.name === 'string' || Object.keys(c.name).length > 0, {
    message: 'give a name in at least one language',
    path: ['name'],
  });
export type CampaignCreateInput = z.infer<typeof campaignCreateInput>;

export const campaignPatchInput = z
  .object(fields)
  .partial()
  .strict()
  .refine((c) => !(c.startsAt && c.endsAt) || c.endsAt > c.startsAt, {
    message: 'endsAt must be after startsAt',
    path: ['endsAt'],
  });
export type CampaignPatchInput = z.infer<typeof campaignPatchInput>;

export const codeBatchInput = z
  .object({
    count: z.number().int().min(1).max(1_000_000),
    points: z.number().int().min(1).max(1_000_000),
    prefix: z
      .string()
      .regex(/^[0-9A-HJKMNP-TV-Z]{0,6}$/i, 'prefix: up to 6 symbols of 0-9 and A-Z without I, L, O, U')
      .transform((p) => p.toUpperCase())
      .optional(),
    /** Random symbols per code (check symbol not included): 8 → 40 random bits. */
    length: z.number().int().min(6).max(20).optional(),
    expiresAt: isoDate.optional(),
    usesPerCode: z.number().int().min(1).max(1_000_000).optional(),
    audienceRole: z.enum(PARTICIPANT_ROLES).optional(),
    label: z.string().max(200).optional(),
  })
  .strict();
export type CodeBatchInput = z.infer<typeof codeBatchInput>;
