/**
 * Quick fixes and formatting. A diagnostic's fixes (did you mean, a missing setting, `&&` for
 * `and`, a stray `,`) become quick fixes; "fix all" applies every fix that is the only one of
 * its diagnostic; formatting is `syncwright fmt`'s layout, offered as a whole-file edit. A fix
 * that would make an error the project does not have (`tokn` to `token` where `token` is set)
 * is neither offered nor applied.
 */
import { CodeActionKind, type CodeAction, type Range, type TextEdit } from 'vscode-languageserver/node';
import type { Project } from '../check/project.js';
import type { Diagnostic, Fix } from '../diagnostics/diagnostic.js';
import { format } from '../index.js';
import { LineMap, toLspDiagnostic, toRange, type Files } from './convert.js';

/** `fixAll` kind of this server, so that an editor's "fix all on save" can name it alone. */
export const fixAllKind = `${CodeActionKind.SourceFixAll}.syncwright`;
export const formatKind = `${CodeActionKind.Source}.format.syncwright`;

const overlaps = (d: Diagnostic, range: Range, files: Files) => {
  const r = toRange(d.span, files);
  const before = (a: { line: number; character: number }, b: { line: number; character: number }) =>
    a.line < b.line || (a.line === b.line && a.character < b.character);
  return !before(r.end, range.start) && !before(range.end, r.start);
};

function editsOf(fixes: readonly Fix[], files: Files): Record<string, TextEdit[]> {
  const changes: Record<string, TextEdit[]> = {};
  for (const { span, replacement } of fixes) (changes[files.uri(span.file)] ??= []).push({ range: toRange(span, files), newText: replacement });
  return changes;
}

/**
 * The actions for a range of a file of a project: its diagnostics' fixes, fix all, and
 * formatting when it would change the file.
 */
export function codeActions(project: Project, range: Range, only: readonly string[] | undefined, file: string, files: Files): CodeAction[] {
  const diagnostics = project.diagnostics(file);
  const text = project.text(file) ?? '';
  const wants = (kind: string) => !only || only.some((o) => kind === o || kind.startsWith(`${o}.`));
  const actions: CodeAction[] = [];
  if (wants(CodeActionKind.QuickFix)) {
    for (const d of diagnostics) {
      if (!d.fixes?.length || !overlaps(d, range, files)) continue;
      const safe = d.fixes.filter((fix) => addsNoError(project, [fix]));
      for (const fix of safe) {
        actions.push({
          title: fix.title,
          kind: CodeActionKind.QuickFix,
          diagnostics: [toLspDiagnostic(d, files)],
          isPreferred: safe.length === 1,
          edit: { changes: editsOf([fix], files) },
        });
      }
    }
  }
  if (wants(fixAllKind)) {
    const all = fixAll(project, diagnostics);
    if (all.length > 0) {
      actions.push({ title: `Apply ${all.length} fix${all.length === 1 ? '' : 'es'} (syncwright)`, kind: fixAllKind, edit: { changes: editsOf(all, files) } });
    }
  }
  if (wants(formatKind)) {
    const edit = formatEdit(file, text);
    if (edit) actions.push({ title: 'Format the file (syncwright fmt)', kind: formatKind, edit: { changes: { [files.uri(file)]: [edit] } } });
  }
  return actions;
}

/**
 * The fixes that are the only one of their diagnostic, without two that touch the same text,
 * each kept only if, with those kept before it, it makes no new error: two fixes may each be
 * sound alone and clash together (two misspellings of one setting).
 */
function fixAll(project: Project, diagnostics: readonly Diagnostic[]): Fix[] {
  const chosen: Fix[] = [];
  for (const d of diagnostics) {
    const fix = d.fixes?.length === 1 ? d.fixes[0]! : undefined;
    if (!fix) continue;
    const clash = chosen.some((c) => c.span.file === fix.span.file && c.span.offset <= fix.span.endOffset && fix.span.offset <= c.span.endOffset);
    if (!clash && addsNoError(project, [...chosen, fix])) chosen.push(fix);
  }
  return chosen;
}

/** Errors counted by file, code and message: a fix moves the places of what follows it, not what the errors say. */
function errorCounts(diagnostics: readonly Diagnostic[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const d of diagnostics) {
    if (d.severity !== 'error') continue;
    const key = `${d.span.file}\0${d.code}\0${d.message}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Whether applying fixes (none of two overlapping) leaves no error the project does not have
 * now. Tried on the project itself and undone before returning: the check reaches only as far
 * as the edit does, where a copy of the project would be checked whole.
 */
export function addsNoError(project: Project, fixes: readonly Fix[]): boolean {
  const byFile = new Map<string, Fix[]>();
  for (const f of fixes) byFile.set(f.span.file, [...(byFile.get(f.span.file) ?? []), f]);
  const originals = [...byFile.keys()].map((path) => ({ path, text: project.text(path) }));
  if (originals.some((o) => o.text === undefined)) return false;
  const before = errorCounts(project.allDiagnostics());
  try {
    project.update(
      originals.map(({ path, text }) => ({
        path,
        text: [...byFile.get(path)!]
          .sort((a, b) => b.span.offset - a.span.offset)
          .reduce((t, f) => t.slice(0, f.span.offset) + f.replacement + t.slice(f.span.endOffset), text!),
      })),
    );
    return [...errorCounts(project.allDiagnostics())].every(([key, n]) => n <= (before.get(key) ?? 0));
  } finally {
    project.update(originals);
  }
}

/** `syncwright fmt` of one file as one edit; undefined when it has syntax errors or is formatted already. */
export function formatEdit(file: string, text: string): TextEdit | undefined {
  const formatted = format({ path: file, text }).text;
  if (formatted === undefined || formatted === text) return undefined;
  return { range: new LineMap(text).range({ offset: 0, endOffset: text.length }), newText: formatted };
}
