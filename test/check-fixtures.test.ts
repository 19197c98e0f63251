/**
 * Golden diagnostics of every invalid input under test/fixtures/invalid (a `.sync` file, or a
 * folder of them read as one project), as every output format shows them (at most 50 a file,
 * then their count), and silence on every input under test/fixtures/valid.
 * Each golden lists code, severity, position, message and hints, plus `at`: the exact text the
 * span covers, so a review of the golden shows what each diagnostic points at.
 * Update the goldens with `npx vitest run test/check-fixtures.test.ts -u` and review the diff.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProject, type SourceText } from '../src/check/check.js';
import { dbtProjectsFrom } from '../src/dbt/load.js';
import { codes } from '../src/diagnostics/codes.js';
import { limitPerFile } from '../src/diagnostics/limit.js';
import type { Diagnostic, Fix } from '../src/diagnostics/diagnostic.js';
import type { Span } from '../src/span.js';

const root = join(import.meta.dirname, 'fixtures');

/** A fixture's files, named relative to its folder (`007-x.sync`, or `012-y/a.sync`). */
function load(kind: 'valid' | 'invalid', entry: string): SourceText[] {
  const full = join(root, kind, entry);
  if (!statSync(full).isDirectory()) return [{ path: entry, text: readFileSync(full, 'utf8') }];
  return readdirSync(full)
    .filter((f) => f.endsWith('.sync'))
    .sort()
    .map((f) => ({ path: `${entry}/${f}`, text: readFileSync(join(full, f), 'utf8') }));
}

function entries(kind: 'valid' | 'invalid'): string[] {
  return readdirSync(join(root, kind))
    .filter((e) => e.endsWith('.sync') || statSync(join(root, kind, e)).isDirectory())
    .sort();
}

/** Line and column (1-based) of an offset, counted independently of the parser. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

/** Where a span is, and the text it covers. */
function place(span: Span, files: SourceText[]) {
  const text = files.find((f) => f.path === span.file)?.text ?? '';
  return {
    ...(files.length > 1 ? { file: span.file } : {}),
    line: span.line,
    column: span.column,
    endLine: span.endLine,
    endColumn: span.endColumn,
    at: text.slice(span.offset, span.endOffset),
  };
}

function golden(d: Diagnostic, files: SourceText[]) {
  return {
    code: d.code,
    severity: d.severity,
    ...place(d.span, files),
    message: d.message,
    hints: d.hints,
    ...(d.related ? { related: d.related.map((r) => ({ ...place(r.span, files), message: r.message })) } : {}),
    ...(d.fixes ? { fixes: d.fixes.map((f) => ({ ...place(f.span, files), title: f.title, replacement: f.replacement })) } : {}),
  };
}

/** The files with one fix applied. */
function applyFix(files: SourceText[], fix: Fix): SourceText[] {
  return files.map((f) =>
    f.path === fix.span.file ? { ...f, text: f.text.slice(0, fix.span.offset) + fix.replacement + f.text.slice(fix.span.endOffset) } : f,
  );
}

// A fixture's dbt project lies beside its .sync files, as a project's does.
const withDbt = (kind: 'valid' | 'invalid') => ({ dbtProjects: dbtProjectsFrom((name) => join(root, kind, name)) });

const invalid = entries('invalid').map((entry) => {
  const files = load('invalid', entry);
  const result = checkProject(files, withDbt('invalid'));
  return { entry, name: entry.replace(/\.sync$/, ''), files, result: { ...result, diagnostics: limitPerFile(result.diagnostics) } };
});

describe('invalid inputs', () => {
  it('are at least 40, numbered uniquely', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(40);
    const numbers = invalid.map((f) => f.name.slice(0, 3));
    expect(numbers.every((n) => /^\d{3}$/.test(n))).toBe(true);
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it.each(invalid.map((f) => [f.name, f] as const))('%s', async (name, { files, result }) => {
    expect(result.diagnostics.length).toBeGreaterThan(0);
    const hasError = result.diagnostics.some((d) => d.severity === 'error');
    expect(result.ok).toBe(!hasError);
    for (const d of result.diagnostics) {
      for (const span of [d.span, ...(d.related ?? []).map((r) => r.span), ...(d.fixes ?? []).map((f) => f.span)]) {
        const file = files.find((f) => f.path === span.file);
        expect(file, `diagnostic in an unknown file ${span.file}`).toBeDefined();
        const text = file!.text;
        // The span lies inside the file, and its lines and columns agree with its offsets.
        expect(0 <= span.offset && span.offset <= span.endOffset && span.endOffset <= text.length).toBe(true);
        expect(position(text, span.offset)).toEqual({ line: span.line, column: span.column });
        expect(position(text, span.endOffset)).toEqual({ line: span.endLine, column: span.endColumn });
      }
      for (const words of [d.message, ...d.hints, ...(d.related ?? []).map((r) => r.message), ...(d.fixes ?? []).map((f) => f.title)]) {
        expect(words.length > 0 && !/undefined|\[object/.test(words), words).toBe(true);
      }
    }
    const json = `${JSON.stringify(
      result.diagnostics.map((d) => golden(d, files)),
      null,
      2,
    )}\n`;
    await expect(json).toMatchFileSnapshot(join('golden', 'check', `${name}.json`));
  });

  // A fix is one edit that resolves its diagnostic: once applied, one fewer diagnostic says the same thing.
  const fixed = invalid.flatMap(({ name, files, result }) =>
    result.diagnostics.flatMap((d) =>
      (d.fixes ?? []).map((fix) => [`${name}: ${d.code} at ${d.span.line}:${d.span.column}, ${fix.title}`, files, d, fix] as const),
    ),
  );
  it('have fixes to apply', () => {
    expect(fixed.length).toBeGreaterThan(20);
  });
  it.each(fixed)('%s resolves it', (_, files, d, fix) => {
    const same = (ds: Diagnostic[]) => ds.filter((x) => x.code === d.code && x.message === d.message).length;
    const before = same(checkProject(files, withDbt('invalid')).diagnostics);
    expect(same(checkProject(applyFix(files, fix), withDbt('invalid')).diagnostics)).toBe(before - 1);
  });

  it('produce every diagnostic code of the table', () => {
    const produced = new Set(invalid.flatMap((f) => f.result.diagnostics.map((d) => d.code)));
    const missing = Object.entries(codes)
      .filter(([, spec]) => !produced.has(spec.code))
      .map(([name, spec]) => `${spec.code} ${name}`);
    expect(missing).toEqual([]);
  });

  it('use only codes of the table', () => {
    const known = new Set<string>(Object.values(codes).map((c) => c.code));
    const unknown = invalid.flatMap((f) => f.result.diagnostics.map((d) => d.code)).filter((c) => !known.has(c));
    expect(unknown).toEqual([]);
  });
});

describe('the code table', () => {
  it('has unique codes of the form SWnnnn and kebab-case names', () => {
    const all = Object.entries(codes);
    expect(new Set(all.map(([, c]) => c.code)).size).toBe(all.length);
    for (const [name, spec] of all) {
      expect(spec.code).toMatch(/^SW0\d{3}$/);
      expect(name).toMatch(/^[a-z]+(-[a-z]+)*$/);
    }
  });
});

describe('valid inputs', () => {
  const valid = entries('valid');
  it('exist', () => {
    expect(valid.length).toBeGreaterThan(0);
  });
  it.each(valid.map((v) => [v]))('%s checks clean', (entry) => {
    const result = checkProject(load('valid', entry), withDbt('valid'));
    expect(result.diagnostics.map((d) => `${d.span.file}:${d.span.line}:${d.span.column} ${d.code} ${d.message}`)).toEqual([]);
    expect(result.project?.syncs.length).toBeGreaterThan(0);
  });
});
