/**
 * A messaging channel, as the rest of Punkto sees it.
 *
 * Adding a channel: write a pure `toInbound` (platform update → `Inbound`) and a sender that turns
 * an `Outbound` into platform calls, implement this interface, and register it in main.ts. Inbound
 * messages go to `DialogEngine.receive`; nothing in a channel decides what to answer.
 */
import type { ChannelAddress, ChannelId, Outbound, SendResult } from '../dialog/types.js';

/** What the sender knows about a message; adapters may ignore it. */
export interface SendMeta {
  /** Names the message across re-sends (`outbox:<id>`): a channel that can dedupe sends it once. */
  key?: string;
  kind?: 'reply' | 'notice' | 'broadcast';
}

export interface ChannelAdapter {
  readonly id: ChannelId;
  /** Sends one message. Must not throw for platform answers: map them to a `SendResult`. */
  send(to: ChannelAddress, message: Outbound, meta?: SendMeta): Promise<SendResult>;
}

export interface ChannelRegistry {
  get(id: ChannelId): ChannelAdapter | undefined;
  list(): ChannelAdapter[];
}

export function createChannelRegistry(adapters: ChannelAdapter[]): ChannelRegistry {
  const byId = new Map(adapters.map((a) => [a.id, a] as const));
  return { get: (id) => byId.get(id), list: () => [...byId.values()] };
}
