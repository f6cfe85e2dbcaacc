/**
 * A fake Telegram Bot API server: a real HTTP server on 127.0.0.1 that grammY talks to through
 * `TELEGRAM_API_ROOT`. It serves `/bot<token>/<method>` and `/file/bot<token>/<path>`, records
 * every call, queues updates for getUpdates long polling, and can be told to misbehave the way
 * Telegram does (429 with retry_after, 403 for blocked chats, a messages-per-second ceiling).
 *
 * Typical use:
 *   const tg = await startFakeTelegram();
 *   const ana = tg.user(1001, { firstName: 'Ana', languageCode: 'pt' });
 *   ana.command('start');
 *   const hello = await tg.nextMessage(ana.id);       // the next message the bot sent to Ana
 *   ana.press(hello, 'Português');                     // presses the inline button with that label
 *   afterAll(() => tg.close());
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  BotCommand,
  InlineKeyboardMarkup,
  Message,
  ReplyKeyboardMarkup,
  Update,
  UserFromGetMe,
} from 'grammy/types';

export const FAKE_TOKEN = '123456:TEST-token_for-punkto';

export interface RecordedCall {
  method: string;
  payload: Record<string, unknown>;
  at: number;
  /** The answer's error code, or 200. */
  status: number;
}

export interface SentMessage {
  message_id: number;
  chat_id: string;
  method: 'sendMessage' | 'sendPhoto';
  /** Message text, or the photo's caption. */
  text: string;
  reply_markup?: Record<string, unknown>;
  /** A URL or file_id given as photo, or '<upload>' for bytes sent as multipart. */
  photo?: string;
  at: number;
}

export interface Failure {
  code: number;
  description?: string;
  retryAfter?: number;
  /** Which methods fail (default: sendMessage and sendPhoto). */
  methods?: string[];
  /** Only calls to this chat fail. */
  chatId?: number | string;
}

const SEND_METHODS = ['sendMessage', 'sendPhoto'];

const DESCRIPTIONS: Record<number, string> = {
  400: 'Bad Request: chat not found',
  403: 'Forbidden: bot was blocked by the user',
  429: 'Too Many Requests: retry after 1',
  500: 'Internal Server Error',
};

export interface FakeUserOptions {
  firstName?: string;
  lastName?: string;
  languageCode?: string;
}

export class FakeUser {
  private messageIds = 0;
  constructor(
    private readonly tg: FakeTelegram,
    readonly id: number,
    readonly options: FakeUserOptions,
  ) {}

  get from() {
    return {
      id: this.id,
      is_bot: false,
      first_name: this.options.firstName ?? `User${this.id}`,
      ...(this.options.lastName ? { last_name: this.options.lastName } : {}),
      ...(this.options.languageCode ? { language_code: this.options.languageCode } : {}),
    };
  }

  /** A message in the private chat with the bot, with a fresh message_id. */
  message(fields: Partial<Message>): Update {
    const message = {
      message_id: ++this.messageIds,
      date: Math.floor(Date.now() / 1000),
      chat: { id: this.id, type: 'private', first_name: this.from.first_name },
      from: this.from,
      ...fields,
    } as Update['message'];
    return this.tg.pushUpdate({ message });
  }

  text(text: string): Update {
    return this.message({ text });
  }

  /** `/start`, `/start payload`: with the bot_command entity Telegram adds. */
  command(command: string, payload?: string): Update {
    const text = payload ? `/${command} ${payload}` : `/${command}`;
    return this.message({ text, entities: [{ type: 'bot_command', offset: 0, length: command.length + 1 }] } as Partial<Message>);
  }

  /** Taps "share my phone": the card carries the sender's own user id. */
  shareContact(phone: string): Update {
    return this.message({ contact: { phone_number: phone, first_name: this.from.first_name, user_id: this.id } } as Partial<Message>);
  }

  /** Forwards someone else's contact card. */
  sendContactOf(phone: string, ownerId?: number): Update {
    return this.message({
      contact: { phone_number: phone, first_name: 'Someone', ...(ownerId !== undefined ? { user_id: ownerId } : {}) },
    } as Partial<Message>);
  }

  photo(bytes: Buffer, caption?: string): Update {
    const file = this.tg.addFile(bytes);
    const small = this.tg.addFile(bytes.subarray(0, Math.min(bytes.length, 100)));
    return this.message({
      photo: [
        { ...small, width: 90, height: 120 },
        { ...file, width: 960, height: 1280 },
      ],
      ...(caption ? { caption } : {}),
    } as Partial<Message>);
  }

  /** Blocks the bot: Telegram sends my_chat_member (kicked) and refuses further sends with 403. */
  blockBot(): Update {
    this.tg.block(this.id);
    const bot = { id: this.tg.botInfo.id, is_bot: true, first_name: this.tg.botInfo.first_name, username: this.tg.botInfo.username };
    return this.tg.pushUpdate({
      my_chat_member: {
        chat: { id: this.id, type: 'private', first_name: this.from.first_name },
        from: this.from,
        date: Math.floor(Date.now() / 1000),
        old_chat_member: { user: bot, status: 'member' },
        new_chat_member: { user: bot, status: 'kicked', until_date: 0 },
      },
    } as Omit<Update, 'update_id'>);
  }

  location(): Update {
    return this.message({ location: { latitude: 52.23, longitude: 21.01 } } as Partial<Message>);
  }

  /** Presses the inline button labelled `label` (or whose data is `label`) on a message the bot sent. */
  press(sent: SentMessage, label: string): Update {
    const keyboard = (sent.reply_markup as InlineKeyboardMarkup | undefined)?.inline_keyboard ?? [];
    const button = keyboard.flat().find((b) => b.text === label || ('callback_data' in b && b.callback_data === label));
    if (!button || !('callback_data' in button)) {
      throw new Error(`no inline button "${label}" on message ${sent.message_id}: ${JSON.stringify(keyboard.flat().map((b) => b.text))}`);
    }
    return this.pressData(button.callback_data, sent);
  }

  pressData(data: string, sent?: SentMessage): Update {
    return this.tg.pushUpdate({
      callback_query: {
        id: `${this.id}${++this.messageIds}${Date.now()}`,
        from: this.from,
        chat_instance: `ci${this.id}`,
        data,
        message: {
          message_id: sent?.message_id ?? 1,
          date: Math.floor(Date.now() / 1000),
          chat: { id: this.id, type: 'private', first_name: this.from.first_name },
          text: sent?.text ?? '',
        },
      },
    } as Omit<Update, 'update_id'>);
  }
}

export class FakeTelegram extends EventEmitter {
  readonly calls: RecordedCall[] = [];
  readonly sent: SentMessage[] = [];
  readonly commands = new Map<string, BotCommand[]>();
  webhook: { url: string; secret?: string } | undefined;
  apiRoot = '';

  private server: Server | undefined;
  private updates: Update[] = [];
  private nextUpdateId = 100;
  private nextMessageId = 5000;
  private files = new Map<string, { bytes: Buffer; path: string }>();
  private failures: Array<Failure & { remaining: number }> = [];
  private blocked = new Set<string>();
  private rate: { perSecond: number; retryAfter: number } | undefined;
  private acceptedSends: number[] = [];
  private cursors = new Map<string, number>();
  private pollers = new Set<() => void>();

  constructor(
    readonly token: string,
    readonly botInfo: UserFromGetMe,
  ) {
    super();
    this.setMaxListeners(100);
  }

  async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error_code: 500, description: String(error) }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.apiRoot = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const wake of this.pollers) wake();
    if (!this.server) return;
    // grammY keeps keep-alive sockets open: close them or `close()` waits for them.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  // ---- steering ---------------------------------------------------------------------------

  user(id: number, options: FakeUserOptions = {}): FakeUser {
    return new FakeUser(this, id, options);
  }

  /** Queues an update for getUpdates; `update_id` is assigned unless given (a re-delivery). */
  pushUpdate(update: Omit<Update, 'update_id'> & { update_id?: number }): Update {
    const full = { ...update, update_id: update.update_id ?? this.nextUpdateId++ } as Update;
    this.updates.push(full);
    for (const wake of this.pollers) wake();
    return full;
  }

  /** Delivers the very same update again (same update_id and message), as Telegram does on retry. */
  redeliver(update: Update): void {
    this.updates.push(structuredClone(update));
    for (const wake of this.pollers) wake();
  }

  /** Updates queued and not yet confirmed by a getUpdates offset. */
  pendingUpdates(): number {
    return this.updates.length;
  }

  addFile(bytes: Buffer): { file_id: string; file_unique_id: string; file_size: number } {
    const id = `F${this.files.size + 1}x${Math.random().toString(36).slice(2, 8)}`;
    this.files.set(id, { bytes, path: `photos/${id}.jpg` });
    return { file_id: id, file_unique_id: `u${id}`, file_size: bytes.length };
  }

  /** The next `count` matching calls fail with this error. */
  failNext(count: number, failure: Failure): void {
    this.failures.push({ ...failure, remaining: count });
  }

  /** Sends above `perSecond` (over any rolling second) answer 429 with `retryAfter`. */
  limitRate(perSecond: number | undefined, retryAfter = 1): void {
    this.rate = perSecond === undefined ? undefined : { perSecond, retryAfter };
  }

  block(chatId: number | string): void {
    this.blocked.add(String(chatId));
  }

  unblock(chatId: number | string): void {
    this.blocked.delete(String(chatId));
  }

  // ---- inspection -------------------------------------------------------------------------

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  messagesTo(chatId: number | string): SentMessage[] {
    return this.sent.filter((m) => m.chat_id === String(chatId));
  }

  /** The next message to `chatId` not returned before; waits for it up to `timeoutMs`. */
  async nextMessage(chatId: number | string, timeoutMs = 10_000): Promise<SentMessage> {
    const key = String(chatId);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.cursors.get(key) ?? 0;
      const messages = this.messagesTo(key);
      if (messages[index]) {
        this.cursors.set(key, index + 1);
        return messages[index];
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no message to chat ${key} within ${timeoutMs} ms (had ${messages.length}: ${JSON.stringify(messages.map((m) => m.text.slice(0, 60)))})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.once('sent', done);
      });
    }
  }

  /**
   * Skips messages to `chatId` until one matches `predicate` and returns it; the error lists what
   * was skipped, which is what you want to read when a journey goes astray.
   */
  async nextMatching(chatId: number | string, predicate: (m: SentMessage) => boolean, timeoutMs = 15_000): Promise<SentMessage> {
    const deadline = Date.now() + timeoutMs;
    const skipped: string[] = [];
    for (;;) {
      let message: SentMessage;
      try {
        message = await this.nextMessage(chatId, Math.max(1, deadline - Date.now()));
      } catch {
        throw new Error(`no matching message to chat ${chatId} within ${timeoutMs} ms; skipped: ${JSON.stringify(skipped)}`);
      }
      if (predicate(message)) return message;
      skipped.push(message.text.slice(0, 80));
    }
  }

  /** Resolves with the messages to `chatId` not yet returned once none arrives for `quietMs`. */
  async drain(chatId: number | string, quietMs = 500): Promise<SentMessage[]> {
    const out: SentMessage[] = [];
    for (;;) {
      try {
        out.push(await this.nextMessage(chatId, quietMs));
      } catch {
        return out;
      }
    }
  }

  /** Resolves when a call to `method` matching `where` has been recorded. */
  async waitForCall(method: string, where: (c: RecordedCall) => boolean = () => true, timeoutMs = 10_000): Promise<RecordedCall> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.calls.find((c) => c.method === method && where(c));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${method} call within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // ---- HTTP -------------------------------------------------------------------------------

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (file) return this.download(file[1]!, file[2]!, res);
    const api = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!api) return this.answer(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    const [, token, method] = api as unknown as [string, string, string];
    const payload = await readPayload(req, url);
    if (token !== this.token) {
      this.record(method, payload, 401);
      return this.answer(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    }
    const failure = this.failureFor(method, payload);
    if (failure) {
      this.record(method, payload, failure.error_code);
      return this.answer(res, failure.error_code, failure);
    }
    if (method === 'getUpdates') return this.getUpdates(payload, req, res);
    const result = this.handle(method, payload);
    if (result === undefined) {
      this.record(method, payload, 404);
      return this.answer(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
    this.record(method, payload, 200);
    this.answer(res, 200, { ok: true, result });
  }

  private record(method: string, payload: Record<string, unknown>, status: number): void {
    this.calls.push({ method, payload, at: Date.now(), status });
    this.emit('call', method);
  }

  private answer(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private failureFor(method: string, payload: Record<string, unknown>) {
    const isSend = SEND_METHODS.includes(method);
    if (isSend && this.blocked.has(String(payload.chat_id))) {
      return { ok: false, error_code: 403, description: DESCRIPTIONS[403]! };
    }
    const index = this.failures.findIndex(
      (f) =>
        (f.methods ?? SEND_METHODS).includes(method) &&
        f.remaining > 0 &&
        (f.chatId === undefined || String(f.chatId) === String(payload.chat_id)),
    );
    if (index >= 0) {
      const f = this.failures[index]!;
      f.remaining -= 1;
      if (f.remaining === 0) this.failures.splice(index, 1);
      return {
        ok: false,
        error_code: f.code,
        description: f.description ?? (f.code === 429 ? `Too Many Requests: retry after ${f.retryAfter ?? 1}` : (DESCRIPTIONS[f.code] ?? 'Error')),
        ...(f.code === 429 ? { parameters: { retry_after: f.retryAfter ?? 1 } } : {}),
      };
    }
    if (isSend && this.rate) {
      const now = Date.now();
      this.acceptedSends = this.acceptedSends.filter((t) => now - t < 1000);
      if (this.acceptedSends.length >= this.rate.perSecond) {
        return {
          ok: false,
          error_code: 429,
          description: `Too Many Requests: retry after ${this.rate.retryAfter}`,
          parameters: { retry_after: this.rate.retryAfter },
        };
      }
      this.acceptedSends.push(now);
    }
    return undefined;
  }

  private getUpdates(payload: Record<string, unknown>, req: IncomingMessage, res: ServerResponse): void {
    if (this.webhook) {
      this.record('getUpdates', payload, 409);
      return this.answer(res, 409, {
        ok: false,
        error_code: 409,
        description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      });
    }
    const offset = Number(payload.offset ?? 0);
    const limit = Number(payload.limit ?? 100);
    const timeout = Number(payload.timeout ?? 0);
    // An offset confirms every update below it: they are gone for good, as on Telegram.
    if (offset > 0) this.updates = this.updates.filter((u) => u.update_id >= offset);
    const ready = () => this.updates.filter((u) => u.update_id >= offset).slice(0, limit);
    const reply = () => {
      this.record('getUpdates', payload, 200);
      this.answer(res, 200, { ok: true, result: ready() });
    };
    if (ready().length > 0 || timeout <= 0) return reply();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      this.pollers.delete(wake);
      if (!res.destroyed && !res.writableEnded) reply();
    };
    const wake = () => setImmediate(finish);
    const timer = setTimeout(finish, timeout * 1000);
    this.pollers.add(wake);
    // The bot aborted its long poll (stop): forget it, do not "deliver" into a closed socket.
    res.on('close', () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      this.pollers.delete(wake);
    });
    void req;
  }

  private message(chatId: string, fields: Record<string, unknown>): Message {
    return {
      message_id: this.nextMessageId++,
      date: Math.floor(Date.now() / 1000),
      chat: { id: Number(chatId), type: 'private', first_name: 'User' },
      from: this.botInfo,
      ...fields,
    } as unknown as Message;
  }

  private handle(method: string, p: Record<string, unknown>): unknown {
    switch (method) {
      case 'getMe':
        return this.botInfo;
      case 'sendMessage':
      case 'sendPhoto': {
        const chatId = String(p.chat_id);
        const markup = parseJson(p.reply_markup) as Record<string, unknown> | undefined;
        const text = String((method === 'sendMessage' ? p.text : p.caption) ?? '');
        const photo =
          method === 'sendPhoto'
            ? typeof p.photo === 'string' && !p.photo.startsWith('attach://')
              ? p.photo
              : '<upload>'
            : undefined;
        const message = this.message(chatId, {
          ...(method === 'sendMessage' ? { text } : { caption: text, photo: [{ file_id: 'sent', file_unique_id: 'sent', width: 1, height: 1 }] }),
          ...(markup && 'inline_keyboard' in markup ? { reply_markup: markup } : {}),
        });
        const sent: SentMessage = {
          message_id: message.message_id,
          chat_id: chatId,
          method,
          text,
          ...(markup ? { reply_markup: markup } : {}),
          ...(photo ? { photo } : {}),
          at: Date.now(),
        };
        this.sent.push(sent);
        this.emit('sent', sent);
        return message;
      }
      case 'editMessageText':
        return this.message(String(p.chat_id), { text: p.text, message_id: Number(p.message_id) });
      case 'editMessageReplyMarkup':
        return this.message(String(p.chat_id), { message_id: Number(p.message_id) });
      case 'answerCallbackQuery':
      case 'deleteMessage':
      case 'sendChatAction':
        return true;
      case 'getFile': {
        const file = this.files.get(String(p.file_id));
        if (!file) return { file_id: p.file_id, file_unique_id: `u${String(p.file_id)}` };
        return { file_id: p.file_id, file_unique_id: `u${String(p.file_id)}`, file_size: file.bytes.length, file_path: file.path };
      }
      case 'setWebhook':
        this.webhook = { url: String(p.url), ...(p.secret_token ? { secret: String(p.secret_token) } : {}) };
        return true;
      case 'deleteWebhook':
        this.webhook = undefined;
        if (p.drop_pending_updates) this.updates = [];
        return true;
      case 'getWebhookInfo':
        return { url: this.webhook?.url ?? '', has_custom_certificate: false, pending_update_count: this.updates.length };
      case 'setMyCommands':
        this.commands.set(commandsKey(p), (parseJson(p.commands) as BotCommand[]) ?? []);
        return true;
      case 'getMyCommands':
        return this.commands.get(commandsKey(p)) ?? [];
      case 'deleteMyCommands':
        this.commands.delete(commandsKey(p));
        return true;
      default:
        return undefined;
    }
  }

  private download(token: string, path: string, res: ServerResponse): void {
    const file = [...this.files.values()].find((f) => f.path === path);
    this.calls.push({ method: 'file', payload: { path }, at: Date.now(), status: token === this.token && file ? 200 : 404 });
    if (token !== this.token || !file) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': file.bytes.length });
    res.end(file.bytes);
  }
}

function commandsKey(p: Record<string, unknown>): string {
  const parsed = parseJson(p.scope) as { type?: string; chat_id?: string | number } | undefined;
  // A chat scope is its own menu: `chat=<id>:<language>`.
  const scope = parsed?.type === 'chat' ? `chat=${String(parsed.chat_id)}` : (parsed?.type ?? 'default');
  return `${scope}:${typeof p.language_code === 'string' ? p.language_code : ''}`;
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

async function readPayload(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const type = req.headers['content-type'] ?? '';
  const payload: Record<string, unknown> = Object.fromEntries(url.searchParams);
  if (body.length === 0) return payload;
  if (type.includes('application/json')) return { ...payload, ...(JSON.parse(body.toString('utf8')) as Record<string, unknown>) };
  if (type.includes('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) payload[key] = parseJson(value);
    return payload;
  }
  if (type.includes('multipart/form-data')) {
    // A forgiving parser: grammY's stream is valid multipart but not always to undici's taste.
    const boundary = /boundary=("?)([^";]+)\1/.exec(type)?.[2];
    if (!boundary) return payload;
    for (const part of body.toString('latin1').split(`--${boundary}`)) {
      const headerEnd = part.indexOf('\r\n\r\n');
      if (headerEnd < 0) continue;
      const headers = part.slice(0, headerEnd);
      const name = /name="([^"]*)"/.exec(headers)?.[1];
      if (!name) continue;
      const value = part.slice(headerEnd + 4).replace(/\r\n$/, '');
      payload[name] = /filename="/.test(headers) ? '<upload>' : parseJson(Buffer.from(value, 'latin1').toString('utf8'));
    }
    return payload;
  }
  return payload;
}

export async function startFakeTelegram(options: { token?: string; username?: string } = {}): Promise<FakeTelegram> {
  const botInfo: UserFromGetMe = {
    id: 123456,
    is_bot: true,
    first_name: 'Punkto',
    username: options.username ?? 'punkto_test_bot',
    can_join_groups: false,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  } as UserFromGetMe;
  const tg = new FakeTelegram(options.token ?? FAKE_TOKEN, botInfo);
  await tg.listen();
  return tg;
}

export type { ReplyKeyboardMarkup };
