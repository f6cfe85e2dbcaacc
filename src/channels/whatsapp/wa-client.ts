/**
 * The slice of whatsapp-web.js that Punkto uses, as structural types. The real `Client` satisfies
 * them (see real-client.ts) and so does the test fake (test/fakes/whatsapp-client.ts), which is why
 * nothing else in this folder imports the library: the adapter, session and translators run the
 * same code against both.
 */
import type { EventEmitter } from 'node:events';

/** whatsapp-web.js `MessageMedia`: base64 data plus type. */
export interface WaMedia {
  mimetype: string;
  data: string;
  filename?: string | null;
  filesize?: number | null;
}

/** whatsapp-web.js `Message` fields read here (see the library's index.d.ts). */
export interface WaMessage {
  id: { _serialized: string; id?: string; fromMe?: boolean; remote?: string };
  from: string;
  to?: string;
  author?: string;
  fromMe: boolean;
  body: string;
  type: string;
  hasMedia: boolean;
  timestamp: number;
  isStatus?: boolean;
  broadcast?: boolean;
  vCards?: string[];
  /** Set by WhatsApp on messages: the sender's profile name. */
  _data?: { notifyName?: string; size?: number; mimetype?: string; filename?: string };
  downloadMedia(): Promise<WaMedia | undefined | null>;
  getContact?(): Promise<{ number?: string; pushname?: string; name?: string; id?: { _serialized: string } }>;
}

export interface WaSentMessage {
  id: { _serialized: string };
}

/** The client as the session uses it: events plus a few calls. */
export interface WaClient extends EventEmitter {
  initialize(): Promise<void>;
  destroy(): Promise<void>;
  logout(): Promise<void>;
  getState(): Promise<string | null>;
  sendMessage(chatId: string, content: string | WaMedia, options?: { caption?: string; linkPreview?: boolean }): Promise<WaSentMessage>;
  getContactLidAndPhone?(userIds: string[]): Promise<Array<{ lid?: string; pn?: string }>>;
}

/**
 * Makes clients. The session creates a NEW client after every disconnect (the library destroys the
 * old one itself), so it holds a factory, not a client.
 */
export interface WaClientFactory {
  create(): WaClient;
  /** Builds the library's MessageMedia (the real `sendMessage` checks `instanceof`). */
  media(mimetype: string, data: Buffer, filename?: string): WaMedia;
  /** What the factory uses for the session, for logs and the status API. */
  readonly describe: { strategy: 'local' | 'remote' | 'fake'; executablePath?: string };
}
