/**
 * Text from a .sync file that ends up in SQL, or in a folder name, checked against what the
 * warehouse or the file system can hold: names within the warehouse's length limit and free
 * of characters it rejects, strings it can write, sync names that can be folders.
 */
import type { Dialect } from './model.js';
import type { Ident, Setting } from '../syntax/ast.js';
import type { Span } from '../span.js';
import type { Reporter } from './report.js';
import { getDialect, storedName, type NameKind } from '../dialect/index.js';
import { nameLength, textProblem } from '../dialect/quote.js';
import { envSlot, isBareName, slotOpening } from '../contract/names.js';
import { defaultSchemaSetting } from '../catalog/connection-settings.js';

/** A name in a message: a long one by its start. */
const shown = (name: string): string => ([...name].length > 80 ? `${[...name].slice(0, 40).join('')}...` : name);

const engines: Record<Dialect, string> = { postgres: 'PostgreSQL', snowflake: 'Snowflake', bigquery: 'BigQuery' };

/** A name the warehouse will hold, as it stores it (bare names folded). */
export function checkName(dialect: Dialect, kind: NameKind, ident: Pick<Ident, 'text' | 'quoted' | 'span' | 'env'>, r: Reporter): void {
  if (ident.env) {
    // The value is checked where the sync runs (src/contract/names.ts); here only the variable's name.
    if (!isBareName(ident.env.value)) {
      r.report(
        'invalid-name',
        ident.env.span,
        { name: ident.env.value, engine: 'variable', why: 'a variable is named by a letter or _, then letters, digits and _' },
        ['`table env("DW_SCHEMA").customers`'],
      );
    }
    return;
  }
  const spec = getDialect(dialect);
  const stored = storedName(spec, ident);
  if (stored === '') {
    r.report('invalid-name', ident.span, { name: ident.quoted ? '""' : ident.text, engine: engines[dialect], why: 'a name has at least one character' }, [
      'write the name between the quotes',
    ]);
    return;
  }
  const problem = textProblem(spec.identifiers, stored);
  const slot = slotProblem(stored);
  if (problem ?? slot) {
    const hint = problem
      ? 'remove the character, or name the object differently in the warehouse'
      : 'a name given where the sync runs is written `env("X")`, not quoted';
    r.report('invalid-name', ident.span, { name: ident.text, engine: engines[dialect], why: (problem ?? slot)!.why }, [hint]);
    return;
  }
  const { maxLength } = spec.identifiers;
  const length = nameLength(spec, stored);
  if (length > maxLength[kind]) {
    r.report('name-too-long', ident.span, { name: shown(ident.text), length, unit: maxLength.unit, engine: engines[dialect], kind, limit: maxLength[kind] }, [
      maxLength.why,
      'rename it in the warehouse, or read it through a model `sql` that gives it a shorter name',
    ]);
  }
}

/**
 * The schema a warehouse's setting gives tables written without one (`schema`; BigQuery's
 * `dataset`): an exact name, as `state_schema` is, or `env("X")`, filled where the sync runs
 * like an env() part of a table path. The setting's own errors are reported with the settings.
 */
export function defaultSchema(dialect: Dialect, settings: readonly Setting[], r: Reporter): Ident | undefined {
  const value = settings.find((s) => s.name.text === defaultSchemaSetting[dialect])?.value;
  if (value?.kind === 'env')
    return value.variable.missing ? undefined : { text: envSlot(value.variable.value), quoted: true, span: value.span, env: value.variable };
  if (value?.kind !== 'string' || value.missing) return undefined;
  const schema = { text: value.value, quoted: true, span: value.span };
  checkName(dialect, 'table', schema, r);
  return schema;
}

/** A table path as the SQL names it: one written without a schema is in its warehouse's default schema. */
export const inSchema = (path: Ident[], schema: Ident | undefined): Ident[] => (schema && path.length === 1 ? [schema, ...path] : path);

/**
 * `{{env:` in text that reaches SQL: it starts the placeholder an executor fills with a name
 * from the environment (src/contract/names.ts), so no name, string or query may hold it.
 */
export function slotProblem(text: string): { index: number; why: string } | undefined {
  const index = text.indexOf(slotOpening);
  return index < 0 ? undefined : { index, why: `\`${slotOpening}\` starts the placeholder of a name given by env(), which the executor fills` };
}

/** A string the warehouse will read as a literal. */
export function checkLiteralText(dialect: Dialect, text: string, span: Span, r: Reporter): boolean {
  const problem = textProblem(getDialect(dialect).literals, text) ?? slotProblem(text);
  if (!problem) return true;
  r.report('invalid-literal', span, { detail: `this string cannot be written in ${engines[dialect]} SQL: ${problem.why}` }, [
    'remove the character (an escape such as \\u0000 in a quoted string makes it)',
  ]);
  return false;
}

/** Names Windows gives its devices, in any case and with any extension: no file or folder can have them. */
const windowsDevices = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
/** The longest file name of the common file systems (ext4, APFS, NTFS). */
const maxFolderBytes = 255;

/** A sync compiles to a folder of its name: one that every file system can make. */
export function checkFolderName(ident: Pick<Ident, 'text' | 'span'>, r: Reporter): void {
  const name = ident.text;
  const device = windowsDevices.exec(name);
  if (device) {
    r.report('folder-name', ident.span, { name, reason: `\`${device[1]!.toUpperCase()}\` is a device name on Windows, which no folder may have` }, [
      'rename the sync: its plan and SQL go to a folder of its name',
    ]);
  } else if (Buffer.byteLength(name) > maxFolderBytes) {
    r.report(
      'folder-name',
      ident.span,
      { name: shown(name), reason: `it is ${Buffer.byteLength(name)} bytes long, and a folder name is at most ${maxFolderBytes}` },
      ['rename the sync: its plan and SQL go to a folder of its name'],
    );
  }
}
