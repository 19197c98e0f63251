/**
 * How many diagnostics of one file are shown: the first `perFile`, in order, then one that says
 * how many more there are. One mistake in a generated or damaged file can make thousands (a
 * line of stray characters), and their code frames would bury the first one.
 */
import { countSeverities, totalsText, type Diagnostic } from './diagnostic.js';
import { diagnostic } from './codes.js';

export const diagnosticsPerFile = 50;

/** The diagnostics to show, file by file in the order given: at most `perFile` each, then the count of the rest. */
export function limitPerFile(diagnostics: readonly Diagnostic[], perFile = diagnosticsPerFile): Diagnostic[] {
  const files = new Map<string, { shown: Diagnostic[]; hidden: Diagnostic[] }>();
  for (const d of diagnostics) {
    let f = files.get(d.span.file);
    if (!f) files.set(d.span.file, (f = { shown: [], hidden: [] }));
    (f.shown.length < perFile ? f.shown : f.hidden).push(d);
  }
  return [...files.values()].flatMap(({ shown, hidden }) => {
    const first = hidden[0];
    // One more is shown rather than a line that counts it (the parser's own stop, after its 50 syntax errors).
    if (!first || hidden.length === 1) return [...shown, ...hidden];
    const totals = countSeverities(hidden);
    const more = diagnostic(
      'more-diagnostics',
      first.span,
      { count: `${hidden.length.toLocaleString('en-US')} more diagnostics`, totals: totalsText(totals) },
      ['fix the ones above first: one mistake often causes many of the others'],
    );
    return [...shown, { ...more, severity: totals.error > 0 ? 'error' : totals.warning > 0 ? 'warning' : 'note' }];
  });
}
