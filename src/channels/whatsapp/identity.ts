/**
 * WhatsApp ids ("jids"): `48123456789@c.us` is a user by phone, `…@lid` a user behind a privacy
 * linked id (the phone must be asked for), `…@g.us` a group, `status@broadcast` the status feed.
 */
export type JidKind = 'user' | 'lid' | 'group' | 'status' | 'broadcast' | 'newsletter' | 'other';

export function jidKind(jid: string): JidKind {
  if (jid === 'status@broadcast') return 'status';
  const domain = jid.slice(jid.lastIndexOf('@') + 1);
  switch (domain) {
    case 'c.us':
    case 's.whatsapp.net':
      return 'user';
    case 'lid':
      return 'lid';
    case 'g.us':
      return 'group';
    case 'broadcast':
      return 'broadcast';
    case 'newsletter':
      return 'newsletter';
    default:
      return 'other';
  }
}

/** `48123456789@c.us` (or `48123456789:12@c.us`, a device suffix) → `48123456789`. */
export function digitsOfJid(jid: string): string {
  const user = jid.slice(0, jid.lastIndexOf('@'));
  return user.split(':')[0]!.replace(/\D/g, '');
}

/** E.164 with '+', from digits. */
export const e164 = (digits: string): string => `+${digits.replace(/\D/g, '')}`;

/** Where a reply to phone digits goes. */
export const userJid = (digits: string): string => `${digits.replace(/\D/g, '')}@c.us`;

/**
 * The phone in a vCard, preferring WhatsApp's own `waid=` parameter (always full international
 * digits) over the displayed number, which may be written locally ("912 345 678").
 */
export function phoneFromVCard(vcard: string): string | undefined {
  const lines = vcard.replace(/\r?\n[ \t]/g, '').split(/\r?\n/);
  for (const line of lines) {
    if (!/^(item\d+\.)?TEL[;:]/i.test(line)) continue;
    const waid = /waid=(\d{6,15})/i.exec(line);
    if (waid) return e164(waid[1]!);
    const value = line.slice(line.indexOf(':') + 1).trim();
    if (!value) continue;
    const digits = value.replace(/\D/g, '');
    if (digits.length < 6) continue;
    if (value.startsWith('+')) return e164(digits);
    if (digits.startsWith('00')) return e164(digits.slice(2));
    // A local number without its country code: passed on as written for the flow to judge.
    return digits;
  }
  return undefined;
}
