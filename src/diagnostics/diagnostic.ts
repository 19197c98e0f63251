/** The one diagnostic shape of the project: every stage reports through it. */
import type { Span } from '../span.js';

/** A note informs and never fails a build, not even under --strict. */
export type Severity = 'error' | 'warning' | 'note';

/** Another place the diagnostic is about: the first definition of a name defined twice, the `{` left open. */
export interface Related {
  span: Span;
  message: string;
}

/**
 * A text edit that resolves the diagnostic, for an editor's quick fix: `span` is replaced by
 * `replacement` (an empty span inserts, an empty replacement deletes). Given only where the
 * edit is the one obvious one.
 */
export interface Fix {
  title: string;
  span: Span;
  replacement: string;
}

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  span: Span;
  hints: string[];
  related?: Related[];
  fixes?: Fix[];
}

/** What a report carries besides its message: hints, and where known the related places and the fixes. */
export interface Advice {
  hints: string[];
  related?: Related[];
  fixes?: Fix[];
}

/** Replace `span` by `text`. */
export function replaceWith(span: Span, text: string): Fix {
  return { title: `write \`${text.trim()}\``, span, replacement: text };
}

/** Delete `span`, which holds `what`. */
export function remove(span: Span, what: string): Fix {
  return { title: `remove \`${what}\``, span, replacement: '' };
}

/** Insert `text` at the start of `span`. */
export function insertBefore(span: Span, text: string): Fix {
  return { title: `insert \`${text.trim()}\``, span: { ...span, endLine: span.line, endColumn: span.column, endOffset: span.offset }, replacement: text };
}

/** Insert `text` at the end of `span`. */
export function insertAfter(span: Span, text: string): Fix {
  return { title: `insert \`${text.trim()}\``, span: { ...span, line: span.endLine, column: span.endColumn, offset: span.endOffset }, replacement: text };
}

/** How many diagnostics there are of each severity. */
export type Totals = Record<Severity, number>;

export function countSeverities(diagnostics: readonly Diagnostic[]): Totals {
  const totals: Totals = { error: 0, warning: 0, note: 0 };
  for (const d of diagnostics) totals[d.severity]++;
  return totals;
}

const plural = (n: number, word: string): string => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** `2 errors, 1 warning`, and the notes where there are some. */
export function totalsText({ error, warning, note }: Totals): string {
  return [plural(error, 'error'), plural(warning, 'warning'), ...(note ? [plural(note, 'note')] : [])].join(', ');
}

const severities: readonly string[] = ['error', 'warning', 'note'];
const isSpan = (s: unknown): s is Span => {
  const v = s as Partial<Span> | null;
  return typeof v?.file === 'string' && [v.line, v.column, v.offset, v.endLine, v.endColumn, v.endOffset].every((n) => typeof n === 'number');
};

/** Whether a value read back from disk (a compile's record) has the shape of a diagnostic, as every printer reads one. */
export function isDiagnostic(value: unknown): value is Diagnostic {
  const d = value as Partial<Diagnostic> | null;
  return (
    typeof d?.code === 'string' &&
    typeof d.message === 'string' &&
    severities.includes(d.severity as string) &&
    isSpan(d.span) &&
    Array.isArray(d.hints) &&
    d.hints.every((h) => typeof h === 'string') &&
    (d.related === undefined || (Array.isArray(d.related) && d.related.every((r) => typeof r?.message === 'string' && isSpan(r.span)))) &&
    (d.fixes === undefined ||
      (Array.isArray(d.fixes) && d.fixes.every((f) => typeof f?.title === 'string' && typeof f.replacement === 'string' && isSpan(f.span))))
  );
}
