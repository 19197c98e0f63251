/**
 * Quick fixes and formatting. A diagnostic's fixes (did you mean, a missing setting, `&&` for
 * `and`, a stray `,`) become quick fixes; "fix all" applies every fix that is the only one of
 * its diagnostic; formatting is `syncwright fmt`'s layout, offered as a whole-file edit.
 */
import { CodeActionKind, type CodeAction, type Range, type TextEdit } from 'vscode-languageserver/node';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { format } from '../index.js';
import { toLspDiagnostic, toRange, type UriOf } from './convert.js';

/** `fixAll` kind of this server, so that an editor's "fix all on save" can name it alone. */
export const fixAllKind = `${CodeActionKind.SourceFixAll}.syncwright`;
export const formatKind = `${CodeActionKind.Source}.format.syncwright`;

const overlaps = (d: Diagnostic, range: Range) => {
  const r = toRange(d.span);
  const before = (a: { line: number; character: number }, b: { line: number; character: number }) =>
    a.line < b.line || (a.line === b.line && a.character < b.character);
  return !before(r.end, range.start) && !before(range.end, r.start);
};

function editsOf(fix: NonNullable<Diagnostic['fixes']>[number], uriOf: UriOf): Record<string, TextEdit[]> {
  return { [uriOf(fix.span.file)]: [{ range: toRange(fix.span), newText: fix.replacement }] };
}

/** The actions for a range of a file: its diagnostics' fixes, fix all, and formatting when it would change the file. */
export function codeActions(
  diagnostics: readonly Diagnostic[],
  range: Range,
  only: readonly string[] | undefined,
  file: string,
  text: string,
  uriOf: UriOf,
): CodeAction[] {
  const wants = (kind: string) => !only || only.some((o) => kind === o || kind.startsWith(`${o}.`));
  const actions: CodeAction[] = [];
  if (wants(CodeActionKind.QuickFix)) {
    for (const d of diagnostics) {
      if (!d.fixes?.length || !overlaps(d, range)) continue;
      for (const fix of d.fixes) {
        actions.push({
          title: fix.title,
          kind: CodeActionKind.QuickFix,
          diagnostics: [toLspDiagnostic(d, uriOf)],
          isPreferred: d.fixes.length === 1,
          edit: { changes: editsOf(fix, uriOf) },
        });
      }
    }
  }
  if (wants(fixAllKind)) {
    const all = fixAll(diagnostics);
    if (all.length > 0) {
      const changes: Record<string, TextEdit[]> = {};
      for (const { span, replacement } of all) (changes[uriOf(span.file)] ??= []).push({ range: toRange(span), newText: replacement });
      actions.push({ title: `Apply ${all.length} fix${all.length === 1 ? '' : 'es'} (syncwright)`, kind: fixAllKind, edit: { changes } });
    }
  }
  if (wants(formatKind)) {
    const edit = formatEdit(file, text);
    if (edit) actions.push({ title: 'Format the file (syncwright fmt)', kind: formatKind, edit: { changes: { [uriOf(file)]: [edit] } } });
  }
  return actions;
}

/** The fixes that are the only one of their diagnostic, without two that touch the same text. */
function fixAll(diagnostics: readonly Diagnostic[]): NonNullable<Diagnostic['fixes']> {
  const chosen: NonNullable<Diagnostic['fixes']> = [];
  for (const d of diagnostics) {
    const fix = d.fixes?.length === 1 ? d.fixes[0]! : undefined;
    if (!fix) continue;
    const clash = chosen.some((c) => c.span.file === fix.span.file && c.span.offset <= fix.span.endOffset && fix.span.offset <= c.span.endOffset);
    if (!clash) chosen.push(fix);
  }
  return chosen;
}

/** `syncwright fmt` of one file as one edit; undefined when it has syntax errors or is formatted already. */
export function formatEdit(file: string, text: string): TextEdit | undefined {
  const formatted = format({ path: file, text }).text;
  if (formatted === undefined || formatted === text) return undefined;
  const lines = text.split('\n');
  return { range: { start: { line: 0, character: 0 }, end: { line: lines.length - 1, character: lines[lines.length - 1]!.length } }, newText: formatted };
}
