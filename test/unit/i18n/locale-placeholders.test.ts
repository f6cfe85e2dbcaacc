/**
 * Every text a participant reads gets every value it shows: a static scan of src/ for translation
 * calls `t('ns:key', { … })` (and ledger reasons `{ key: 'ns:key', params: { … } }`, rendered later
 * by the history) against the placeholders of that key in pl, pt and be. A missing value prints as
 * an empty gap ("+ w akcji") or the raw key, which no unit test of a single flow notices.
 *
 * Keys built from templates (`sales:${r.status}`) are expanded with the type checker: a substitution
 * typed as a union of string literals (narrowed where it stands) gives exactly the keys it can name;
 * `a ? 'x:y' : 'x:z'` gives both. A key or values the scan cannot know (a plain `string`, a variable
 * or a spread) skip the call; the count of checked calls guards against the scan going blind.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { flatten } from '../../helpers/locale-keys.js';
import { loadResources, LOCALES } from '../../../src/i18n/index.js';

const SRC = path.resolve(import.meta.dirname, '../../../src');
const SUFFIX = /_(zero|one|two|few|many|other)$/;
const KEY = /^([a-z][\w-]*):([\w.]+)$/;

/**
 * Found in namespaces other engineers own, reported to them; each entry must still fail (a fixed
 * one is removed from here), so the list cannot hide a new problem.
 */
const KNOWN_ELSEWHERE: string[] = [];


/** Base key (plural suffix dropped) → the placeholder roots its texts use in any language. */
function placeholdersByKey(): Map<string, Set<string>> {
  const resources = loadResources();
  const out = new Map<string, Set<string>>();
  for (const l of LOCALES) {
    for (const [ns, tree] of Object.entries(resources[l])) {
      for (const [k, text] of Object.entries(flatten(tree as Record<string, unknown>))) {
        const base = `${ns}:${k.replace(SUFFIX, '')}`;
        const set = out.get(base) ?? new Set<string>();
        // {{name}}, {{n, points}}, {{name.pl}}: the value the caller passes is the root name
        for (const m of text.matchAll(/{{\s*([^},\s]+)/g)) set.add(m[1]!.split('.')[0]!);
        out.set(base, set);
      }
    }
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** The string literal values an expression's type allows; undefined when it is any string. */
function literalValues(checker: ts.TypeChecker, node: ts.Expression): string[] | undefined {
  const type = checker.getTypeAtLocation(node);
  const parts = type.isUnion() ? type.types : [type];
  const out: string[] = [];
  for (const p of parts) {
    if (p.isStringLiteral()) out.push(p.value);
    else if (!(p.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null))) return undefined;
  }
  return out;
}

/** The keys an expression can name: a literal, a template over literal unions, or either branch of `?:`. */
function keysOf(node: ts.Expression, checker: ts.TypeChecker): string[] | undefined {
  if (ts.isParenthesizedExpression(node)) return keysOf(node.expression, checker);
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
    const key = node.text.replace(SUFFIX, '');
    return KEY.test(key) ? [key] : undefined;
  }
  if (ts.isTemplateExpression(node)) {
    if (!/^[a-z][\w-]*:/.test(node.head.text)) return undefined;
    let keys = [node.head.text];
    for (const span of node.templateSpans) {
      const values = literalValues(checker, span.expression);
      if (!values) return undefined;
      keys = keys.flatMap((k) => values.map((v) => `${k}${v}${span.literal.text}`));
    }
    return keys.every((k) => KEY.test(k)) ? keys : undefined;
  }
  if (ts.isConditionalExpression(node)) {
    const a = keysOf(node.whenTrue, checker);
    const b = keysOf(node.whenFalse, checker);
    return a && b ? [...a, ...b] : undefined;
  }
  return undefined;
}

/** Names an object literal supplies; undefined when it spreads something the scan cannot see. */
function suppliedBy(obj: ts.ObjectLiteralExpression): Set<string> | undefined {
  const names = new Set<string>();
  for (const p of obj.properties) {
    if (ts.isSpreadAssignment(p)) return undefined;
    const name = p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined;
    if (name) names.add(name);
  }
  return names;
}

interface Use {
  where: string;
  keys: string[];
  supplied: Set<string>;
  /** The key as written, when it can be checked for existence (`t` shows a missing key raw). */
  literal?: string;
}

let program: ts.Program | undefined;
/** One type-checked program over src/ (the checker narrows template substitutions). */
function srcProgram(): ts.Program {
  program ??= ts.createProgram(sourceFiles(SRC), {
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  });
  return program;
}

function collectUses(): Use[] {
  const namespaces = new Set([...placeholdersByKey().keys()].map((k) => k.split(':')[0]));
  const uses: Use[] = [];
  const prog = srcProgram();
  const checker = prog.getTypeChecker();
  for (const file of sourceFiles(SRC)) {
    const source = prog.getSourceFile(file)!;
    const where = (n: ts.Node) => `${path.relative(SRC, file)}:${source.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && node.arguments.length >= 1) {
        const keys = keysOf(node.arguments[0]!, checker);
        const ns = keys?.[0]?.split(':')[0];
        if (keys?.length && ns && namespaces.has(ns)) {
          const second = node.arguments[1];
          const supplied = second === undefined ? new Set<string>() : ts.isObjectLiteralExpression(second) ? suppliedBy(second) : undefined;
          const first = node.arguments[0]!;
          const literal = ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first) ? first.text : keys.length === 1 ? keys[0] : undefined;
          if (supplied) uses.push({ where: where(node), keys, supplied, literal });
        }
      }
      // Ledger reasons: { key: 'ns:key', params: { … } } (or any `reason: { key }`), translated when
      // the history is shown.
      if (ts.isObjectLiteralExpression(node)) {
        const prop = (name: string) =>
          node.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === name);
        const isReason = (ts.isPropertyAssignment(node.parent) && node.parent.name.getText() === 'reason') || prop('params') !== undefined;
        const key = isReason ? prop('key') : undefined;
        const keys = key && ts.isStringLiteral(key.initializer) ? keysOf(key.initializer, checker) : undefined;
        const ns = keys?.[0]?.split(':')[0];
        if (keys?.length && ns && namespaces.has(ns)) {
          const params = prop('params');
          const supplied = !params ? new Set<string>() : ts.isObjectLiteralExpression(params.initializer) ? suppliedBy(params.initializer) : undefined;
          if (supplied) uses.push({ where: where(node), keys, supplied, literal: (key!.initializer as ts.StringLiteral).text });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return uses;
}

function problems(): string[] {
  const placeholders = placeholdersByKey();
  const out: string[] = [];
  for (const use of collectUses()) {
    if (use.literal && !placeholders.has(use.literal.replace(SUFFIX, ''))) {
      out.push(`${use.where} ${use.literal}: no such key`);
      continue;
    }
    for (const key of use.keys) {
      const missing = [...(placeholders.get(key) ?? [])].filter((p) => !use.supplied.has(p)).sort();
      if (missing.length) out.push(`${use.where} ${key}: missing ${missing.map((m) => `{{${m}}}`).join(', ')}`);
    }
  }
  return out;
}

describe('translation placeholders', () => {
  it('scans enough of src/ to mean something', { timeout: 60_000 }, () => {
    const uses = collectUses();
    expect(uses.length).toBeGreaterThan(150);
    // the scan sees template keys and ledger reasons, not only literal calls
    expect(uses.some((u) => u.keys.includes('rewards:notice.physical.shipped'))).toBe(true);
    expect(uses.some((u) => u.keys.includes('rewards:ledger.order'))).toBe(true);
  });

  it('every call supplies each placeholder its text shows, in every language', () => {
    const found = problems();
    const stripLine = (p: string) => p.replace(/:\d+ /, ' ');
    const known = new Set(KNOWN_ELSEWHERE);
    expect(found.filter((p) => !known.has(stripLine(p)))).toEqual([]);
    expect(KNOWN_ELSEWHERE.filter((k) => !found.some((p) => stripLine(p) === k)), 'fixed: remove from KNOWN_ELSEWHERE').toEqual([]);
  });
});
