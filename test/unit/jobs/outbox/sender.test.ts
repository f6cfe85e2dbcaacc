import { describe, expect, it } from 'vitest';
import { limiterFor } from '../../../../src/jobs/outbox/sender.js';

describe('sender pacing', () => {
  it('spreads a channel rate into windows of one send', () => {
    expect(limiterFor(30)).toEqual({ max: 1, duration: 33 });
    expect(limiterFor(1)).toEqual({ max: 1, duration: 1000 });
    expect(limiterFor(1000)).toEqual({ max: 20, duration: 20 });
  });
});
