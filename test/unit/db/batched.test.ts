/**
 * Batched statements (src/db/batched.ts): what members ask for in one turn goes to `many` once, in
 * order; a lone item goes to `one`; an error reaches every item of its statement and no other.
 */
import { describe, expect, it } from 'vitest';
import { batched, createBatcher, withBatcher, type BatchedStatement } from '../../../src/db/batched.js';
import type { Db } from '../../../src/db/sql.js';

function recording(fail?: (items: readonly number[]) => boolean) {
  const calls: Array<{ kind: 'one' | 'many'; items: number[] }> = [];
  const statement: BatchedStatement<number, string> = {
    async one(_db, item) {
      calls.push({ kind: 'one', items: [item] });
      if (fail?.([item])) throw new Error(`refused ${item}`);
      return `one:${item}`;
    },
    async many(_db, items) {
      calls.push({ kind: 'many', items: [...items] });
      if (fail?.(items)) throw new Error(`refused ${items.join(',')}`);
      return items.map((i) => `many:${i}`);
    },
  };
  return { calls, statement };
}

const db = {} as Db;
const nextTurn = () => new Promise((r) => setImmediate(r));

describe('batched statements', () => {
  it('sends what is asked for in one turn as one statement, answering each in its order', async () => {
    const { calls, statement } = recording();
    const add = createBatcher(db);
    const answers = await Promise.all([3, 1, 2].map((i) => add(statement, i)));
    expect(answers).toEqual(['many:3', 'many:1', 'many:2']);
    expect(calls).toEqual([{ kind: 'many', items: [3, 1, 2] }]);
  });

  it('asks after an await join the same statement; the next turn starts another', async () => {
    const { calls, statement } = recording();
    const add = createBatcher(db);
    const member = async (i: number) => {
      await Promise.resolve();
      await Promise.resolve();
      return add(statement, i);
    };
    const first = Promise.all([member(1), member(2)]);
    await first;
    await nextTurn();
    expect(await add(statement, 9)).toBe('one:9');
    expect(calls).toEqual([
      { kind: 'many', items: [1, 2] },
      { kind: 'one', items: [9] },
    ]);
  });

  it('a failing statement rejects its items only', async () => {
    const failing = recording((items) => items.includes(2));
    const other = recording();
    const add = createBatcher(db);
    const results = await Promise.allSettled([add(failing.statement, 1), add(failing.statement, 2), add(other.statement, 7)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect((results[0] as PromiseRejectedResult).reason.message).toBe('refused 1,2');
    expect((results[2] as PromiseFulfilledResult<string>).value).toBe('one:7');
  });

  it('on a handle without a batcher (the pool, a transaction alone) runs the item at once', async () => {
    const { calls, statement } = recording();
    expect(await batched(db, statement, 5)).toBe('one:5');
    const member = withBatcher({} as Db, createBatcher(db));
    expect(await Promise.all([batched(member, statement, 1), batched(member, statement, 2)])).toEqual(['many:1', 'many:2']);
    expect(calls.map((c) => c.kind)).toEqual(['one', 'many']);
  });
});
