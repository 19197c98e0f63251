/** Diagnostics rendered three ways: text with a code frame, JSON, GitHub Actions annotations. */
import type { Diagnostic } from './diagnostic.js';
import type { Span } from '../syntax/span.js';

export type OutputFormat = 'text' | 'json' | 'github';

interface Style {
  red(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const ansi = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const colour: Style = { red: ansi(31, 39), yellow: ansi(33, 39), blue: ansi(34, 39), bold: ansi(1, 22), dim: ansi(2, 22) };
const plain: Style = { red: (s) => s, yellow: (s) => s, blue: (s) => s, bold: (s) => s, dim: (s) => s };

/**
 * Tabs shift carets; show them as spaces so the caret lines up. Other control characters
 * (from a stray binary byte) would move or recolour the terminal: each shows as one U+FFFD.
 */
function expandTabs(s: string): string {
  return s.replace(/\t/g, '  ').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\ufffd');
}

/** A message quoting a control character shows it escaped, never raw. */
function printable(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function codeFrame(d: Diagnostic, lines: readonly string[] | undefined, style: Style): string[] {
  const line = lines?.[d.span.line - 1];
  if (line === undefined) return [];
  const gutter = String(d.span.line).length;
  const pad = ' '.repeat(gutter);
  const before = expandTabs(line.slice(0, d.span.column - 1));
  const width = d.span.endLine === d.span.line ? Math.max(1, d.span.endColumn - d.span.column) : Math.max(1, line.length - d.span.column + 1);
  const caretText = expandTabs(line.slice(d.span.column - 1, d.span.column - 1 + width)) || ' ';
  const mark = d.severity === 'error' ? style.red : style.yellow;
  return [
    `${pad} ${style.blue('|')}`,
    `${style.blue(String(d.span.line))} ${style.blue('|')} ${expandTabs(line.replace(/\r$/, ''))}`,
    `${pad} ${style.blue('|')} ${' '.repeat(before.length)}${mark('^'.repeat(Math.max(1, caretText.length)))}`,
  ];
}

export function renderText(diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string>, useColour: boolean): string {
  const style = useColour ? colour : plain;
  const out: string[] = [];
  // Each file split once, however many diagnostics it has.
  const lines = new Map<string, string[]>();
  const linesOf = (file: string) => {
    let l = lines.get(file);
    const text = sources.get(file);
    if (!l && text !== undefined) lines.set(file, (l = text.split('\n')));
    return l;
  };
  for (const d of diagnostics) {
    const label = d.severity === 'error' ? style.red(style.bold(`error[${d.code}]`)) : style.yellow(style.bold(`warning[${d.code}]`));
    out.push(`${label}${style.bold(`: ${printable(d.message)}`)}`);
    out.push(`  ${style.blue('-->')} ${d.span.file}:${d.span.line}:${d.span.column}`);
    out.push(...codeFrame(d, linesOf(d.span.file), style));
    for (const h of d.hints) out.push(`  ${style.blue('=')} ${style.bold('hint')}: ${printable(h)}`);
    for (const r of d.related ?? []) out.push(`  ${style.blue('=')} ${style.bold('note')}: ${printable(r.message)}: ${at(r.span)}`);
    out.push('');
  }
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  if (diagnostics.length > 0) out.push(`${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  return out.join('\n');
}

/** `file:line:column`, as editors and terminals link it. */
function at(span: Span): string {
  return `${span.file}:${span.line}:${span.column}`;
}

/** A span as JSON: file, 1-based start and end (the end column is one past the last character). */
function place(span: Span) {
  return { file: span.file, line: span.line, column: span.column, endLine: span.endLine, endColumn: span.endColumn };
}

export function renderJson(diagnostics: readonly Diagnostic[]): string {
  return JSON.stringify({
    diagnostics: diagnostics.map((d) => ({
      code: d.code,
      severity: d.severity,
      message: d.message,
      file: d.span.file,
      line: d.span.line,
      column: d.span.column,
      endLine: d.span.endLine,
      endColumn: d.span.endColumn,
      hints: d.hints,
      // Present only when there are some, so that the JSON of other diagnostics reads as before.
      ...(d.related ? { related: d.related.map((r) => ({ message: r.message, ...place(r.span) })) } : {}),
      ...(d.fixes ? { fixes: d.fixes.map((f) => ({ title: f.title, ...place(f.span), replacement: f.replacement })) } : {}),
    })),
  });
}

/** GitHub workflow commands: property values escape %, CR, LF, `:` and `,`; messages escape %, CR, LF. */
function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function renderGithub(diagnostics: readonly Diagnostic[]): string {
  return diagnostics
    .map((d) => {
      const level = d.severity === 'error' ? 'error' : 'warning';
      const props = `file=${escapeProperty(d.span.file)},line=${d.span.line},col=${d.span.column},endLine=${d.span.endLine},endColumn=${d.span.endColumn},title=${escapeProperty(d.code)}`;
      const message = [d.message, ...d.hints.map((h) => `hint: ${h}`), ...(d.related ?? []).map((r) => `note: ${r.message}: ${at(r.span)}`)].join('\n');
      return `::${level} ${props}::${escapeData(message)}`;
    })
    .join('\n');
}

export function renderDiagnostics(format: OutputFormat, diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string>, useColour: boolean): string {
  switch (format) {
    case 'json':
      return renderJson(diagnostics);
    case 'github':
      return renderGithub(diagnostics);
    case 'text':
      return renderText(diagnostics, sources, useColour);
  }
}
