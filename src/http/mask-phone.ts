/**
 * Least privilege for phone numbers in the admin API: managers and admins see them whole, lower
 * roles (viewer, moderator) only the country code and the last three digits, enough to tell two
 * people apart on the phone, not to call or message them.
 */
import type { AdminPrincipal } from '../services/admin-tokens.js';
import { hasRole } from './plugins/admin-auth.js';

// The markets' calling codes; other numbers keep their first two digits.
const COUNTRY_CODES = ['351', '375', '48', '55'];

export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length <= 5) return '…';
  const cc = phone.trim().startsWith('+') ? `+${COUNTRY_CODES.find((c) => digits.startsWith(c)) ?? digits.slice(0, 2)}` : '';
  return `${cc}…${digits.slice(-3)}`;
}

/** The phone as this caller may see it. */
export const phoneFor = (principal: AdminPrincipal | undefined, phone: string | null): string | null =>
  phone === null ? null : hasRole(principal, 'manager') ? phone : maskPhone(phone);
