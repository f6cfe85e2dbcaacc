import { describe, expect, it } from 'vitest';
import { nextRegistrationStep, normalizePhone, type ProgramInfo } from '../../../../src/domain/participants/index.js';
import { participant, program as defaultProgram } from '../../../fakes/flow-context.js';

const program = (over: Partial<ProgramInfo> = {}): ProgramInfo => ({ ...defaultProgram, ...over });

describe('registration progress', () => {
  it('asks what is missing, in order', () => {
    const q = { id: 'city', text: { pl: 'Miasto?' } };
    expect(nextRegistrationStep(participant({ consentVersion: null }), program())).toEqual({ step: 'consent' });
    expect(nextRegistrationStep(participant(), program({ termsVersion: '2' }))).toEqual({ step: 'consent' });
    expect(nextRegistrationStep(participant({ name: null }), program())).toEqual({ step: 'name' });
    expect(nextRegistrationStep(participant({ role: null }), program())).toEqual({ step: 'role' });
    expect(nextRegistrationStep(participant({ role: 'sales_rep' }), program())).toEqual({ step: 'store' });
    expect(nextRegistrationStep(participant(), program({ profileQuestions: [q] }))).toEqual({ step: 'profile', questionId: 'city' });
    expect(nextRegistrationStep(participant({ profile: { city: null } }), program({ profileQuestions: [q] }))).toEqual({ step: 'done' });
  });

  it('normalizes typed phone numbers to E.164', () => {
    expect(normalizePhone('600 100 200', 'pl')).toBe('+48600100200');
    expect(normalizePhone('+351 912-345-678')).toBe('+351912345678');
    expect(normalizePhone('00375 29 123 45 67')).toBe('+375291234567');
    expect(normalizePhone('8 029 123 45 67', 'be')).toBe('+375291234567');
    expect(normalizePhone('912 345 678', 'pt-PT')).toBe('+351912345678');
    expect(normalizePhone('hello')).toBeUndefined();
    expect(normalizePhone('12')).toBeUndefined();
    expect(normalizePhone('+48 600 100 200 300 400 500')).toBeUndefined();
  });
});
