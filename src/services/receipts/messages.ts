/**
 * The receipt messages a participant or moderator reads, built in their language. Kept apart from
 * the service so the chat flow and the worker show the same card.
 */
import type { Outbound, Choice } from '../../shared/messages.js';
import { INTL_TAG, formatDate, type Locale, type Translate } from '../../i18n/index.js';
import { encodeReviewAction, REJECT_REASONS, type RejectReason } from '../../domain/receipts/index.js';
import type { ReceiptRow } from '../../db/receipts/receipts-repo.js';

export function formatMoney(locale: Locale, minor: number, currency: string): string {
  return new Intl.NumberFormat(INTL_TAG[locale], { style: 'currency', currency }).format(minor / 100);
}

const FORMAT_NAMES: Record<string, string> = {
  pt_at: 'AT (PT)',
  br_nfce: 'NFC-e (BR)',
  pl_ksef: 'KSeF (PL)',
};

/** The review card: photo, what was read, flags, and the buttons. */
export function reviewCard(
  t: Translate,
  locale: Locale,
  r: ReceiptRow,
  who: { name: string | null; timeZone: string },
): Outbound {
  const lines: string[] = [t('receipts:card.title', { name: who.name ?? '—' })];
  lines.push(t('receipts:card.sent', { d: r.createdAt }));
  const format = r.reading ? (FORMAT_NAMES[r.reading] ?? null) : null;
  if (format) lines.push(t('receipts:card.format', { format }));
  else if (r.reading === 'other') lines.push(t('receipts:card.other_qr'));
  else if (r.reading?.startsWith('invalid:')) lines.push(t('receipts:card.invalid_qr', { format: FORMAT_NAMES[r.reading.slice(8)] ?? '' }));
  else if (r.status !== 'received') lines.push(t('receipts:card.no_qr'));
  if (r.fields.ocr) lines.push(t('receipts:card.ocr'));
  if (r.sellerTaxId) lines.push(t('receipts:card.seller', { id: r.sellerTaxId }));
  else if (r.fields.ocrTaxIdUnverified) lines.push(t('receipts:card.seller_unverified', { id: r.fields.ocrTaxIdUnverified }));
  if (r.issuedOn) lines.push(t('receipts:card.date', { d: formatDate(locale, `${r.issuedOn}T12:00:00Z`, 'UTC') }));
  else if (r.fields.chave) lines.push(t('receipts:card.month', { m: `${r.fields.chave.slice(4, 6)}/20${r.fields.chave.slice(2, 4)}` }));
  if (r.totalMinor !== null && r.currency) lines.push(t('receipts:card.total', { amount: formatMoney(locale, r.totalMinor, r.currency) }));
  if (r.fields.G) lines.push(t('receipts:card.document', { ref: r.fields.G }));
  else if (r.fields.nNF) lines.push(t('receipts:card.document', { ref: `${Number(r.fields.serie)}/${Number(r.fields.nNF)}` }));
  if (r.flags.length > 0) {
    lines.push(t('receipts:card.flags_title'));
    for (const f of r.flags) lines.push(`• ${t(`receipts:flag.${f}`)}`);
  } else if (r.status !== 'received') {
    lines.push(t('receipts:card.no_flags'));
  }
  if (r.confidence !== null) lines.push(t('receipts:card.confidence', { n: Math.round(r.confidence * 100) }));
  if (r.caption) lines.push(t('receipts:card.caption', { caption: r.caption.slice(0, 200) }));

  const approve: Choice =
    r.computedPoints !== null && r.computedPoints > 0
      ? { label: t('receipts:card.approve', { count: r.computedPoints }), value: encodeReviewAction({ action: 'approve', receiptId: r.id }) }
      : { label: t('receipts:card.approve_points'), value: encodeReviewAction({ action: 'points', receiptId: r.id }) };
  const reject: Choice = { label: t('receipts:card.reject'), value: encodeReviewAction({ action: 'reasons', receiptId: r.id }) };
  return { text: lines.join('\n'), image: { mediaKey: r.mediaKey }, choices: [[approve], [reject]] };
}

/** The list of reasons a moderator picks from, one button per row. */
export function reasonChoices(t: Translate, receiptId: string): Choice[][] {
  return REJECT_REASONS.map((reason) => [
    { label: t(`receipts:reason.${reason}`), value: encodeReviewAction({ action: 'reject', receiptId, reason }) },
  ]);
}

export function approvedNotice(t: Translate, p: { points: number; balance: number }): Outbound {
  return { text: `${t('receipts:approved', { count: p.points })}\n${t('receipts:balance', { count: p.balance })}` };
}

export function rejectedNotice(t: Translate, p: { reason: RejectReason | null; note: string | null }): Outbound {
  const why = p.reason ? t(`receipts:reason.${p.reason}`) : (p.note ?? '');
  const text = t('receipts:rejected', { reason: why });
  // The moderator's own words add to a listed reason; without a reason they are the reason.
  return { text: p.reason && p.note ? `${text}\n${t('receipts:rejected_note', { note: p.note })}` : text };
}
