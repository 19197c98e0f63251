/**
 * The reviewer's diff as text (a terminal), JSON (tools) and GitHub-flavoured Markdown (a
 * pull-request comment): riskiest first, every destructive change marked. Names and values
 * come from the files under review: in Markdown they are escaped, so that a file cannot
 * write markup into the comment.
 */
import { code, escapeMarkdown } from '../diagnostics/markdown.js';
import { jsonText, printableLine } from '../printable.js';
import type { Change, Risk } from './compare.js';

export interface DiffLabels {
  /** What was compared: `origin/main`, a folder, `the working tree`. */
  base: string;
  head: string;
}

export type DiffFormat = 'text' | 'json' | 'markdown';

const heading: Record<Risk, string> = { destructive: 'destructive', risky: 'risky', info: 'other' };

function summary(changes: readonly Change[]): string {
  const n = counts(changes);
  return `${changes.length} change${changes.length === 1 ? '' : 's'}: ${n.destructive} destructive, ${n.risky} risky, ${n.info} other`;
}

const subject = (c: Change) => `${c.subject.kind} ${c.subject.name}`;
const values = (c: Change) => (c.before !== undefined || c.after !== undefined ? `${c.before ?? '(none)'} → ${c.after ?? '(none)'}` : '');

export function renderDiff(format: DiffFormat, changes: readonly Change[], labels: DiffLabels): string {
  switch (format) {
    case 'json':
      return `${jsonText(JSON.stringify({ base: labels.base, head: labels.head, summary: counts(changes), changes }, null, 2))}\n`;
    case 'markdown':
      return markdown(changes, labels);
    case 'text':
      return text(changes, labels);
  }
}

function counts(changes: readonly Change[]): Record<Risk, number> {
  return {
    destructive: changes.filter((c) => c.risk === 'destructive').length,
    risky: changes.filter((c) => c.risk === 'risky').length,
    info: changes.filter((c) => c.risk === 'info').length,
  };
}

/** For a terminal: names, files and values come from the files under review, so each is escaped to printable text on its line. */
function text(changes: readonly Change[], labels: DiffLabels): string {
  const t = printableLine;
  const lines = [`syncwright diff ${t(labels.base)} → ${t(labels.head)}: ${changes.length === 0 ? 'no change in meaning' : summary(changes)}`];
  for (const risk of ['destructive', 'risky', 'info'] as const) {
    const group = changes.filter((c) => c.risk === risk);
    if (group.length === 0) continue;
    lines.push('', heading[risk].toUpperCase());
    for (const c of group) {
      const v = values(c);
      lines.push(`  ${risk === 'destructive' ? '!' : '-'} ${t(subject(c))} (${t(c.file)}:${c.line}) ${c.kind}${v ? `: ${t(v)}` : ''}`, `      ${t(c.message)}`);
      if (c.syncs?.length) lines.push(`      syncs: ${t(c.syncs.join(', '))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const marker: Record<Risk, string> = { destructive: '🛑 **destructive**', risky: '⚠️ risky', info: '' };

function markdown(changes: readonly Change[], labels: DiffLabels): string {
  const out = [`### syncwright diff: ${code(labels.base)} → ${code(labels.head)}`, ''];
  if (changes.length === 0) {
    out.push('No change in meaning: every sync does what it did.');
    return `${out.join('\n')}\n`;
  }
  const n = counts(changes);
  out.push(
    `${changes.length} change${changes.length === 1 ? '' : 's'}: ${n.destructive ? `**${n.destructive} destructive**` : '0 destructive'}, ${n.risky} risky, ${n.info} other.`,
    '',
  );
  const table = (group: readonly Change[]) => {
    const rows = ['| | what | change | what it does |', '| --- | --- | --- | --- |'];
    for (const c of group) {
      const v =
        c.before !== undefined || c.after !== undefined
          ? ` ${c.before !== undefined ? code(c.before) : '(none)'} → ${c.after !== undefined ? code(c.after) : '(none)'}`
          : '';
      const syncs = c.syncs?.length ? ` Syncs: ${c.syncs.map((s) => code(s)).join(', ')}.` : '';
      rows.push(
        `| ${marker[c.risk]} | ${c.subject.kind} ${code(c.subject.name)} | ${c.kind}${v} | ${escapeMarkdown(c.message)}.${syncs} <sub>${escapeMarkdown(`${c.file}:${c.line}`)}</sub> |`,
      );
    }
    return rows.join('\n');
  };
  const risky = changes.filter((c) => c.risk !== 'info');
  const other = changes.filter((c) => c.risk === 'info');
  if (risky.length) out.push(table(risky), '');
  if (other.length)
    out.push(`<details><summary>${other.length} other change${other.length === 1 ? '' : 's'}</summary>`, '', table(other), '', '</details>', '');
  return `${out.join('\n')}`;
}
