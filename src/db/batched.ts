/**
 * Statements that several units of work of one shared transaction (the dialog engine's group
 * commit) send as one: the members of a batch each look up their code, and instead of sixteen
 * statements the server gets one over arrays, with one protocol exchange, one executor start and
 * one socket write and read on each side. On this path a statement's fixed cost (the client's query
 * object, its write and its parse, the server's bind, executor start and flush) was larger than
 * the work it carried.
 *
 * A repo defines the statement twice, for one item and for many, and calls `batched(db, …)`: on a
 * plain transaction or the pool it runs `one` at once; on a member of a shared transaction the item
 * waits for the end of the current turn of the event loop, when what the other members asked for in
 * that turn goes together (`one` again if nobody else did).
 *
 * A batched statement runs after whatever the member handed over before it, and is awaited before
 * the member goes on: use it for a read or write the member waits for anyway.
 */
import type { Db } from './sql.js';

export interface BatchedStatement<I, O> {
  /** The item alone (a message alone in its transaction, or inside a savepoint). */
  one(db: Db, item: I): Promise<O>;
  /** Several items in one statement; answers in the order of `items`. */
  many(db: Db, items: readonly I[]): Promise<O[]>;
}

export type Batcher = <I, O>(statement: BatchedStatement<I, O>, item: I) => Promise<O>;

const BATCHER = Symbol('batcher');

/** Runs `item` through `statement`, together with other members' items when `db` is a member. */
export function batched<I, O>(db: Db, statement: BatchedStatement<I, O>, item: I): Promise<O> {
  const batcher = (db as { [BATCHER]?: Batcher })[BATCHER];
  return batcher ? batcher(statement, item) : statement.one(db, item);
}

/** Marks a handle as a member whose batched statements go through `batcher`. */
export function withBatcher<T extends object>(handle: T, batcher: Batcher): T {
  Object.defineProperty(handle, BATCHER, { value: batcher, enumerable: false });
  return handle;
}

/**
 * Collects the items asked for in one turn and sends each statement's items together on `db` (the
 * shared transaction's connection, through its savepoint gate: they wait while a member is inside a
 * savepoint).
 */
export function createBatcher(db: Db): Batcher {
  type Waiting = { item: unknown; resolve(o: unknown): void; reject(e: unknown): void };
  const queued = new Map<BatchedStatement<unknown, unknown>, Waiting[]>();
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    for (const [statement, waiting] of queued) {
      queued.delete(statement);
      const answered =
        waiting.length === 1
          ? statement.one(db, waiting[0]!.item).then((o) => [o])
          : statement.many(db, waiting.map((w) => w.item));
      answered.then(
        (outs) => waiting.forEach((w, i) => w.resolve(outs[i])),
        (error: unknown) => waiting.forEach((w) => w.reject(error)),
      );
    }
  }

  return <I, O>(statement: BatchedStatement<I, O>, item: I) =>
    new Promise<O>((resolve, reject) => {
      const key = statement as BatchedStatement<unknown, unknown>;
      let waiting = queued.get(key);
      if (!waiting) queued.set(key, (waiting = []));
      waiting.push({ item, resolve: resolve as (o: unknown) => void, reject });
      if (!scheduled) {
        scheduled = true;
        // After the turn: the members' promise chains all run before it, so each has asked.
        setImmediate(flush);
      }
    });
}
