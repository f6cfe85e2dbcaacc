import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * DESIGN §2: imports point one way, shared ← domain ← db ← services ← dialog ← channels/http/jobs
 * ← main, and nothing in domain, services or dialog imports a channel library, Fastify or BullMQ.
 * Type-only imports count too: they still tie a lower layer to a higher one's vocabulary.
 */

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * Rank per top-level module; a file may import only ranks at or below its own.
 * Not in DESIGN's chain, placed here: i18n (loads locale files, so not for the pure domain; db and up
 * may use it), config (read by the composition root and the channel starters), and `*-cli.ts`
 * entry points, which are composition roots like main.
 */
const RANK: Record<string, number> = {
  shared: 0,
  domain: 1,
  i18n: 1.5,
  db: 2,
  services: 3,
  dialog: 4,
  config: 4.5,
  channels: 5,
  http: 5,
  jobs: 5,
  main: 6,
};

const PLATFORM_LIBS = /^(grammy|@grammyjs\/|whatsapp-web\.js|fastify|@fastify\/|bullmq)/;
const NO_PLATFORM_LIBS = new Set(['domain', 'services', 'dialog']);

export function layerOf(relPath: string): string {
  const first = relPath.split('/')[0] ?? '';
  if (/-cli\.ts$/.test(relPath)) return 'main';
  return first.replace(/\.(ts|js)$/, '');
}

export interface Violation {
  file: string;
  imports: string;
  why: string;
}

/** Every import of a file, including `import type`, `export … from` and `import()`. */
function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

export function checkFile(relPath: string, source: string): Violation[] {
  const layer = layerOf(relPath);
  const out: Violation[] = [];
  if (RANK[layer] === undefined) return [{ file: relPath, imports: '', why: `unknown layer "${layer}": add it to RANK` }];
  for (const spec of importsOf(source)) {
    if (spec.startsWith('.')) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(relPath), spec));
      if (target.startsWith('..')) continue; // outside src (locales, package.json)
      const targetLayer = layerOf(target);
      const rank = RANK[targetLayer];
      if (rank === undefined) out.push({ file: relPath, imports: spec, why: `unknown layer "${targetLayer}"` });
      else if (rank > RANK[layer]) out.push({ file: relPath, imports: spec, why: `${layer} must not import ${targetLayer}` });
    } else if (NO_PLATFORM_LIBS.has(layer) && PLATFORM_LIBS.test(spec)) {
      out.push({ file: relPath, imports: spec, why: `${layer} must not import a channel library, Fastify or BullMQ` });
    }
  }
  return out;
}

function sourceFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full, base);
    return /\.(ts|tsx|mts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path.relative(base, full).split(path.sep).join('/')] : [];
  });
}

describe('import direction', () => {
  it('src/ imports only downwards and keeps platform libraries out of domain, services and dialog', () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(20);
    const violations = files.flatMap((f) => checkFile(f, readFileSync(path.join(SRC, f), 'utf8')));
    expect(violations.map((v) => `${v.file} → ${v.imports}: ${v.why}`)).toEqual([]);
  });

  it('catches the shapes a violation takes', () => {
    const bad = (file: string, src: string) => checkFile(file, src).map((v) => v.why);
    expect(bad('domain/broadcasts/index.ts', "import type { Outbound } from '../../dialog/types.js';")).toEqual([
      'domain must not import dialog',
    ]);
    expect(bad('domain/campaigns/campaign.ts', "import type { Locale } from '../../config.js';")).toEqual([
      'domain must not import config',
    ]);
    expect(bad('db/x/repo.ts', "export type { ChannelId } from '../../dialog/types.js';")).toHaveLength(1);
    expect(bad('services/x.ts', "const m = await import('../channels/telegram/bot.js');")).toHaveLength(1);
    expect(bad('dialog/engine.ts', "import { Bot } from 'grammy';")).toHaveLength(1);
    expect(bad('services/a.ts', "import type { Job } from 'bullmq';")).toHaveLength(1);
    expect(bad('domain/a.ts', "import { i18n } from '../i18n/index.js';")).toHaveLength(1);
    // Allowed: downwards, same layer, libraries in channels.
    expect(bad('services/a.ts', "import { x } from '../db/sql.js';\nimport { y } from './b.js';")).toEqual([]);
    expect(bad('channels/telegram/bot.ts', "import { Bot } from 'grammy';")).toEqual([]);
    expect(bad('db/migrate-cli.ts', "import { loadConfig } from '../config.js';")).toEqual([]);
  });
});
