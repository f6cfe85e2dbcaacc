/**
 * Bot API failures → `SendResult`. The sender decides what to do with each outcome (wait, mark the
 * identity unreachable, retry with backoff); the adapter itself never sleeps on a 429.
 */
import { GrammyError, HttpError } from 'grammy';
import type { SendResult } from '../../dialog/types.js';

/** 400 answers that mean "this chat does not exist for the bot": retrying will never help. */
const GONE_400 = /chat not found|user not found|peer_id_invalid|user is deactivated|bot was blocked|have no rights to send/i;

/** What to do about a failed call, as the outbox sender understands it. */
export function mapTelegramError(error: unknown): Exclude<SendResult, { status: 'sent' }> {
  if (error instanceof GrammyError) {
    const code = error.error_code;
    const description = error.description;
    if (code === 429) {
      const seconds = error.parameters?.retry_after ?? 1;
      return { status: 'rate_limited', retryAfterMs: Math.max(0, seconds) * 1000 };
    }
    if (code === 403) return { status: 'unreachable', reason: description };
    if (code === 400 && GONE_400.test(description)) return { status: 'unreachable', reason: description };
    // 401/404: the token is wrong or revoked. A configuration problem, not the message's fault:
    // keep it retryable so nothing is lost once the token is fixed.
    if (code >= 500 || code === 401 || code === 404 || code === 409) {
      return { status: 'failed', reason: `${code}: ${description}`, retryable: true };
    }
    return { status: 'failed', reason: `${code}: ${description}`, retryable: false };
  }
  if (error instanceof HttpError) return { status: 'failed', reason: `network: ${error.message}`, retryable: true };
  return { status: 'failed', reason: error instanceof Error ? error.message : String(error), retryable: true };
}
