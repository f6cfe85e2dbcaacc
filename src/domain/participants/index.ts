/**
 * Participants: who they are in a program, and the pure rules about them (roles, registration
 * progress, phone numbers). No I/O here.
 */
import type { Locale, LocaleTag } from '../../shared/locale.js';

export type ParticipantRole = 'consumer' | 'retail_staff' | 'sales_rep' | 'installer' | 'moderator' | 'manager';
export const PARTICIPANT_ROLES: readonly ParticipantRole[] = [
  'consumer',
  'retail_staff',
  'sales_rep',
  'installer',
  'moderator',
  'manager',
];
/** Roles a participant may pick for themselves during registration (the rest are given by a manager). */
export const SELF_SERVICE_ROLES: readonly ParticipantRole[] = ['consumer', 'retail_staff', 'sales_rep', 'installer'];
/** Roles that work for a store or company and log sales. */
export const STAFF_ROLES: readonly ParticipantRole[] = ['retail_staff', 'sales_rep', 'installer'];

export type ParticipantStatus = 'active' | 'blocked' | 'erased';

export interface Participant {
  id: string;
  programId: string;
  status: ParticipantStatus;
  role: ParticipantRole | null;
  /** The participant's own language choice, if they made one. */
  locale: Locale | null;
  name: string | null;
  /** E.164 with '+'. */
  phone: string | null;
  phoneVerified: boolean;
  store: string | null;
  profile: Record<string, string | null>;
  consentVersion: string | null;
  consentAt: Date | null;
  /** Opted out of broadcasts (replies and notices still arrive). */
  muted: boolean;
  registeredAt: Date | null;
  erasedAt: Date | null;
  createdAt: Date;
}

export interface ChannelIdentityRow {
  id: string;
  programId: string;
  channel: 'telegram' | 'whatsapp' | 'web';
  externalId: string;
  chatId: string;
  participantId: string | null;
  displayName: string | null;
  localeHint: string | null;
  verifiedPhone: string | null;
  unreachableAt: Date | null;
  unreachableReason: string | null;
  createdAt: Date;
  lastSeenAt: Date;
}

/** One question of a program's optional profile (programs.settings.profileQuestions). */
export interface ProfileQuestion {
  id: string;
  text: Partial<Record<LocaleTag, string>>;
  /** Offered as buttons; free text when absent. */
  options?: { value: string; label: Partial<Record<LocaleTag, string>> }[];
  optional?: boolean;
}

export interface ProgramInfo {
  id: string;
  slug: string;
  name: string;
  defaultLocale: Locale;
  timeZone: string;
  termsVersion: string;
  /** Where the terms and privacy notice can be read; shown with the consent question. */
  termsUrl?: string;
  profileQuestions: ProfileQuestion[];
}

export type RegistrationStep = 'consent' | 'name' | 'role' | 'store' | 'profile' | 'done';

/** What a participant still has to give, in order; 'done' once registration is complete. */
export function nextRegistrationStep(p: Participant, program: ProgramInfo): { step: RegistrationStep; questionId?: string } {
  if (p.consentVersion !== program.termsVersion) return { step: 'consent' };
  if (!p.name) return { step: 'name' };
  if (!p.role) return { step: 'role' };
  if (STAFF_ROLES.includes(p.role) && !p.store) return { step: 'store' };
  const open = program.profileQuestions.find((q) => !(q.id in p.profile));
  if (open) return { step: 'profile', questionId: open.id };
  return { step: 'done' };
}

export { normalizePhone, formatPhone, phoneExample, regionOf } from './phone.js';

export const isStaff = (role: ParticipantRole | null): boolean => role !== null && STAFF_ROLES.includes(role);

export const isRegistered = (p: Participant | null | undefined): p is Participant => Boolean(p?.registeredAt);
