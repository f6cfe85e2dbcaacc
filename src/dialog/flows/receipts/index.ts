/**
 * Receipts in the chat.
 * - Participants: a photo at any point of the conversation is a receipt: stored and acknowledged
 *   in the message's transaction, read by the worker after commit. "Send a receipt" in the menu
 *   explains what to photograph.
 * - Moderators (role moderator or manager) get a review card per receipt (sent by the service) and
 *   decide with its buttons: approve with the computed points, type the points, or reject with a
 *   reason. The decision is a conditional update, so of two moderators only the first one counts.
 */
import type { FlowContext, FlowModule, FlowTurn } from '../../flow.js';
import { decodeReviewAction } from '../../../domain/receipts/index.js';
import { reasonChoices, type ReceiptJobs, type ReceiptsService, type ApproveResult } from '../../../services/receipts/index.js';

export interface ReceiptsFlowDeps {
  receipts: ReceiptsService;
  jobs: ReceiptJobs;
}

const REVIEWER_ROLES = new Set(['moderator', 'manager']);
const POINTS_STEP = 'rcpt.points';
const PHOTO_STEP = 'rcpt.photo';

export function createReceiptsFlow(deps: ReceiptsFlowDeps): FlowModule {
  const { receipts, jobs } = deps;

  async function takePhoto(ctx: FlowContext): Promise<FlowTurn | undefined> {
    const inbound = ctx.inbound;
    if (inbound.kind !== 'photo') return undefined;
    const result = await receipts.intake(ctx.db, {
      programId: ctx.participant.programId,
      participantId: ctx.participant.id,
      role: ctx.participant.role,
      sourceRef: `${inbound.from.channel}:${inbound.messageId}`,
      media: inbound.media,
      caption: inbound.caption ?? null,
    });
    // Another module's step (e.g. waiting for an answer) stays where it was after a receipt.
    const next = ctx.state && !ctx.state.step.startsWith('rcpt.') ? 'keep' : 'idle';
    if (result.status === 'refused') return { replies: [ctx.t(`receipts:refused.${result.reason}`)], next };
    if (result.status === 'already_received') return { replies: [ctx.t('receipts:ack_again')], next };
    const id = result.receipt.id;
    ctx.afterCommit(() => jobs.enqueue(id));
    return { replies: [ctx.t('receipts:ack')], next };
  }

  async function approvedReply(ctx: FlowContext, result: ApproveResult, receiptId: string): Promise<FlowTurn> {
    switch (result.status) {
      case 'approved': {
        const owner = await ctx.services.participants.getById(ctx.db, result.receipt.participantId);
        return { replies: [ctx.t('receipts:mod.approved', { points: result.receipt.points, name: owner?.name ?? '—' })] };
      }
      case 'already_decided':
        return { replies: [ctx.t(result.receipt.status === 'approved' ? 'receipts:mod.already_approved' : 'receipts:mod.already_rejected')] };
      case 'points_required':
        return { replies: [ctx.t('receipts:mod.ask_points')], next: { step: POINTS_STEP, data: { receiptId } } };
      case 'document_already_paid':
        return { replies: [ctx.t('receipts:mod.document_paid'), { text: ctx.t('receipts:mod.choose_reason'), choices: reasonChoices(ctx.t, receiptId) }] };
      case 'campaign_limit':
        return { replies: [ctx.t(`receipts:mod.limit.${result.limit}`)] };
      case 'not_allowed':
        return refusedReply(ctx, result.why);
      case 'not_found':
        return { replies: [ctx.t('receipts:mod.not_found')] };
    }
  }

  // Another program's receipt is answered as unknown: its existence is not the reviewer's business.
  const refusedReply = (ctx: FlowContext, why: 'own_receipt' | 'other_program'): FlowTurn => ({
    replies: [ctx.t(why === 'own_receipt' ? 'receipts:mod.own_receipt' : 'receipts:mod.not_found')],
  });
  const reviewerOf = (ctx: FlowContext) => ({ participantId: ctx.participant.id, programId: ctx.participant.programId });

  return {
    id: 'rcpt',
    menu: [{ slot: 'receipt', labelKey: 'receipts:menu.send', value: 'rcpt:send' }],

    async onChoice(ctx, value) {
      if (value === 'rcpt:send') return { replies: [ctx.t('receipts:ask_photo')], next: { step: PHOTO_STEP } };
      const action = decodeReviewAction(value);
      if (!action) return { next: 'menu' };
      if (!REVIEWER_ROLES.has(ctx.participant.role ?? '')) return { replies: [ctx.t('receipts:mod.not_moderator')], next: 'menu' };
      const actor = `participant:${ctx.participant.id}`;
      // Choice values are client data (web chat JSON): the receipt is checked against who presses.
      const reviewer = reviewerOf(ctx);
      switch (action.action) {
        case 'approve':
          return approvedReply(ctx, await receipts.approve(ctx.db, { receiptId: action.receiptId, actor, reviewer }), action.receiptId);
        case 'points':
        case 'reasons': {
          const r = await receipts.get(ctx.db, action.receiptId);
          if (!r || r.programId !== reviewer.programId) return { replies: [ctx.t('receipts:mod.not_found')] };
          if (r.participantId === reviewer.participantId) return refusedReply(ctx, 'own_receipt');
          if (action.action === 'reasons') return { replies: [{ text: ctx.t('receipts:mod.choose_reason'), choices: reasonChoices(ctx.t, action.receiptId) }] };
          if (r.status === 'approved' || r.status === 'rejected') {
            return { replies: [ctx.t(r.status === 'approved' ? 'receipts:mod.already_approved' : 'receipts:mod.already_rejected')] };
          }
          return { replies: [ctx.t('receipts:mod.ask_points')], next: { step: POINTS_STEP, data: { receiptId: action.receiptId } } };
        }
        case 'reject': {
          const result = await receipts.reject(ctx.db, { receiptId: action.receiptId, reason: action.reason, actor, reviewer });
          if (result.status === 'not_allowed') return refusedReply(ctx, result.why);
          if (result.status === 'rejected') return { replies: [ctx.t('receipts:mod.rejected', { reason: ctx.t(`receipts:reason.${action.reason}`) })] };
          if (result.status === 'already_decided') {
            return { replies: [ctx.t(result.receipt.status === 'approved' ? 'receipts:mod.already_approved' : 'receipts:mod.already_rejected')] };
          }
          return { replies: [ctx.t('receipts:mod.not_found')] };
        }
      }
    },

    steps: {
      // A photo never gets here (the interceptor takes it): something else came instead, so say
      // once more what to send and show the menu, rather than holding the person in this step.
      [PHOTO_STEP]: (ctx) => ({ replies: [ctx.t('receipts:ask_photo')], next: 'menu' }),
      [POINTS_STEP]: async (ctx) => {
        const receiptId = String(ctx.state?.data?.receiptId ?? '');
        if (!REVIEWER_ROLES.has(ctx.participant.role ?? '')) return { next: 'menu' };
        if (ctx.inbound.kind !== 'text') return { replies: [ctx.t('receipts:mod.ask_points')], next: 'keep' };
        const text = ctx.inbound.text.trim().replace(/\s+/g, '');
        if (!/^\d{1,7}$/.test(text) || Number(text) <= 0) return { replies: [ctx.t('receipts:mod.bad_points')], next: 'keep' };
        const result = await receipts.approve(ctx.db, { receiptId, points: Number(text), actor: `participant:${ctx.participant.id}`, reviewer: reviewerOf(ctx) });
        return approvedReply(ctx, result, receiptId);
      },
    },

    // The points a moderator types must not be read as a code by another module.
    captures: (step, inbound) => step === POINTS_STEP && inbound.kind === 'text',

    intercept: (ctx) => takePhoto(ctx),
  };
}
