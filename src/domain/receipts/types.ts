/**
 * What a receipt photo can tell us. A fiscal QR code is read into a `FiscalDocument` with the
 * fields every market has in common (seller, date, total, a globally unique document key) plus the
 * raw fields of its format; anything else is kept as raw text.
 */

export type FiscalFormat = 'pt_at' | 'br_nfce' | 'pl_ksef';
export type Currency = 'EUR' | 'BRL' | 'PLN' | 'BYN';

/** Why a fiscal document must not be paid automatically, even though it was read. */
export type DocumentProblem =
  /** PT: credit note, pro-forma, transport guide… */
  | 'document_type_not_accepted'
  /** PT: annulled (E=A) or not a normal document. */
  | 'document_status_not_accepted'
  /** BR tpAmb=2 or the KSeF test host: not a real purchase. */
  | 'test_environment'
  /** The seller's tax id fails its check digit. */
  | 'seller_tax_id_invalid';

export interface FiscalDocument {
  format: FiscalFormat;
  country: 'PT' | 'BR' | 'PL';
  /** Globally unique: the same purchase gives the same key whoever photographs it. */
  documentKey: string;
  sellerTaxId: string;
  sellerTaxIdValid: boolean;
  buyerTaxId?: string;
  /** `YYYY-MM-DD` when the code says the day. */
  issuedOn?: string;
  /** `YYYY-MM` when only the month is known (Brazil's online QR: the key carries AAMM). */
  issuedMonth?: string;
  /** Total in minor units (cents, grosze, centavos). */
  totalMinor?: number;
  currency: Currency;
  /** A human reference: PT document id, BR série/number, PL KSeF hash prefix. */
  reference: string;
  problems: DocumentProblem[];
  /** The format's own fields (PT A..S, BR chave parts, PL NIP/date/hash), for review screens. */
  fields: Record<string, string>;
}

/** The result of reading one QR text. */
export type QrReading =
  | { kind: 'fiscal'; document: FiscalDocument }
  /** Looks like a fiscal format but is malformed or its key fails the check digit. */
  | { kind: 'invalid'; format: FiscalFormat; reason: string }
  /** Any other QR, kept as is (Belarusian receipts, shop URLs…). */
  | { kind: 'other'; text: string };
