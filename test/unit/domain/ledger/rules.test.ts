import { describe, expect, it } from 'vitest';
import { assertId, assertPoints, requestHash } from '../../../../src/domain/ledger/rules.js';
import { parsePgbenchOutput } from '../../../../bench/lib/pgbench.js';

describe('ledger rules', () => {
  it('accepts whole positive points only', () => {
    expect(() => assertPoints(1)).not.toThrow();
    expect(() => assertPoints(Number.MAX_SAFE_INTEGER)).not.toThrow();
    for (const bad of [0, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => assertPoints(bad), String(bad)).toThrow(expect.objectContaining({ code: 'invalid_input' }));
    }
  });

  it('fingerprints what a key stands for: amount, participant, kind', () => {
    const base = requestHash(['earn', 'prog', 'anna', 10, 'code', null]);
    expect(requestHash(['earn', 'prog', 'anna', 10, 'code', undefined])).toBe(base);
    expect(requestHash(['earn', 'prog', 'anna', 11, 'code', null])).not.toBe(base);
    expect(requestHash(['earn', 'prog', 'bob', 10, 'code', null])).not.toBe(base);
    expect(requestHash(['spend', 'prog', 'anna', 10, 'code', null])).not.toBe(base);
    // no ambiguity from concatenation
    expect(requestHash(['ab', 'c'])).not.toBe(requestHash(['a', 'bc']));
  });

  it('refuses ids that are not uuids', () => {
    expect(() => assertId('5f0c6f8e-8d43-4f8e-9a57-0d7c1c2b3a4d', 'participantId')).not.toThrow();
    expect(() => assertId(null, 'campaignId')).not.toThrow();
    expect(() => assertId("1'; drop table x", 'participantId')).toThrow(expect.objectContaining({ code: 'invalid_input' }));
  });
});

describe('pgbench output', () => {
  it('reads tps and latency from a pgbench report', () => {
    const out = [
      'transaction type: <builtin: simple update>',
      'latency average = 1.305 ms',
      'initial connection time = 12.345 ms',
      'tps = 6131.512345 (without initial connection time)',
    ].join('\n');
    expect(parsePgbenchOutput(out)).toEqual({ tps: 6131.512345, latencyAvgMs: 1.305 });
    expect(() => parsePgbenchOutput('connection failed')).toThrow();
  });
});
