import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * DESIGN §2: imports point one way, shared ← domain ← db ← services ← dialog ← channels ← jobs/http
 * ← main (channels never import jobs: the WhatsApp out-queue is a job), nothing in domain, services
 * or dialog imports a channel library, Fastify or BullMQ, and no files import each other in a circle.
 * Type-only imports count too: they still tie a lower layer to a higher one's vocabulary.
 */

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * Rank per top-level module; a file may import only ranks at or below its own.
 * Not in DESIGN's chain, placed here: i18n (loads locale files, so not for the pure domain; db and up
 * may use it), config (read by the composition root and the channel starters), features (the
 * composition root's parts, one per area) and `*-cli.ts` entry points, composition roots like main.
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
  http: 6,
  jobs: 6,
  features: 6.5,
  main: 7,
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

/** The src-relative file a relative import names (`./x.js` is the source file `x.ts`). */
function resolveImport(fromRel: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(fromRel), spec));
  return target.startsWith('..') ? undefined : target.replace(/\.js$/, '.ts');
}

/**
 * The import circles among `files` (src-relative path → source), each as its files sorted. Tarjan's strongly connected components: a component of
 * more than one file (or a file importing itself) is a circle.
 */
export function circlesOf(files: Record<string, string>): string[][] {
  const edges = new Map<string, string[]>();
  for (const [file, source] of Object.entries(files)) {
    const targets = importsOf(source)
      .map((spec) => resolveImport(file, spec))
      .filter((t): t is string => t !== undefined && t in files);
    edges.set(file, [...new Set(targets)]);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || edges.get(v)!.includes(v)) circles.push(component.sort());
  };
  for (const file of Object.keys(files).sort()) if (!index.has(file)) visit(file);
  return circles.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
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

  it('src/ has no import circle (type-only imports included)', () => {
    const files = Object.fromEntries(sourceFiles(SRC).map((f) => [f, readFileSync(path.join(SRC, f), 'utf8')]));
    expect(circlesOf(files)).toEqual([]);
  });

  it('src/ has no import circle (type-only imports included)', () => {
    const files = Object.fromEntries(sourceFiles(SRC).map((f) => [f, readFileSync(path.join(SRC, f), 'utf8')]));
    expect(circlesOf(files)).toEqual([]);
  });

  it('finds a circle of any length, and only circles', () => {
    expect(
      circlesOf({
        'services/a/index.ts': "export { make } from './make.js';",
        'services/a/make.ts': "import type { A } from './index.js';",
        'db/x.ts': "import { y } from './y.js';",
        'db/y.ts': "import { z } from './z.js';",
        'db/z.ts': "import type { X } from './x.js';",
        'shared/self.ts': "import { me } from './self.js';",
        'dialog/top.ts': "import { a } from '../services/a/index.js';\nimport { x } from '../db/x.js';",
      }),
    ).toEqual([['db/x.ts', 'db/y.ts', 'db/z.ts'], ['services/a/index.ts', 'services/a/make.ts'], ['shared/self.ts']]);
    expect(circlesOf({ 'a.ts': "import { b } from './b.js';", 'b.ts': "import { c } from 'postgres';" })).toEqual([]);
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
    expect(bad('channels/whatsapp/index.ts', "import { QUEUES } from '../../jobs/contracts.js';")).toEqual([
      'channels must not import jobs',
    ]);
    expect(bad('channels/web/adapter.ts', "import type { RouteModule } from '../../http/server.js';")).toEqual([
      'channels must not import http',
    ]);
    // Allowed: downwards, same layer, libraries in channels.
    expect(bad('services/a.ts', "import { x } from '../db/sql.js';\nimport { y } from './b.js';")).toEqual([]);
    expect(bad('channels/telegram/bot.ts', "import { Bot } from 'grammy';")).toEqual([]);
    expect(bad('jobs/outbox/sender.ts', "import type { ChannelRegistry } from '../../channels/channel.js';")).toEqual([]);
    expect(bad('db/migrate-cli.ts', "import { loadConfig } from '../config.js';")).toEqual([]);
  });
});
