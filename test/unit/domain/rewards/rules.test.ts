import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import {
  canMove,
  cashOutAmounts,
  entryPoints,
  isOffered,
  isValidCashOutAmount,
  localized,
  participantMayCancel,
  type Reward,
} from '../../../../src/domain/rewards/index.js';
import { parseVoucherCsv } from '../../../../src/domain/rewards/csv.js';
import { writeCsv as toCsv } from '../../../../src/shared/csv.js';
import { RewardCreateSchema } from '../../../../src/domain/rewards/schema.js';
import { createVoucherCipher, loadVoucherKey } from '../../../../src/services/rewards/voucher-cipher.js';
import { money } from '../../../../src/services/rewards/index.js';

const reward = (over: Partial<Reward> = {}): Reward => ({
  id: 'r',
  programId: 'p',
  type: 'physical',
  status: 'active',
  names: { pl: 'Kubek' },
  descriptions: {},
  imageUrl: null,
  cost: 100,
  stock: 5,
  availableFrom: null,
  availableUntil: null,
  roles: [],
  limitPerParticipant: null,
  cashOut: null,
  lowStockThreshold: 10,
  lowStockAlertedAt: null,
  sortOrder: 0,
  createdAt: new Date(),
  updatedAt: new Date(),
  ...over,
});

describe('reward rules', () => {
  const now = new Date('2026-06-01T12:00:00Z');

  it('offers a reward only while active, inside its window, to the roles it names', () => {
    expect(isOffered(reward(), 'consumer', now)).toBe(true);
    expect(isOffered(reward({ status: 'hidden' }), 'consumer', now)).toBe(false);
    expect(isOffered(reward({ availableFrom: new Date('2026-06-02') }), 'consumer', now)).toBe(false);
    expect(isOffered(reward({ availableUntil: now }), 'consumer', now)).toBe(false);
    expect(isOffered(reward({ roles: ['installer'] }), 'consumer', now)).toBe(false);
    expect(isOffered(reward({ roles: ['installer'] }), 'installer', now)).toBe(true);
    expect(isOffered(reward({ roles: ['installer'] }), null, now)).toBe(false);
  });

  it('falls back to another language when the reader’s is missing', () => {
    expect(localized({ pt: 'Caneca' }, 'be')).toBe('Caneca');
    expect(localized({ pl: 'Kubek', be: 'Кубак' }, 'be')).toBe('Кубак');
  });

  it('cash-out amounts are exactly min, min+step … max', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 20 }), (step, min, n) => {
        const rule = { currency: 'PLN', step, min, max: min + n * step };
        const amounts = cashOutAmounts(rule);
        expect(amounts).toHaveLength(Math.min(n + 1, 200));
        for (const a of amounts) expect(isValidCashOutAmount(rule, a)).toBe(true);
        expect(isValidCashOutAmount(rule, min + step * n + step)).toBe(false);
        if (step > 1) expect(isValidCashOutAmount(rule, min + 1)).toBe(false);
      }),
    );
    expect(entryPoints(reward({ type: 'cash_out', cost: 10, cashOut: { currency: 'PLN', step: 10, min: 20, max: 100 } }))).toBe(200);
  });

  it('lets managers move orders only forward, and participants cancel only while points are held', () => {
    expect(canMove('physical', 'ordered', 'shipped')).toBe(true);
    expect(canMove('physical', 'shipped', 'cancelled')).toBe(false);
    expect(canMove('physical', 'delivered', 'shipped')).toBe(false);
    expect(canMove('cash_out', 'ordered', 'shipped')).toBe(false);
    expect(canMove('e_voucher', 'delivered', 'cancelled')).toBe(false);
    expect(participantMayCancel({ status: 'ordered', type: 'physical' })).toBe(true);
    expect(participantMayCancel({ status: 'shipped', type: 'physical' })).toBe(false);
  });

  it('validates admin input: cash-out needs its rule, stock only for physical', () => {
    expect(RewardCreateSchema.safeParse({ type: 'physical', name: { pl: 'K' }, cost: 1 }).success).toBe(true);
    expect(RewardCreateSchema.safeParse({ type: 'cash_out', name: { pl: 'K' }, cost: 1 }).success).toBe(false);
    expect(
      RewardCreateSchema.safeParse({ type: 'cash_out', name: { pl: 'K' }, cost: 1, cashOut: { currency: 'PLN', step: 10, min: 10, max: 25 } }).success,
    ).toBe(false);
    expect(RewardCreateSchema.safeParse({ type: 'e_voucher', name: { pl: 'K' }, cost: 1, stock: 4 }).success).toBe(false);
  });

  it('formats money the way each language writes it', () => {
    expect(money('pl', 50, 'PLN').replace(/\s/g, ' ')).toBe('50 zł');
    expect(money('pt-PT', 50, 'EUR').replace(/\s/g, ' ')).toBe('50 €');
    expect(money('pt-BR', 50, 'BRL').replace(/\s/g, ' ')).toBe('R$ 50');
    expect(money('pt-BR', 1234.5, 'BRL').replace(/\s/g, ' ')).toBe('R$ 1.234,50');
    expect(money('pl', 1234.5, 'PLN').replace(/\s/g, ' ')).toBe('1234,50 zł');
    expect(money('be', 1234.5, 'BYN').replace(/\s/g, ' ')).toBe('1234,50 Br');
  });
});

describe('voucher CSV', () => {
  it('reads codes from the first or the `code` column, skipping headers, blanks and repeats', () => {
    expect(parseVoucherCsv('\uFEFFcode\r\nA-1\r\n"B,2"\r\n\r\nA-1\r\n')).toEqual({ codes: ['A-1', 'B,2'], duplicatesInFile: 1, emptyLines: [] });
    expect(parseVoucherCsv('note;kod\nx;K1\ny;\n').codes).toEqual(['K1']);
    expect(parseVoucherCsv('note;kod\nx;K1\ny;\n').emptyLines).toEqual([2]);
  });

  it('writes fields a spreadsheet will not run as formulas', () => {
    expect(toCsv([['=1+1', 'a,b', 'ok']])).toBe(`'=1+1,"a,b",ok\r\n`);
  });
});

describe('voucher cipher', () => {
  it('round-trips codes, never stores them in clear, and rejects tampering', () => {
    const cipher = createVoucherCipher(randomBytes(32));
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }), (code) => {
        const blob = cipher.encrypt(code);
        expect(cipher.decrypt(blob)).toBe(code);
        expect(cipher.hash(code).equals(cipher.hash(code))).toBe(true);
      }),
    );
    const blob = cipher.encrypt('SECRET-CODE');
    expect(blob.includes(Buffer.from('SECRET'))).toBe(false);
    expect(cipher.encrypt('SECRET-CODE').equals(blob)).toBe(false);
    blob[blob.length - 1]! ^= 1;
    expect(() => cipher.decrypt(blob)).toThrow();
    expect(() => createVoucherCipher(randomBytes(32)).decrypt(cipher.encrypt('x'))).toThrow();
  });

  it('generates the key once under DATA_DIR/secrets with mode 600, or takes VOUCHER_KEY', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'punkto-vk-'));
    const [a, b] = await Promise.all([loadVoucherKey({ dataDir: dir }), loadVoucherKey({ dataDir: dir })]);
    expect(a.equals(b)).toBe(true);
    expect((await loadVoucherKey({ dataDir: dir })).equals(a)).toBe(true);
    const file = path.join(dir, 'secrets', 'voucher-key');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64').equals(a)).toBe(true);
    const hex = randomBytes(32).toString('hex');
    expect((await loadVoucherKey({ configured: hex, dataDir: dir })).toString('hex')).toBe(hex);
    await expect(loadVoucherKey({ configured: 'short', dataDir: dir })).rejects.toThrow(/32 bytes/);
  });
});
