/**
 * Chat text as Postgres and the flows can take it: NUL and other control characters (ANSI escapes
 * included) removed, a lone UTF-16 surrogate (half of an emoji cut off by a client) replaced by
 * U+FFFD. Every channel adapter passes participants' text and names through here, so a name like
 * "Jan\0Kowalski" is answered like any other, never with the generic internal-error message.
 */
import type { InboundBody } from '../dialog/types.js';
import { LONE_SURROGATES } from '../shared/unicode.js';

// C0 controls but tab, newline and carriage return; DEL; C1 controls (which include CSI).
const CONTROLS = /\u001b\[[0-9;?]*[ -/]*[@-~]|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

export function cleanChatText(text: string): string {
  return text.replace(CONTROLS, '').replace(LONE_SURROGATES, '\uFFFD');
}

/** The body with its text, caption or command payload cleaned; other kinds as they are. */
export function cleanBody<T extends InboundBody>(body: T): T {
  if (body.kind === 'text') return { ...body, text: cleanChatText(body.text) };
  if (body.kind === 'command' && body.payload !== undefined) return { ...body, payload: cleanChatText(body.payload) };
  if (body.kind === 'photo' && body.caption !== undefined) return { ...body, caption: cleanChatText(body.caption) };
  return body;
}
