/**
 * An in-memory stand-in for whatsapp-web.js's `Client`, with the library's event names (`qr`,
 * `authenticated`, `ready`, `message`, `disconnected`) and message shapes (`id._serialized`, `from`,
 * `type`, `hasMedia`, `downloadMedia()`, `getContact()`, `vCards`). A shared "phone" decides whether
 * a new client finds a linked session (→ ready) or has to show a QR, like LocalAuth/RemoteAuth would.
 */
import { EventEmitter } from 'node:events';
import type { WaClient, WaClientFactory, WaMedia, WaMessage, WaSentMessage } from '../../src/channels/whatsapp/wa-client.js';

export interface SentRecord {
  chatId: string;
  content: string | WaMedia;
  options?: { caption?: string; linkPreview?: boolean };
  at: number;
}

export interface FakeWorld {
  /** A linked device exists (the QR was scanned and not logged out). */
  linked: boolean;
  /** Everything any client sent, in order. */
  sent: SentRecord[];
  /** `…@lid` → phone digits, for getContactLidAndPhone. */
  lids: Map<string, string>;
  /** Numbers that make sendMessage fail like the library does for unknown numbers. */
  unknownNumbers: Set<string>;
  qrCount: number;
}

export class FakeWhatsAppClient extends EventEmitter implements WaClient {
  initialized = false;
  destroyed = false;
  loggedOut = false;
  pageState: string | null = 'CONNECTED';
  private seq = 0;

  constructor(readonly world: FakeWorld) {
    super();
  }

  async initialize(): Promise<void> {
    this.initialized = true;
    // The real client resolves initialize() once WhatsApp Web is injected; auth events follow.
    setImmediate(() => {
      if (this.destroyed) return;
      if (this.world.linked) {
        this.emit('authenticated');
        this.emit('ready');
      } else {
        this.world.qrCount++;
        this.emit('qr', `2@fake-qr-${this.world.qrCount},abc,def`);
      }
    });
  }

  /** The admin scans the QR with the phone. */
  scan(): void {
    this.world.linked = true;
    this.emit('authenticated');
    this.emit('ready');
  }

  /** WhatsApp drops the connection; the library destroys the client itself. */
  disconnect(reason = 'NAVIGATION'): void {
    this.emit('disconnected', reason);
    void this.destroy();
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
  }

  async logout(): Promise<void> {
    this.loggedOut = true;
    this.world.linked = false;
    this.destroyed = true;
    this.emit('disconnected', 'LOGOUT');
  }

  async getState(): Promise<string | null> {
    if (this.destroyed) throw new Error('Protocol error: Session closed');
    return this.pageState;
  }

  async sendMessage(chatId: string, content: string | WaMedia, options?: { caption?: string; linkPreview?: boolean }): Promise<WaSentMessage> {
    if (this.destroyed) throw new Error('Protocol error (Runtime.callFunctionOn): Session closed.');
    if (this.world.unknownNumbers.has(chatId)) throw new Error('Evaluation failed: Error: wid error: invalid wid');
    this.world.sent.push({ chatId, content, ...(options ? { options } : {}), at: Date.now() });
    return { id: { _serialized: `true_${chatId}_OUT${++this.seq}` } };
  }

  async getContactLidAndPhone(userIds: string[]): Promise<Array<{ lid?: string; pn?: string }>> {
    return userIds.map((id) => {
      const pn = this.world.lids.get(id);
      return { lid: id, ...(pn ? { pn: `${pn}@c.us` } : {}) };
    });
  }

  /** Delivers an incoming message to the service. */
  receive(message: WaMessage): void {
    this.emit('message', message);
  }
}

export function createFakeWhatsApp(world: Partial<FakeWorld> = {}) {
  const state: FakeWorld = {
    linked: world.linked ?? true,
    sent: world.sent ?? [],
    lids: world.lids ?? new Map(),
    unknownNumbers: world.unknownNumbers ?? new Set(),
    qrCount: 0,
  };
  const clients: FakeWhatsAppClient[] = [];
  const factory: WaClientFactory = {
    describe: { strategy: 'fake' },
    create() {
      const c = new FakeWhatsAppClient(state);
      clients.push(c);
      return c;
    },
    media: (mimetype, data, filename) => ({ mimetype, data: data.toString('base64'), filename: filename ?? null }),
  };
  return {
    world: state,
    factory,
    clients,
    latest: () => {
      const c = clients.at(-1);
      if (!c) throw new Error('no whatsapp client was created');
      return c;
    },
    /** Text messages sent to one chat. */
    textsTo: (chatId: string) =>
      state.sent.filter((s) => s.chatId === chatId).map((s) => (typeof s.content === 'string' ? s.content : (s.options?.caption ?? ''))),
  };
}

let counter = 0;
const nextId = () => `3EB0${(++counter).toString(16).toUpperCase().padStart(16, '0')}`;

interface MessageInit {
  from: string;
  id?: string;
  body?: string;
  type?: string;
  fromMe?: boolean;
  author?: string;
  notifyName?: string;
  media?: { mimetype: string; data: Buffer; filename?: string };
  vCards?: string[];
  timestamp?: number;
  contactNumber?: string;
}

/** A message as whatsapp-web.js builds it (see the example in the library's index.d.ts). */
export function waMessage(init: MessageInit): WaMessage & { downloads: number } {
  const id = init.id ?? nextId();
  const fromMe = init.fromMe ?? false;
  const msg = {
    downloads: 0,
    id: { fromMe, remote: init.from, id, _serialized: `${fromMe}_${init.from}_${id}` },
    ack: 1,
    from: init.from,
    to: '351900000000@c.us',
    ...(init.author ? { author: init.author } : {}),
    fromMe,
    body: init.body ?? '',
    type: init.type ?? (init.media ? 'image' : 'chat'),
    hasMedia: Boolean(init.media),
    timestamp: init.timestamp ?? Math.floor(Date.now() / 1000),
    isStatus: init.from === 'status@broadcast',
    broadcast: false,
    vCards: init.vCards ?? [],
    _data: {
      notifyName: init.notifyName ?? 'Ana',
      ...(init.media ? { mimetype: init.media.mimetype, size: init.media.data.length, ...(init.media.filename ? { filename: init.media.filename } : {}) } : {}),
    },
    async downloadMedia(): Promise<WaMedia | undefined> {
      msg.downloads++;
      if (!init.media) return undefined;
      return { mimetype: init.media.mimetype, data: init.media.data.toString('base64'), filename: init.media.filename ?? null };
    },
    async getContact() {
      return { number: init.contactNumber ?? init.from.split('@')[0]!, pushname: init.notifyName ?? 'Ana', id: { _serialized: init.from } };
    },
  };
  return msg;
}
