/**
 * The checker: files -> checked project, symbol index and diagnostics. Every file is checked,
 * those with syntax errors too, on the tree the parser recovered: a check that meets a
 * placeholder (text that is missing) stays quiet, and a `partial` definition (text recovery
 * skipped or may have misread) is not checked but still counts as defined, as does every name
 * a broken file's text may define, so that no "unknown" error follows from a syntax error.
 */
import { checkSharedTargets } from './targets.js';
import type { Definition, SyncFile } from '../syntax/ast.js';
import type { Span } from '../span.js';
import { parseProject, type ParsedFile, type SourceText } from '../syntax/parse.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { CheckedAudience, CheckedDestination, CheckedModel, CheckedProject, CheckedSource, CheckedSync, Dialect } from './model.js';
import { Reporter, single } from './report.js';
import { checkSettings } from './settings.js';
import { checkModel, type DbtProjects } from './models.js';
import { checkBool } from './expr.js';
import { checkSync, newCheckMemo, type CheckMemo } from './syncs.js';
import { checkName, defaultSchema } from './names.js';
import { nameHints } from '../diagnostics/suggest.js';
import { dialectNames } from '../dialect/index.js';
import {
  destinationTypes,
  syntaxWords,
  getDestinationType,
  destinationSettingsValidator,
  sourceSettingsValidator,
  requireSourceSettingsSchema,
} from '../catalog/index.js';
import { secretSettingsOf } from '../catalog/settings.js';
import { indexProject, type SymbolIndex } from './symbols.js';
import type { DestinationType } from '../catalog/types.js';

export type { SourceText } from '../syntax/parse.js';

export interface CheckResult {
  /** What checked clean: the whole project, and what `compile` plans, only when `ok`. */
  project: CheckedProject;
  /** Every name defined and every reference, in every file, those with errors too (symbols.ts). */
  index: SymbolIndex;
  /** No error. */
  ok: boolean;
  diagnostics: Diagnostic[];
  /** The diagnostics a definition's check reported outside it, with that definition's span (`Reporter.reportedBy`). */
  reportedBy: ReadonlyMap<Diagnostic, Span>;
}

const kindNames: Record<Definition['kind'], string> = {
  source: 'source',
  destination: 'destination',
  model: 'model',
  audience: 'audience',
  sync: 'sync',
};

export interface CheckOptions {
  /** The dbt project of a source that names one (`dbt_project`), for models read from dbt. */
  dbtProjects?: DbtProjects;
  /** Message templates and schedules read once each: a compile's (`CompileContext.memo`) when it has one. */
  memo?: CheckMemo;
}

/** Parses every file, then checks the project: `checkParsed(parseProject(files))`. */
export function checkProject(files: readonly SourceText[], options: CheckOptions = {}): CheckResult {
  return checkParsed(parseProject(files, syntaxWords), options);
}

/**
 * The project checked from its files' trees (`parseProject`), those with syntax errors too. An
 * editor gives the trees it keeps, and parts of them (src/check/project.ts).
 */
export function checkParsed(files: readonly ParsedFile[], options: CheckOptions = {}): CheckResult {
  const memo = options.memo ?? newCheckMemo();
  const r = new Reporter();
  const parsed: { ast: SyncFile; text: string }[] = [];
  const broken = new Set<string>();
  for (const f of files) {
    for (const d of f.diagnostics) r.add(d);
    if (!f.ast) continue;
    parsed.push({ ast: f.ast, text: f.text });
    // Names the tree may lack; those it holds are found first wherever they are looked up.
    for (const name of f.namesInText) broken.add(name);
  }

  // Names share one namespace across kinds, since `to` accepts a source and `from` a model or audience.
  const defs = new Map<string, Definition>();
  const texts = new Map<string, string>();
  for (const { ast, text } of parsed) {
    texts.set(ast.file, text);
    for (const d of ast.definitions) {
      if (d.name.missing) continue;
      if (d.partial) broken.add(d.name.text);
      const first = defs.get(d.name.text);
      if (first) {
        r.report(
          'duplicate-definition',
          d.name.span,
          { kind: kindNames[d.kind], name: d.name.text },
          {
            hints: ['names are shared by every kind in the project: rename one of them'],
            related: [{ message: `the first \`${first.name.text}\` is the ${kindNames[first.kind]} defined here`, span: first.name.span }],
          },
        );
        continue;
      }
      defs.set(d.name.text, d);
    }
  }
  const all = [...defs.values()];
  const of = <K extends Definition['kind']>(kind: K) => all.filter((d): d is Extract<Definition, { kind: K }> => d.kind === kind);

  // A partial source or destination is used when its head names a known dialect or type, but nothing of it is checked.
  const sources = new Map<string, CheckedSource>();
  // Each definition's check reports as its own (`Reporter.reportedBy`) what it finds elsewhere: at what it reads.
  for (const d of of('source')) {
    r.checking = d.span;
    if (d.dialect.missing || !(dialectNames as readonly string[]).includes(d.dialect.text)) {
      if (!d.dialect.missing && !d.partial)
        r.report('unknown-dialect', d.dialect.span, { name: d.dialect.text }, nameHints(d.dialect, [...dialectNames], 'dialects'));
      broken.add(d.name.text);
      continue;
    }
    const dialect = d.dialect.text as Dialect;
    const settings = d.partial
      ? {}
      : checkSettings(
          d.settings,
          {
            owner: `${dialect} source \`${d.name.text}\``,
            ownerSpan: d.name.span,
            block: d.span,
            text: texts.get(d.span.file) ?? '',
            validate: sourceSettingsValidator(dialect),
            schema: requireSourceSettingsSchema(dialect),
            secrets: secretSettingsOf(requireSourceSettingsSchema(dialect)),
          },
          r,
        );
    const stateSchema = d.settings.find((s) => s.name.text === 'state_schema');
    // An empty one is the settings' error already (`is empty`).
    if (stateSchema && typeof settings.state_schema === 'string' && settings.state_schema !== '')
      checkName(dialect, 'table', { text: settings.state_schema, quoted: true, span: stateSchema.value.span }, r);
    const schema = d.partial ? undefined : defaultSchema(dialect, d.settings, r);
    sources.set(d.name.text, { name: d.name.text, dialect, settings, ...(schema ? { schema } : {}), span: d.span });
  }

  const destinations = new Map<string, { checked: CheckedDestination; type: DestinationType }>();
  for (const d of of('destination')) {
    r.checking = d.span;
    const type = d.type.missing ? undefined : getDestinationType(d.type.text);
    if (!type) {
      if (!d.type.missing && !d.partial)
        r.report('unknown-destination-type', d.type.span, { name: d.type.text }, nameHints(d.type, [...destinationTypes.keys()], 'destination types'));
      broken.add(d.name.text);
      continue;
    }
    const settings = d.partial
      ? {}
      : checkSettings(
          d.settings,
          {
            owner: `${type.type} destination \`${d.name.text}\``,
            ownerSpan: d.name.span,
            block: d.span,
            text: texts.get(d.span.file) ?? '',
            validate: destinationSettingsValidator(type.type),
            schema: type.settings,
            secrets: type.secretSettings,
            ...(type.published ? { published: { vendor: type.title, settings: type.published } } : {}),
          },
          r,
        );
    const dialect = type.category === 'warehouse' && !d.partial && (dialectNames as readonly string[]).includes(type.type) ? (type.type as Dialect) : undefined;
    const schema = dialect ? defaultSchema(dialect, d.settings, r) : undefined;
    destinations.set(d.name.text, {
      checked: { name: d.name.text, type: type.type, category: type.category, settings, ...(schema ? { schema } : {}), span: d.span },
      type,
    });
  }
  // A source is also a warehouse destination: write-back into the same warehouse.
  for (const s of sources.values()) {
    const type = getDestinationType(s.dialect);
    if (type)
      destinations.set(s.name, {
        checked: {
          name: s.name,
          type: type.type,
          category: type.category,
          settings: s.settings,
          ...(s.schema ? { schema: s.schema } : {}),
          source: s,
          span: s.span,
        },
        type,
      });
  }

  const models = new Map<string, CheckedModel>();
  for (const d of of('model')) {
    r.checking = d.span;
    const m = d.partial ? undefined : checkModel(d, sources, broken, r, options.dbtProjects);
    if (m) models.set(d.name.text, m);
    else broken.add(d.name.text);
  }

  const audiences = new Map<string, CheckedAudience>();
  for (const d of of('audience')) {
    r.checking = d.span;
    if (d.partial) continue;
    const owner = { kind: 'audience', name: d.name.text };
    const from = single(d.items, 'from', 'from', owner, r);
    const where = single(d.items, 'where', 'where', owner, r);
    if (!from) r.report('missing-item', d.name.span, { ...owner, item: 'from' }, ['name the model it selects from: `from users`']);
    if (!where) r.report('missing-item', d.name.span, { ...owner, item: 'where' }, ['say who is in it: `where ltv >= 1000`']);
    const model = from ? models.get(from.name.text) : undefined;
    if (from && !model && !from.name.missing && !broken.has(from.name.text)) {
      const advice = nameHints(from.name, [...models.keys()], 'models');
      if (audiences.has(from.name.text) || of('audience').some((a) => a.name.text === from.name.text))
        advice.hints.unshift('an audience selects from a model; combine the conditions instead');
      r.report('unknown-reference', from.name.span, { kind: 'model', name: from.name.text }, advice);
    }
    if (!model || !where) {
      broken.add(d.name.text);
      continue;
    }
    const before = r.errorCount;
    checkBool(where.expr, model, r, texts.get(d.span.file) ?? '');
    if (r.errorCount > before) broken.add(d.name.text);
    else audiences.set(d.name.text, { name: d.name.text, model, where: where.expr, span: d.span });
  }

  const syncs: CheckedSync[] = [];
  const scope = { models, audiences, destinations, broken, memo };
  // Each sync compiles to a folder of its name: on macOS and Windows, names that differ only in case are one folder.
  const folders = new Map<string, Definition>();
  for (const d of of('sync')) {
    r.checking = d.span;
    const first = folders.get(d.name.text.toLowerCase());
    if (first) {
      r.report(
        'sync-names-differ-in-case',
        d.name.span,
        { name: d.name.text, first: first.name.text },
        {
          hints: ['rename one of them'],
          related: [{ message: `\`${first.name.text}\` is defined here`, span: first.name.span }],
        },
      );
    } else folders.set(d.name.text.toLowerCase(), d);
  }
  for (const d of of('sync')) {
    r.checking = d.span;
    const s = d.partial ? undefined : checkSync(d, scope, r, texts.get(d.span.file) ?? '');
    if (s) syncs.push(s);
  }
  r.checking = undefined;
  checkSharedTargets(syncs, new Map(of('sync').map((d) => [d.name.text, d.name.span])), r);

  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const trees = parsed.map((p) => p.ast);
  let index: SymbolIndex | undefined;
  return {
    project: {
      sources: [...sources.values()].sort(byName),
      destinations: [...destinations.values()]
        .map((d) => d.checked)
        .filter((d) => !d.source)
        .sort(byName),
      models: [...models.values()].sort(byName),
      audiences: [...audiences.values()].sort(byName),
      syncs: syncs.sort(byName),
    },
    // Made when first read: `check` and `compile` never read it (it costs them 5-7%).
    get index() {
      return (index ??= indexProject(trees));
    },
    ok: r.errorCount === 0,
    diagnostics: sortDiagnostics(r.diagnostics),
    reportedBy: r.reportedBy,
  };
}

/** Stable order: by file, then position, then code. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort(
    (a, b) =>
      (a.span.file < b.span.file ? -1 : a.span.file > b.span.file ? 1 : 0) || a.span.offset - b.span.offset || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
}
