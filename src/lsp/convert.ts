/**
 * The project's spans and diagnostics in the protocol's terms. A span's lines and columns are
 * 1-based and count UTF-16 code units, as JavaScript strings do; the protocol's are 0-based
 * and, by default, UTF-16 too: a column converts by subtracting one.
 */
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic, type Location, type Range } from 'vscode-languageserver/node';
import type { Diagnostic, Severity } from '../diagnostics/diagnostic.js';
import type { Span } from '../span.js';

export function toRange(span: Span): Range {
  return { start: { line: span.line - 1, character: span.column - 1 }, end: { line: span.endLine - 1, character: span.endColumn - 1 } };
}

/** The URI of a project file, by its path in the project. */
export type UriOf = (path: string) => string;

export function toLocation(span: Span, uriOf: UriOf): Location {
  return { uri: uriOf(span.file), range: toRange(span) };
}

const lspSeverity: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  note: DiagnosticSeverity.Information,
};

/** One diagnostic as the editor shows it: the hints below the message, as `check` prints them; the related places linked. */
export function toLspDiagnostic(d: Diagnostic, uriOf: UriOf): LspDiagnostic {
  const out: LspDiagnostic = {
    range: toRange(d.span),
    severity: lspSeverity[d.severity],
    code: d.code,
    source: 'syncwright',
    message: [d.message, ...d.hints.map((h) => `hint: ${h}`)].join('\n'),
  };
  if (d.related?.length) out.relatedInformation = d.related.map((r) => ({ location: toLocation(r.span, uriOf), message: r.message }));
  return out;
}
