/**
 * A `write_object` step: the step's rows as objects of the plan's format, `batch.size` rows
 * each (insert: new objects named by the run), or all in one (mirror: the object replaced).
 * An object's rows are accepted only once the store says the object is complete.
 */
import type { WriteObjectStep } from '../../contract/api-steps.js';
import type { ChangeRow } from '../change-rows.js';
import { changePages } from '../change-rows.js';
import { stepReport, type StepReport } from '../output/report.js';
import { changeQuery, countRows, stepRows } from '../send-step.js';
import { baseContext, type StepEnv } from '../step-env.js';
import { asText, render, type Json } from '../template.js';
import { contentTypes, encodeObject } from './formats.js';
import { connectionOf } from './connection.js';

/** Accepts the step's rows with seq in [from, to]: read again by range, so no object's keys are held in memory. */
async function acceptRange(env: StepEnv, kinds: WriteObjectStep['changes'], from: number, to: number): Promise<void> {
  const q = changeQuery(env, kinds, 'range', { from, to });
  for await (const page of changePages(env.session.pages(q, env.options.pageSize, env.sql))) await env.ledger?.record(page);
}

/** The rows one at a time, from pages. */
async function* flat(pages: AsyncIterable<ChangeRow[]>): AsyncGenerator<ChangeRow> {
  for await (const page of pages) yield* page;
}

export async function runWriteObject(step: WriteObjectStep, env: StepEnv): Promise<StepReport> {
  const started = performance.now();
  const total = await countRows(env, step.changes);
  const report = stepReport('write_object', step.service, step.description, total);
  const rowCtx = (row: ChangeRow) => ({ ...baseContext(env), row });
  if (env.options.dryRun) {
    report.samples = [];
    for await (const page of stepRows(env, step.changes)) {
      for (const row of page.slice(0, env.options.samples)) report.samples.push(render(step.record, rowCtx(row), env.render));
      break;
    }
    return report;
  }
  const bucket = asText(render(step.bucket, baseContext(env), env.render));
  const size = step.batch?.size ?? Number.POSITIVE_INFINITY;
  const store = await env.options.outlets.store(step.service, connectionOf(env, step.connection));
  const rows = flat(stepRows(env, step.changes));
  const wrote: string[] = [];
  env.options.progress.start(step.service, total);
  try {
    let pending = await rows.next();
    let seen = 0;
    // A mirror of an empty model still replaces its object, with no rows.
    for (let index = 1; !pending.done || (index === 1 && step.batch === undefined); index++) {
      const last = seen + size >= total;
      const key = asText(render(step.key, { ...baseContext(env), batch: { index, last, rows: 0, total_rows: total } }, env.render));
      const span = { first: 0, last: 0, rows: 0 };
      // The object's records, read as the store takes them: at most `size` rows.
      async function* records(): AsyncGenerator<Json> {
        while (!pending.done && span.rows < size) {
          const row = pending.value;
          if (span.rows === 0) span.first = row.seq;
          span.last = row.seq;
          span.rows++;
          yield render(step.record, rowCtx(row), env.render);
          pending = await rows.next();
        }
      }
      await store.put(bucket, key, encodeObject(step.format, step.columns, records()), contentTypes[step.format]);
      report.requests++;
      wrote.push(store.location(bucket, key));
      seen += span.rows;
      // The object is complete: only now are its rows accepted.
      if (span.rows) await acceptRange(env, step.changes, span.first, span.last);
      report.accepted += span.rows;
      env.options.progress.advance(span.rows);
    }
  } finally {
    await rows.return(undefined);
    await store.close();
  }
  report.wrote = wrote;
  report.ms = Math.round(performance.now() - started);
  env.options.progress.finish(`${step.service}: ${report.accepted} rows in ${wrote.length} object${wrote.length === 1 ? '' : 's'}`);
  return report;
}
