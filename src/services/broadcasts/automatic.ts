/**
 * Broadcasts nobody has to write: a campaign's start and end announcements, and reminders that
 * points expire in N days. Each has a unique source key (`campaign:<id>:start`,
 * `expiry:<program>:<day>`), so however often and on however many processes the scheduler runs,
 * each is created, and therefore sent, once.
 */
import type { Db } from '../../db/sql.js';
import * as repo from '../../db/broadcasts/repo.js';
import * as campaignsRepo from '../../db/campaigns/repo.js';
import * as programsRepo from '../../db/programs/repo.js';
import type { Audience, Broadcast } from '../../domain/broadcasts/index.js';
import type { ParticipantRole } from '../../domain/participants/index.js';

export interface AutomaticOptions {
  /** Days before a lot expires to remind its owner. */
  expiryReminderDays: number;
  /** Campaign edges older than this are not announced (a fresh install does not announce history). */
  lookbackMs: number;
}

export const DEFAULT_AUTOMATIC: AutomaticOptions = { expiryReminderDays: 7, lookbackMs: 24 * 3600_000 };

/** Creates the announcements and reminders that are due; returns the ones created now. */
export async function createDueAutomatic(db: Db, options: Partial<AutomaticOptions> = {}): Promise<Broadcast[]> {
  const o = { ...DEFAULT_AUTOMATIC, ...options };
  const created: Broadcast[] = [];
  for (const edge of ['start', 'end'] as const) {
    for (const c of await campaignsRepo.campaignsAtEdge(db, edge, o.lookbackMs)) {
      const audience: Audience = {
        ...(c.audienceRoles.length ? { roles: c.audienceRoles as ParticipantRole[] } : {}),
        ...(c.stores.length ? { stores: c.stores } : {}),
        ...(c.regions.length ? { regions: c.regions } : {}),
      };
      const b = await repo.insert(db, {
        programId: c.programId,
        kind: edge === 'start' ? 'campaign_start' : 'campaign_end',
        sourceKey: `campaign:${c.id}:${edge}`,
        message: {
          template: {
            key: edge === 'start' ? 'broadcasts:auto.campaign_started' : 'broadcasts:auto.campaign_ended',
            // ends_at is exclusive (a campaign ending at midnight ends on the day before): the
            // last moment that still counts, shown as a day of the program's time zone.
            params: { name: c.name, names: c.names, endsAt: new Date(c.endsAt.getTime() - 1).toISOString(), timeZone: c.timeZone },
          },
        },
        audience,
      });
      if (b) created.push(b);
    }
  }
  for (const program of await programsRepo.listPrograms(db)) {
    const day = await programsRepo.localDayPlus(db, program.timeZone, o.expiryReminderDays);
    const b = await repo.insert(db, {
      programId: program.id,
      kind: 'expiry_reminder',
      sourceKey: `expiry:${program.id}:${day}`,
      message: { template: { key: 'broadcasts:auto.points_expiring' } },
      audience: { expiringOn: day },
    });
    if (b) created.push(b);
  }
  return created;
}
