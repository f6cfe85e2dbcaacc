/**
 * Group commit: messages that arrive while earlier ones are being committed are handled together,
 * in one transaction, instead of each paying its own BEGIN, COMMIT (a WAL flush) and round trips.
 * A message that finds a free slot goes at the end of the current turn of the event loop, with
 * whatever else arrived in that turn, so a quiet service answers as fast as before; batches form
 * under load, from what queued up meanwhile.
 *
 * Order: a conversation is in at most one batch at a time, and within it at most once, so a chat's
 * messages are still handled one after another, in arrival order. An item may still be on its way
 * (a photo downloading): it holds its place, and its chat's later messages wait behind it while
 * other chats go on. Across processes the conversation's row lock keeps doing that.
 */
export interface GroupCommitOptions {
  /** Batches (transactions, pooled connections) running at once. */
  maxInFlight: number;
  /** Messages in one batch. */
  maxBatch: number;
}

export interface Submitted<T, R> {
  item: T;
  key: string;
  resolve(result: R): void;
  reject(error: unknown): void;
}

interface Waiting<T, R> extends Submitted<T, R> {
  ready: boolean;
}

export interface GroupCommit<T, R> {
  /** Queues the item in its key's order at once, even if it is a promise still to settle. */
  submit(item: T | Promise<T>, key: string): Promise<R>;
  /** Messages waiting for a slot or in a running batch. */
  pending(): number;
  /** How long the oldest message not yet answered has waited (ms), 0 when none: readiness reads it. */
  oldestMs(): number;
}

export function createGroupCommit<T, R>(
  options: GroupCommitOptions,
  /** Settles every member of the batch (resolve or reject); its own rejection is a bug. */
  runBatch: (batch: Array<Submitted<T, R>>) => Promise<void>,
): GroupCommit<T, R> {
  const waiting: Array<Waiting<T, R>> = [];
  const busy = new Set<string>();
  let inFlight = 0;
  let running = 0;

  function take(size: number): Array<Submitted<T, R>> {
    const batch: Array<Submitted<T, R>> = [];
    // Keys whose first waiting item is not ready: their later items wait behind it.
    const held = new Set<string>();
    for (let i = 0; i < waiting.length && batch.length < size; ) {
      const next = waiting[i]!;
      if (busy.has(next.key) || held.has(next.key)) {
        i++;
        continue;
      }
      if (!next.ready) {
        held.add(next.key);
        i++;
        continue;
      }
      busy.add(next.key);
      batch.push(next);
      waiting.splice(i, 1);
    }
    return batch;
  }

  // A pump waits for the end of the current turn of the event loop: what arrives in the same turn
  // (the next messages of the chats whose batch just committed, a channel's burst) goes together
  // rather than the first one alone into the free slot.
  let scheduled = false;
  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      pump();
    });
  }

  function pump(): void {
    while (inFlight < options.maxInFlight && waiting.length) {
      // As large as allowed: splitting what waits over the free slots measured slower (a batch's
      // BEGIN, COMMIT and statements cost the server more than running two at once gains).
      const batch = take(options.maxBatch);
      if (batch.length === 0) return; // everything waiting belongs to a conversation in a batch
      inFlight++;
      running += batch.length;
      runBatch(batch)
        .catch((error: unknown) => batch.forEach((m) => m.reject(error)))
        .finally(() => {
          inFlight--;
          running -= batch.length;
          for (const m of batch) busy.delete(m.key);
          schedule();
        });
    }
  }

  // Submission times of the messages not yet answered, oldest first (a Set keeps insertion order).
  const unanswered = new Set<{ at: number }>();

  return {
    submit(item, key) {
      const mark = { at: Date.now() };
      unanswered.add(mark);
      const answered = () => unanswered.delete(mark);
      return new Promise<R>((resolve0, reject0) => {
        const resolve = (r: R) => (answered(), resolve0(r));
        const reject = (e: unknown) => (answered(), reject0(e));
        if (!(item instanceof Promise)) {
          waiting.push({ item, key, resolve, reject, ready: true });
          schedule();
          return;
        }
        const entry: Waiting<T, R> = { item: undefined as T, key, resolve, reject, ready: false };
        waiting.push(entry);
        item.then(
          (value) => {
            entry.item = value;
            entry.ready = true;
            schedule();
          },
          (error: unknown) => {
            waiting.splice(waiting.indexOf(entry), 1);
            reject(error);
            schedule();
          },
        );
      });
    },
    pending: () => waiting.length + running,
    oldestMs: () => {
      for (const m of unanswered) return Date.now() - m.at;
      return 0;
    },
  };
}
