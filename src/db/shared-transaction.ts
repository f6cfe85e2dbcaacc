/**
 * One Postgres transaction shared by several units of work that run at the same time (the dialog
 * engine's group commit: the messages of a batch are handled concurrently on one connection, their
 * statements pipelined, and committed together).
 *
 * Statements on one connection run in the order they were handed to it, so members interleave
 * safely with one exception: a savepoint. Between a member's SAVEPOINT and its RELEASE / ROLLBACK
 * TO, a statement of another member would land inside it and be undone with it. So a member opening
 * a savepoint takes the transaction for itself: other members' statements wait (in order) until the
 * savepoint is released or rolled back. Statements handed over before the SAVEPOINT run before it,
 * outside it, which is correct, so nothing needs to drain first.
 *
 * The gate works on postgres.js's query handler: a query is built as usual (nested fragments, the
 * json/array helpers and `.values()` keep working) and only its hand-over to the connection is
 * held back while another member holds the savepoint.
 *
 * Members' batched statements (batched.ts) asked for in the same turn go to the server as one,
 * through the gate like any member's statement; a member inside its own savepoint runs them alone,
 * at once (the batch would wait for that very savepoint).
 */
import type postgres from 'postgres';
import { createBatcher, withBatcher } from './batched.js';

type Tx = postgres.TransactionSql<Record<string, unknown>>;
type Handler = ((query: unknown) => void) & { debug?: unknown };
interface Gateable {
  handler: Handler;
}

export interface SharedTransaction {
  /** A handle for one member: use it exactly like the transaction itself. */
  member(): Tx;
}

const isQuery = (x: unknown): x is Gateable =>
  typeof x === 'object' && x !== null && typeof (x as { handler?: unknown }).handler === 'function' && x instanceof Promise;

export function shareTransaction(tx: Tx): SharedTransaction {
  /** The member inside a savepoint, and how deep (its own nested savepoints). */
  let owner: symbol | null = null;
  let depth = 0;
  /** Hand-overs and savepoint openings held back while `owner` is set, in arrival order. */
  const waiting: Array<{ who: symbol; go: () => void; exclusive: boolean }> = [];

  function release(): void {
    owner = null;
    while (waiting.length && owner === null) {
      const next = waiting.shift()!;
      if (next.exclusive) owner = next.who;
      next.go();
    }
  }

  function gate<Q>(who: symbol, built: Q): Q {
    if (!isQuery(built)) return built;
    const handOver = built.handler;
    const held: Handler = (query) => {
      if (owner === null || owner === who) handOver(query);
      else waiting.push({ who, go: () => handOver(query), exclusive: false });
    };
    Object.assign(held, handOver); // options, debug, cancel: what the query reads from its handler
    built.handler = held;
    return built;
  }

  async function exclusive<T>(who: symbol, fn: () => Promise<T>): Promise<T> {
    if (owner !== who) {
      if (owner === null) owner = who;
      else await new Promise<void>((go) => waiting.push({ who, go, exclusive: true }));
    }
    depth++;
    try {
      return await fn();
    } finally {
      if (--depth === 0) release();
    }
  }

  function gated(who: symbol): Tx {
    const call = (first: unknown, ...rest: unknown[]) => gate(who, (tx as unknown as (...a: unknown[]) => unknown)(first, ...rest));
    const handle = Object.assign(call, tx, {
      unsafe: (...a: Parameters<Tx['unsafe']>) => gate(who, tx.unsafe(...a)),
      savepoint: (...a: unknown[]) =>
        exclusive(who, () => (tx.savepoint as unknown as (...b: unknown[]) => Promise<unknown>)(...a)),
    });
    return handle as unknown as Tx;
  }

  const together = createBatcher(gated(Symbol('batched statements')));

  return {
    member(): Tx {
      const who = Symbol('member');
      const handle = gated(who);
      return withBatcher(handle, (statement, item) => (owner === who ? statement.one(handle, item) : together(statement, item)));
    },
  };
}
