import { describe, expect, it } from 'vitest';
import { createCodesFlow } from '../../../../src/dialog/flows/codes/index.js';
import { checkSymbol, formatCode } from '../../../../src/domain/codes/code-format.js';
import type { CodesService, RedeemInput, RedeemOutcome } from '../../../../src/services/codes/index.js';
import type { Db } from '../../../../src/db/sql.js';
import { fakeFlowContext, message, MESSAGE_TX, participant, i18n } from '../../../fakes/flow-context.js';

const code = (body: string) => formatCode(body + checkSymbol(body));
const A = code('K7QM3XW9');
const B = code('P4RT2ZN8');
const t = i18n.t('pl');

/**
 * The codes service at its port: answers each code as the test says and records what it was asked;
 * `existing` are the pre-printed codes it knows (any shape).
 */
function codesFake(answer: (code: string) => RedeemOutcome, existing: string[] = []) {
  const calls: Array<{ db: Db | undefined; input: RedeemInput }> = [];
  const codes = {
    async redeem(db: Db | undefined, input: RedeemInput) {
      calls.push({ db, input });
      return input.codes.map(answer);
    },
    async isExistingCode(_db: Db, text: string) {
      return existing.includes(text);
    },
  } as Pick<CodesService, 'redeem' | 'isExistingCode'> as CodesService;
  return { codes, calls };
}

const credited = (c: string, points: number, balance: number): RedeemOutcome => ({
  status: 'credited',
  code: c,
  points,
  campaignId: 'c1',
  campaign: { name: 'Lato', names: { pl: 'Lato', pt: 'Verão', be: 'Лета' } },
  balance,
});

describe('the codes flow as a unit', () => {
  it('redeems every code of a text on the message transaction, one line each, and keeps the conversation where it was', async () => {
    const { codes, calls } = codesFake((c) => (c === A.replaceAll('-', '') ? credited(c, 50, 150) : { status: 'unknown', code: c }));
    const flow = createCodesFlow({ codes });
    const ctx = fakeFlowContext({ inbound: message({ kind: 'text', text: `${A}\n${B.toLowerCase()}` }), participant: participant({ role: 'retail_staff', store: 'Sklep 7' }) });
    const turn = await flow.intercept!(ctx);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.db).toBe(MESSAGE_TX);
    expect(calls[0]!.input).toEqual({
      participant: { id: 'p-1', programId: 'prog-1', role: 'retail_staff', store: 'Sklep 7', region: null },
      identity: { channel: 'telegram', externalId: '1001' },
      phone: ctx.participant.phone,
      codes: [A.replaceAll('-', ''), B.replaceAll('-', '')],
    });
    const [reply] = turn!.replies as string[];
    expect(reply!.split('\n')).toEqual([
      t('codes:credited', { code: A.replaceAll('-', ''), points: t('common:points', { count: 50 }), campaign: 'Lato', balance: t('common:points', { count: 150 }) }),
      t('codes:unknown', { code: B.replaceAll('-', '') }),
    ]);
    expect(turn!.next).toBe('keep');
  });

  it('leaves texts that are not codes to the other flows, and after "enter a code" goes back to the menu', async () => {
    const { codes, calls } = codesFake((c) => credited(c, 10, 10));
    const flow = createCodesFlow({ codes });
    expect(await flow.intercept!(fakeFlowContext({ inbound: message({ kind: 'text', text: 'dzień dobry' }) }))).toBeUndefined();
    expect(await flow.intercept!(fakeFlowContext({ inbound: message({ kind: 'choice', value: 'codes:enter' }) }))).toBeUndefined();
    expect(calls).toEqual([]);

    expect(await flow.onChoice!(fakeFlowContext({ inbound: message({ kind: 'choice', value: 'codes:enter' }) }), 'codes:enter')).toEqual({
      replies: [t('codes:ask')],
      next: { step: 'codes.enter' },
    });
    const inStep = await flow.intercept!(fakeFlowContext({ inbound: message({ kind: 'text', text: A }), state: { step: 'codes.enter' } }));
    expect(inStep!.next).toBe('menu');
  });

  it('redeems a pre-printed code of any shape from anywhere, and only one that exists', async () => {
    const { codes, calls } = codesFake((c) => credited(c, 7, 7), ['TAMPA VERDE']);
    const flow = createCodesFlow({ codes });
    const turn = await flow.intercept!(fakeFlowContext({ inbound: message({ kind: 'text', text: 'TAMPA VERDE' }) }));
    expect(turn!.next).toBe('keep');
    expect(calls.map((c) => c.input.codes)).toEqual([['TAMPA VERDE']]);
    expect(await flow.intercept!(fakeFlowContext({ inbound: message({ kind: 'text', text: 'tampa azul' }) }))).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it('asks again in the code step for anything but a short text, and redeems a deep link after registration', async () => {
    const { codes, calls } = codesFake((c) => ({ status: 'mistyped', code: c }));
    const flow = createCodesFlow({ codes });
    const step = flow.steps!['codes.enter']!;
    expect(await step(fakeFlowContext({ inbound: message({ kind: 'photo', media: { ref: 'x', load: async () => Buffer.alloc(0) } } as never), state: { step: 'codes.enter' } }))).toEqual({
      replies: [t('codes:ask')],
      next: 'keep',
    });
    expect(await step(fakeFlowContext({ inbound: message({ kind: 'text', text: 'x'.repeat(201) }), state: { step: 'codes.enter' } }))).toEqual({
      replies: [t('codes:ask')],
      next: 'keep',
    });
    const typed = await step(fakeFlowContext({ inbound: message({ kind: 'text', text: ' K7QM 3XW9 ' }), state: { step: 'codes.enter' } }));
    expect(typed).toEqual({ replies: [t('codes:mistyped', { code: 'K7QM 3XW9' })], next: 'menu' });
    expect(calls.at(-1)!.input.codes).toEqual(['K7QM 3XW9']);

    const linked = await flow.onStartPayload!(fakeFlowContext({ inbound: message({ kind: 'command', command: 'start', payload: `code_${A.replaceAll('-', '_')}` }) }), `code_${A.replaceAll('-', '_')}`);
    expect(linked).toEqual({ replies: [t('codes:deep_link_after'), t('codes:mistyped', { code: A.replaceAll('-', '') })], next: 'menu' });
    expect(await flow.onStartPayload!(fakeFlowContext({ inbound: message({ kind: 'command', command: 'start' }) }), 'utm_summer')).toBeUndefined();
  });

  it('answers in the participant’s language', async () => {
    const { codes } = codesFake((c) => ({ status: 'unknown', code: c }));
    const turn = await createCodesFlow({ codes }).intercept!(fakeFlowContext({ inbound: message({ kind: 'text', text: A }), participant: participant({ locale: 'pt-PT' }) }));
    expect(turn!.replies).toEqual([i18n.t('pt-PT')('codes:unknown', { code: A.replaceAll('-', '') })]);
  });
});
