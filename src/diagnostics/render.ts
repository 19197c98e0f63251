/** Diagnostics rendered three ways: text with a code frame, JSON, GitHub Actions annotations. */
import { countSeverities, totalsText, type Diagnostic, type Severity, type Totals } from './diagnostic.js';
import { limitPerFile } from './limit.js';
import { jsonText, printableLine, replaceControls } from '../printable.js';
import type { Span } from '../span.js';

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
 * (from a stray binary byte) would move or recolour the terminal, and bidirectional ones
 * reorder the line: each shows as one U+FFFD.
 */
function expandTabs(s: string): string {
  return replaceControls(s.replace(/\t/g, '  '), '\ufffd');
}

/** The columns of a long line shown around its caret; the rest is left out, marked with `…`. */
const frameWidth = 100;
/** Where the window starts, before the caret, on a long line. */
const frameLead = 30;

function codeFrame(d: Diagnostic, lines: readonly string[] | undefined, style: Style): string[] {
  const full = lines?.[d.span.line - 1]?.replace(/\r$/, '');
  if (full === undefined) return [];
  const gutter = String(d.span.line).length;
  const pad = ' '.repeat(gutter);
  const column = Math.min(d.span.column - 1, full.length);
  const width = d.span.endLine === d.span.line ? Math.max(1, d.span.endColumn - d.span.column) : Math.max(1, full.length - column);
  // A long line (generated, or minified) shows a window around the caret, never the whole line.
  const start = full.length > frameWidth ? Math.max(0, Math.min(column - frameLead, full.length - frameWidth)) : 0;
  const end = Math.min(full.length, start + frameWidth);
  const [open, close] = [start > 0 ? '…' : '', end < full.length ? '…' : ''];
  const before = open + expandTabs(full.slice(start, column));
  const caretText = expandTabs(full.slice(column, Math.min(column + width, end))) || ' ';
  const mark = marks[d.severity](style);
  return [
    `${pad} ${style.blue('|')}`,
    `${style.blue(String(d.span.line))} ${style.blue('|')} ${open}${expandTabs(full.slice(start, end))}${close}`,
    `${pad} ${style.blue('|')} ${' '.repeat(before.length)}${mark('^'.repeat(Math.max(1, caretText.length)))}`,
  ];
}

/** Each severity's colour. */
const marks: Record<Severity, (style: Style) => (s: string) => string> = { error: (s) => s.red, warning: (s) => s.yellow, note: (s) => s.blue };

export function renderText(diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string>, useColour: boolean, totals?: Totals): string {
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
    const label = marks[d.severity](style)(style.bold(`${d.severity}[${d.code}]`));
    // One line each: a message quotes names and strings of the file, which may hold line breaks.
    out.push(`${label}${style.bold(`: ${printableLine(d.message)}`)}`);
    out.push(`  ${style.blue('-->')} ${at(d.span)}`);
    out.push(...codeFrame(d, linesOf(d.span.file), style));
    for (const h of d.hints) out.push(`  ${style.blue('=')} ${style.bold('hint')}: ${printableLine(h)}`);
    for (const r of d.related ?? []) out.push(`  ${style.blue('=')} ${style.bold('note')}: ${printableLine(r.message)}: ${at(r.span)}`);
    out.push('');
  }
  if (diagnostics.length > 0) out.push(totalsText(totals ?? countSeverities(diagnostics)));
  return out.join('\n');
}

/** `file:line:column`, as editors and terminals link it; the file's name is data (a `.sync` file may be named with an escape sequence). */
function at(span: Span): string {
  return `${printableLine(span.file)}:${span.line}:${span.column}`;
}

/** A span as JSON: file, 1-based start and end (the end column is one past the last character). */
function place(span: Span) {
  return { file: span.file, line: span.line, column: span.column, endLine: span.endLine, endColumn: span.endColumn };
}

/** Diagnostics as JSON, with DEL, C1 and bidirectional controls escaped (`jsonText`): it is read by programs, and shown with `cat`. */
export function renderJson(diagnostics: readonly Diagnostic[]): string {
  return jsonText(
    JSON.stringify({
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
    }),
  );
}

/** GitHub workflow commands: property values escape %, CR, LF, `:` and `,`; messages escape %, CR, LF. */
function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** GitHub's annotation levels. */
const githubLevels: Record<Severity, string> = { error: 'error', warning: 'warning', note: 'notice' };

export function renderGithub(diagnostics: readonly Diagnostic[]): string {
  return diagnostics
    .map((d) => {
      const level = githubLevels[d.severity];
      const props = `file=${escapeProperty(printableLine(d.span.file))},line=${d.span.line},col=${d.span.column},endLine=${d.span.endLine},endColumn=${d.span.endColumn},title=${escapeProperty(d.code)}`;
      // The log shows the annotation's text as a terminal would: escapes in it are data, and a line break only separates its parts.
      const message = [d.message, ...d.hints.map((h) => `hint: ${h}`), ...(d.related ?? []).map((r) => `note: ${r.message}: ${at(r.span)}`)]
        .map(printableLine)
        .join('\n');
      return `::${level} ${props}::${escapeData(message)}`;
    })
    .join('\n');
}

/** Every format shows at most diagnosticsPerFile of a file's diagnostics and counts the rest; text counts them all at the end. */
export function renderDiagnostics(format: OutputFormat, diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string>, useColour: boolean): string {
  const shown = limitPerFile(diagnostics);
  switch (format) {
    case 'json':
      return renderJson(shown);
    case 'github':
      return renderGithub(shown);
    case 'text':
      return renderText(shown, sources, useColour, countSeverities(diagnostics));
  }
}
