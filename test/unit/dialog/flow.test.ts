import { describe, expect, it } from 'vitest';
import { createFlows, type FlowModule } from '../../../src/dialog/flow.js';

describe('flows registry', () => {
  it('refuses modules whose ids, menu values or steps would collide', () => {
    const ok: FlowModule = { id: 'codes', menu: [{ labelKey: 'x', value: 'codes:enter' }], steps: { 'codes.enter': () => undefined } };
    expect(() => createFlows([ok, { ...ok }])).toThrow(/share the id/);
    expect(() => createFlows([{ id: 'reg' }])).toThrow(/reserved/);
    expect(() => createFlows([{ id: 'codes', menu: [{ labelKey: 'x', value: 'other:enter' }] }])).toThrow(/must start with "codes:"/);
    expect(() => createFlows([{ id: 'codes', steps: { 'sales.x': () => undefined } }])).toThrow(/must start with "codes."/);
    const flows = createFlows([ok, { id: 'sales' }]);
    expect(flows.forChoice('codes:enter')?.id).toBe('codes');
    expect(flows.forStep('codes.enter')?.id).toBe('codes');
    expect(flows.forChoice('menu:balance')).toBeUndefined();
  });
});
