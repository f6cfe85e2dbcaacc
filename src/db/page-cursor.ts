/**
 * Keyset cursors for lists in newest-first order (created_at desc, id desc): the last item's
 * (createdAt, id), opaque to clients. A cursor that does not parse is a 400 naming the field.
 */
export const pageCursor = (p: { createdAt: Date | string; id: string }): string =>
  Buffer.from(`${new Date(p.createdAt).toISOString()}|${p.id}`).toString('base64url');

import { AppError } from '../shared/errors.js';

export function parsePageCursor(cursor: string, field = 'after'): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(at ?? '');
  if (Number.isNaN(createdAt.getTime()) || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id ?? '')) {
    throw new AppError('invalid_input', `${field}: not a cursor this list gave`, { details: { field } });
  }
  return { createdAt, id: id! };
}
