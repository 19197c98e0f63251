/** The run report as text for the terminal: one block per plan. */
import { printableLine } from '../../printable.js';
import { stringifyJson } from '../exact-json.js';
import type { PlanReport, PlanStatus, RunReport } from './report.js';

const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Rejections printed per plan; the report file has them all (up to its own limit). */
const shownRejections = 10;

export function planSummary(r: PlanReport): string {
  // A plan that could not be read has no destination nor mode to name: its path alone.
  const head = r.destination.name === '' ? r.sync : `${r.sync} -> ${r.destination.name} (${r.destination.type}), ${r.mode}`;
  const lines = [`${head}${r.dryRun ? ', dry run' : ''}`];
  if (r.changes) {
    const c = r.changes;
    const extra = [c.null_keys ? `${c.null_keys} null keys skipped` : '', c.duplicate_keys ? `${c.duplicate_keys} duplicate keys dropped` : ''].filter(Boolean);
    lines.push(
      `  change set: ${c.added ?? 0} added, ${c.changed ?? 0} changed, ${c.removed ?? 0} removed, ${c.unchanged ?? 0} unchanged${extra.length ? ` (${extra.join(', ')})` : ''}`,
    );
  }
  for (const s of r.steps) {
    if (s.kind === 'sql') {
      const result = s.result?.[0];
      lines.push(
        `  ${s.operation}: ${
          result
            ? Object.entries(result)
                .map(([k, v]) => `${k} ${String(v)}`)
                .join(', ')
            : 'done'
        } (${seconds(s.ms)})`,
      );
    } else if (s.kind === 'jobs') {
      // rows: the jobs asked about; accepted: those that ended well; rejected: those that failed, whose rows go again.
      const open = s.rows - s.accepted - s.rejected;
      lines.push(
        `  ${s.operation}: ${plural(s.rows, 'job')} of earlier runs: ${s.accepted} done, ${s.rejected} failed (their rows sent again), ${open} not ended`,
      );
    } else if (s.kind === 'call') {
      if (s.requests) lines.push(`  ${s.operation}: done${s.retries ? `, ${plural(s.retries, 'retry', 'retries')}` : ''}`);
    } else if (s.skipped) {
      lines.push(`  ${s.operation}: skipped, ${s.skipped}`);
    } else if (s.rows === 0) {
      lines.push(`  ${s.operation}: nothing to send`);
    } else if (r.dryRun) {
      lines.push(`  ${s.operation}: would ${s.kind === 'accept' ? 'record' : 'send'} ${plural(s.rows, 'row')}`);
      for (const sample of s.samples ?? []) lines.push(`    ${stringifyJson(sample)}`);
    } else {
      const refused = s.rejected + s.failed;
      const parts = [
        `${s.accepted}/${s.rows} accepted`,
        refused ? `${refused} refused` : '',
        s.requests ? plural(s.requests, 'request') : '',
        s.retries ? plural(s.retries, 'retry', 'retries') : '',
      ].filter(Boolean);
      lines.push(`  ${s.operation}: ${parts.join(', ')} (${seconds(s.ms)})`);
      for (const w of s.wrote ?? []) lines.push(`    wrote ${w}`);
    }
  }
  if (!r.dryRun && r.changes) lines.push(`  committed ${plural(r.committed, 'row')} to the snapshot`);
  // A key is the warehouse's, a reason the server's: each on its line, whatever line breaks they hold (one could forge the lines below).
  for (const x of r.rejected.slice(0, shownRejections))
    lines.push(`  ${x.fate} ${x.change} ${x.key === null ? '(no key)' : printableLine(x.key)} (${x.operation}): ${printableLine(x.reason)}`);
  if (r.rejectedTotal > shownRejections) lines.push(`  ... and ${r.rejectedTotal - shownRejections} more refused rows (see --report)`);
  for (const w of r.warnings ?? []) lines.push(`  warning: ${printableLine(w)}`);
  if (r.skipped) lines.push(`  skipped: ${r.skipped}`);
  // An error may quote a server's or a warehouse's message: on its line too.
  if (r.error) lines.push(`  failed: ${printableLine(r.error)}`);
  return lines.join('\n');
}

/** What the run summary says of plans of each status but ok. */
const said: Record<Exclude<PlanStatus, 'ok'>, string> = {
  failed: 'failed',
  guarded: 'stopped by a guard',
  busy: 'busy (another run holds it)',
  rejected: 'with refused rows',
};

export function runSummary(report: RunReport): string {
  const parts = (Object.keys(said) as (keyof typeof said)[]).flatMap((status) => {
    const plans = report.plans.filter((p) => p.status === status);
    if (!plans.length) return [];
    const within = status === 'rejected' ? plans.filter((p) => p.refusedWithinLimit).length : 0;
    return [`${plans.length} ${said[status]}${within ? ` (${within} within --max-refused)` : ''}`];
  });
  return `${plural(report.plans.length, 'sync')} in ${seconds(report.ms)}: ${parts.length ? parts.join(', ') : 'all ok'}`;
}
