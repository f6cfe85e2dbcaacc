/**
 * Choices as text, for channels without buttons (WhatsApp Web; the Cloud API beyond its button
 * limits): "1. …" lines, and the rule for reading a reply back. A message that expects a free
 * answer (`Outbound.answer === 'free'`) lists its options without numbers and is matched by label
 * only, so a typed "1" is the quantity it was asked for, never the first option ("1. Cancel").
 */
import type { Outbound } from '../shared/messages.js';

export interface MenuOption {
  label: string;
  value: string;
  /** Picked by its label only: the message asked for a free answer, so a typed number is that answer. */
  labelOnly?: true;
}

/** The options a message puts in front of the participant, in reading order. */
export function menuOptions(message: Pick<Outbound, 'choices' | 'answer'>): MenuOption[] {
  const labelOnly = message.answer === 'free';
  return (message.choices ?? []).flat().map((c) => ({ label: c.label, value: c.value, ...(labelOnly ? { labelOnly: true as const } : {}) }));
}


export const isNumbered = (options: MenuOption[]): boolean => options.length > 0 && !options.some((o) => o.labelOnly);

/** "1. Label" lines, or "• Label" lines for a free-answer message. */
export function renderMenu(options: MenuOption[]): string {
  const numbered = isNumbered(options);
  return options.map((o, i) => `${numbered ? `${i + 1}.` : '•'} ${o.label}`).join('\n');
}

/** Case, accents, emoji, punctuation and spacing do not matter when comparing a reply to a label. */
export function normalizeLabel(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

const KEYCAP = /^([0-9])\uFE0F?\u20E3$/u;

/**
 * The option a reply picks, if any: "2", "2.", " 2) ", "2️⃣", the label itself, or "2. Label" as
 * copied back from the menu (numbers only when the menu was numbered). Anything else is ordinary text.
 */
export function matchMenuReply(options: MenuOption[], reply: string): MenuOption | undefined {
  const text = reply.trim();
  if (!text || options.length === 0) return undefined;
  const numbered = isNumbered(options);
  if (numbered) {
    const keycap = KEYCAP.exec(text);
    const numeric = keycap ? keycap[1] : /^(\d{1,3})\s*[.)]?$/.exec(text)?.[1];
    if (numeric !== undefined) return options[Number(numeric) - 1];
  }
  const wanted = normalizeLabel(text);
  if (!wanted) return undefined;
  const byLabel = options.filter((o) => normalizeLabel(o.label) === wanted);
  if (byLabel.length === 1) return byLabel[0];
  const echoed = numbered ? /^(\d{1,3})\s*[.)]\s*(.+)$/s.exec(text) : null;
  if (echoed) {
    const option = options[Number(echoed[1]) - 1];
    if (option && normalizeLabel(option.label) === normalizeLabel(echoed[2]!)) return option;
  }
  return undefined;
}
