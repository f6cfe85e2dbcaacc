/**
 * Registration's writes: a new participant for a chat that gave its phone, or the link of a chat to
 * the participant who already owns a verified phone (one participant, one balance across channels).
 * Both run on the message's transaction; the consent the chat gave before a participant existed is
 * stored with the participant.
 */
import type { Db } from '../../db/sql.js';
import type { Participant } from '../../domain/participants/index.js';
import * as repo from '../../db/participants/participants-repo.js';

export interface GivenConsent {
  termsVersion: string;
  at: Date;
}

export interface RegisterParticipantInput {
  programId: string;
  /** The chat identity that registers; linked to the new participant. */
  identityId: string;
  phone: string;
  phoneVerified: boolean;
  locale: string | null;
  consent: GivenConsent;
}

export async function registerParticipant(db: Db, input: RegisterParticipantInput): Promise<Participant> {
  const { consent } = input;
  const created = await repo.insert(db, {
    programId: input.programId,
    phone: input.phone,
    phoneVerified: input.phoneVerified,
    locale: input.locale,
    consentVersion: consent.termsVersion,
    consentAt: consent.at,
  });
  await repo.insertConsent(db, { participantId: created.id, termsVersion: consent.termsVersion, accepted: true, at: consent.at });
  await repo.linkIdentity(db, input.identityId, created.id);
  return created;
}

export interface LinkVerifiedPhoneInput {
  programId: string;
  identityId: string;
  phone: string;
  /** Consent this chat gave for the current terms, stored when the participant lacks it. */
  consent?: GivenConsent;
}

/** Links the chat to the participant owning this verified phone; undefined when nobody does. */
export async function linkVerifiedPhone(db: Db, input: LinkVerifiedPhoneInput): Promise<Participant | undefined> {
  const existing = await repo.findByVerifiedPhone(db, input.programId, input.phone);
  if (!existing) return undefined;
  await repo.linkIdentity(db, input.identityId, existing.id);
  const consent = input.consent;
  if (!consent || existing.consentVersion === consent.termsVersion) return existing;
  await repo.insertConsent(db, { participantId: existing.id, termsVersion: consent.termsVersion, accepted: true, at: consent.at });
  return (await repo.update(db, existing.id, { consentVersion: consent.termsVersion, consentAt: consent.at }))!;
}

/** A registered participant's answer to the terms: kept as given; an acceptance becomes current. */
export async function recordConsent(
  db: Db,
  input: { participantId: string; termsVersion: string; accepted: boolean; at: Date },
): Promise<Participant | undefined> {
  await repo.insertConsent(db, input);
  if (!input.accepted) return undefined;
  return repo.update(db, input.participantId, { consentVersion: input.termsVersion, consentAt: input.at });
}
