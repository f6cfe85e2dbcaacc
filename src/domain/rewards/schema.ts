/**
 * Admin input for rewards and orders, checked at the edge (HTTP) and again by the service.
 */
import { z } from 'zod';
import { PARTICIPANT_ROLES, type ParticipantRole } from '../participants/index.js';
import { ORDER_STATUSES, REWARD_TYPES } from './types.js';

const localizedText = (max: number) =>
  z
    .object({ pl: z.string().trim().min(1).max(max), pt: z.string().trim().min(1).max(max), be: z.string().trim().min(1).max(max) })
    .partial()
    .refine((v) => Object.values(v).some((s) => s !== undefined), 'give the text in at least one language (pl, pt, be)');

/** The largest cash-out a rule may offer, in whole units of money (zł, €, R$, Br). */
export const MAX_CASH_OUT = 100_000;
/** Points are stored as 32-bit integers: no order may cost more. */
export const MAX_ORDER_POINTS = 2_147_483_647;

const money = (what: string) =>
  z
    .number()
    .int(`${what} must be a whole amount of money`)
    .positive(`${what} must be at least 1`)
    .max(MAX_CASH_OUT, `${what} must be at most ${MAX_CASH_OUT}`);

/** Why a cash-out rule cannot be paid at `cost` points per unit of money, or undefined. */
export function cashOutCostProblem(cost: number, rule: { max: number }): string | undefined {
  return cost * rule.max > MAX_ORDER_POINTS
    ? `cost × cashOut.max is ${cost * rule.max} points; an order may cost at most ${MAX_ORDER_POINTS}`
    : undefined;
}

export const CashOutRuleSchema = z
  .object({
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as PLN, EUR, BRL, BYN'),
    step: money('step'),
    min: money('min'),
    max: money('max'),
  })
  .refine((r) => r.max >= r.min, 'max must be at least min')
  .refine((r) => (r.max - r.min) % r.step === 0, 'max − min must be a multiple of step');

const roles = z.array(z.enum(PARTICIPANT_ROLES as [ParticipantRole, ...ParticipantRole[]]));

export const RewardCreateSchema = z
  .object({
    type: z.enum(REWARD_TYPES as ['physical', 'e_voucher', 'cash_out']),
    name: localizedText(80),
    description: localizedText(1000).optional(),
    imageUrl: z.url({ protocol: /^https?$/ }).nullable().optional(),
    /** Points per item; for cash-out, points per one unit of money. */
    cost: z.number().int().positive().max(1_000_000_000),
    /** Physical only: items in stock; null/absent = unlimited. */
    stock: z.number().int().min(0).nullable().optional(),
    availableFrom: z.coerce.date().nullable().optional(),
    availableUntil: z.coerce.date().nullable().optional(),
    roles: roles.optional(),
    limitPerParticipant: z.number().int().positive().nullable().optional(),
    cashOut: CashOutRuleSchema.optional(),
    lowStockThreshold: z.number().int().min(0).optional(),
    status: z.enum(['active', 'hidden', 'archived']).optional(),
    sortOrder: z.number().int().optional(),
  })
  .superRefine((r, ctx) => {
    if (r.type === 'cash_out' && !r.cashOut) ctx.addIssue({ code: 'custom', path: ['cashOut'], message: 'a cash-out reward needs cashOut {currency, step, min, max}' });
    if (r.type !== 'cash_out' && r.cashOut) ctx.addIssue({ code: 'custom', path: ['cashOut'], message: 'only cash-out rewards take cashOut' });
    const tooDear = r.cashOut ? cashOutCostProblem(r.cost, r.cashOut) : undefined;
    if (tooDear) ctx.addIssue({ code: 'custom', path: ['cashOut', 'max'], message: tooDear });
    if (r.type !== 'physical' && r.stock != null) ctx.addIssue({ code: 'custom', path: ['stock'], message: 'only physical rewards have a stock (e-voucher stock is its code pool)' });
    if (r.availableFrom && r.availableUntil && r.availableUntil <= r.availableFrom) {
      ctx.addIssue({ code: 'custom', path: ['availableUntil'], message: 'must be after availableFrom' });
    }
  });
export type RewardCreateInput = z.infer<typeof RewardCreateSchema>;

export const RewardPatchSchema = z
  .object({
    name: localizedText(80),
    description: localizedText(1000),
    imageUrl: z.url({ protocol: /^https?$/ }).nullable(),
    cost: z.number().int().positive().max(1_000_000_000),
    stock: z.number().int().min(0).nullable(),
    /** Physical only: add (or with a negative number remove) items, safe against concurrent orders. */
    stockDelta: z.number().int(),
    availableFrom: z.coerce.date().nullable(),
    availableUntil: z.coerce.date().nullable(),
    roles,
    limitPerParticipant: z.number().int().positive().nullable(),
    cashOut: CashOutRuleSchema,
    lowStockThreshold: z.number().int().min(0),
    status: z.enum(['active', 'hidden', 'archived']),
    sortOrder: z.number().int(),
  })
  .partial()
  .refine((p) => !(p.stock !== undefined && p.stockDelta !== undefined), 'give stock or stockDelta, not both');
export type RewardPatchInput = z.infer<typeof RewardPatchSchema>;

export const OrderFilterSchema = z.object({
  status: z.enum(ORDER_STATUSES as ['ordered', 'shipped', 'delivered', 'cancelled']).optional(),
  type: z.enum(REWARD_TYPES as ['physical', 'e_voucher', 'cash_out']).optional(),
  rewardId: z.uuid().optional(),
  participantId: z.uuid().optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  /** The nextCursor of the page before: continues from there (instead of offset). */
  after: z.string().max(200).optional(),
});
export type OrderFilter = z.infer<typeof OrderFilterSchema>;
