/**
 * What syncwright reads of a dbt project's artifacts: `target/manifest.json` (schema v10 to
 * v12, dbt 1.6 to 1.10+) and, when there, `target/catalog.json` (v1, written by `dbt docs
 * generate`). Pure: the parsed JSON in, the models out; reading the files is load.ts's.
 *
 * Of each model (and seed and snapshot, which are relations a model may read too): its unique
 * id, its relation for the target the artifacts were made for (database, schema, alias), and
 * its columns with the type YAML declares (`data_type`) or, failing that, the catalog's; and
 * which columns dbt tests `not_null` and `unique` (generic tests on one column).
 */

export interface DbtColumn {
  name: string;
  /** A name as the warehouse stores it (the catalog's, or YAML's with `quote: true`); else folded as the warehouse folds a bare name. */
  exact: boolean;
  /** The warehouse type as dbt has it, or undefined when neither YAML nor the catalog gives one. */
  type?: string;
  /** Where the type came from. */
  typedBy?: 'data_type' | 'catalog';
}

export interface DbtModel {
  uniqueId: string;
  name: string;
  resourceType: string;
  database?: string;
  schema: string;
  alias: string;
  /** The relation as dbt writes it in SQL (`relation_name`): each part with whether dbt quotes it. */
  relation: { text: string; quoted: boolean }[];
  /** Documented columns first (YAML order), then those only the catalog knows (its order). */
  columns: DbtColumn[];
  /** `config.materialized`: `ephemeral` is no relation, only SQL dbt inlines where it is `ref`d. */
  materialized?: string;
  notNull: Set<string>;
  unique: Set<string>;
}

export interface DbtProject {
  /** The manifest's schema version: 10, 11 or 12. */
  version: number;
  projectName?: string;
  adapter?: string;
  /**
   * By name, as `ref('name')` resolves it: a name two packages share is kept for the root
   * project's, and of a versioned model its latest version.
   */
  models: Map<string, DbtModel>;
  /** Whether a catalog was read: without one, undocumented columns are unknown. */
  hasCatalog: boolean;
}

export class DbtArtifactError extends Error {}

export const supportedManifestVersions = [10, 11, 12] as const;
const relationTypes = new Set(['model', 'seed', 'snapshot']);

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);

/** The version in `https://schemas.getdbt.com/dbt/manifest/v12.json`. */
export function manifestVersion(manifest: unknown): number | undefined {
  const url = isObject(manifest) && isObject(manifest.metadata) ? str(manifest.metadata.dbt_schema_version) : undefined;
  const m = url && /\/dbt\/manifest\/v(\d+)\.json$/.exec(url);
  return m ? Number(m[1]) : undefined;
}

/** The project a manifest (and optional catalog) describes; throws DbtArtifactError saying what is wrong. */
export function readDbtProject(manifest: unknown, catalog?: unknown): DbtProject {
  const version = manifestVersion(manifest);
  if (version === undefined || !isObject(manifest) || !isObject(manifest.nodes)) {
    throw new DbtArtifactError('it is not a dbt manifest (no metadata.dbt_schema_version naming a manifest schema, or no nodes)');
  }
  if (!(supportedManifestVersions as readonly number[]).includes(version)) {
    throw new DbtArtifactError(`manifest schema v${version} is not read: syncwright reads v${supportedManifestVersions.join(', v')} (dbt 1.6 and later)`);
  }
  const metadata = manifest.metadata as Json;
  const projectName = str(metadata.project_name);
  const catalogNodes = catalog === undefined ? undefined : catalogTables(catalog);

  const models = new Map<string, { model: DbtModel; root: boolean; version: Version }>();
  const byId = new Map<string, DbtModel>();
  for (const [id, raw] of Object.entries(manifest.nodes)) {
    if (!isObject(raw) || !relationTypes.has(str(raw.resource_type) ?? '')) continue;
    const config = isObject(raw.config) ? raw.config : {};
    if (config.enabled === false) continue;
    const name = str(raw.name);
    const schema = str(raw.schema);
    if (!name || !schema) continue;
    const model: DbtModel = {
      uniqueId: id,
      name,
      resourceType: str(raw.resource_type)!,
      ...(str(raw.database) ? { database: str(raw.database)! } : {}),
      schema,
      alias: str(raw.alias) ?? str(raw.identifier) ?? name,
      relation:
        relationParts(str(raw.relation_name)) ??
        [str(raw.database), schema, str(raw.alias) ?? name].filter((p): p is string => !!p).map((text) => ({ text, quoted: true })),
      columns: columnsOf(raw, catalogNodes?.get(id)),
      ...(str(config.materialized) ? { materialized: str(config.materialized)! } : {}),
      notNull: new Set(),
      unique: new Set(),
    };
    byId.set(id, model);
    const candidate = { model, root: !!projectName && str(raw.package_name) === projectName, version: versionOf(raw) };
    const first = models.get(name);
    if (!first || refPrefers(candidate, first)) models.set(name, candidate);
  }

  // Generic tests on one column: not_null and unique (dbt_utils and others have their own names).
  for (const raw of Object.values(manifest.nodes)) {
    if (!isObject(raw) || raw.resource_type !== 'test' || !isObject(raw.test_metadata)) continue;
    if (isObject(raw.config) && raw.config.enabled === false) continue;
    const test = str(raw.test_metadata.name);
    const kwargs = isObject(raw.test_metadata.kwargs) ? raw.test_metadata.kwargs : {};
    const column = str(raw.column_name) ?? str(kwargs.column_name);
    const attached = str(raw.attached_node) ?? (isObject(raw.depends_on) && Array.isArray(raw.depends_on.nodes) ? str(raw.depends_on.nodes[0]) : undefined);
    const model = attached ? byId.get(attached) : undefined;
    if (!model || !column || raw.test_metadata.namespace) continue;
    if (test === 'not_null') model.notNull.add(column);
    else if (test === 'unique') model.unique.add(column);
  }
  return {
    version,
    ...(projectName ? { projectName } : {}),
    ...(str(metadata.adapter_type) ? { adapter: str(metadata.adapter_type)! } : {}),
    models: new Map([...models].map(([name, c]) => [name, c.model])),
    hasCatalog: catalogNodes !== undefined,
  };
}

/** A node's version and its model's latest (dbt writes either as a number or a string), both absent for an unversioned model. */
interface Version {
  version?: string;
  latest?: string;
}

const versionText = (x: unknown): string | undefined => (typeof x === 'number' && Number.isFinite(x) ? String(x) : str(x));

function versionOf(node: Json): Version {
  const version = versionText(node.version);
  const latest = versionText(node.latest_version);
  return { ...(version !== undefined ? { version } : {}), ...(latest !== undefined ? { latest } : {}) };
}

/** dbt's order of versions: as numbers where both are, else as text. */
function compareVersions(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whether `ref('name')` resolves to `a` rather than to `b`, two nodes of one name: the root
 * project's over a package's; then, of a versioned model, its `latest_version`, else its
 * highest version (the order nodes appear in the manifest says nothing).
 */
function refPrefers(a: { root: boolean; version: Version }, b: { root: boolean; version: Version }): boolean {
  if (a.root !== b.root) return a.root;
  const latest = a.version.latest ?? b.version.latest;
  const isLatest = (v: Version) => latest !== undefined && v.version !== undefined && compareVersions(v.version, latest) === 0;
  if (isLatest(a.version) !== isLatest(b.version)) return isLatest(a.version);
  if (a.version.version !== undefined && b.version.version !== undefined) return compareVersions(a.version.version, b.version.version) > 0;
  // Of two unversioned nodes of the root project, the last read, as before.
  return a.root;
}

/**
 * `"db"."schema"."table"` (Postgres, Snowflake with quoting), `db.schema.table` (Snowflake's
 * default: folded), `` `project`.`dataset`.`table` `` (BigQuery): the parts, with their quotes.
 */
export function relationParts(text: string | undefined): { text: string; quoted: boolean }[] | undefined {
  if (!text) return undefined;
  const parts: { text: string; quoted: boolean }[] = [];
  const re = /\s*(?:"((?:[^"]|"")*)"|`((?:[^`\\]|\\.)*)`|([^."`\s]+))\s*(\.|$)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    if (m[1] !== undefined) parts.push({ text: m[1].replace(/""/g, '"'), quoted: true });
    else if (m[2] !== undefined) parts.push({ text: m[2].replace(/\\(.)/g, '$1'), quoted: true });
    else parts.push({ text: m[3]!, quoted: false });
    if (m[4] === '') break;
  }
  return parts.length > 0 && re.lastIndex >= text.length ? parts : undefined;
}

function columnsOf(node: Json, table: Map<string, string> | undefined): DbtColumn[] {
  const out: DbtColumn[] = [];
  const seen = new Set<string>();
  // The catalog names columns as the warehouse stores them (CUSTOMER_ID on Snowflake); YAML as the user wrote them.
  const inCatalog = (name: string) => [name, name.toLowerCase(), name.toUpperCase()].find((n) => table?.has(n));
  for (const raw of Object.values(isObject(node.columns) ? node.columns : {})) {
    if (!isObject(raw) || !str(raw.name)) continue;
    const written = str(raw.name)!;
    const stored = inCatalog(written);
    const declared = str(raw.data_type);
    const found = stored === undefined ? undefined : table!.get(stored);
    const name = stored ?? written;
    const typed = declared ? { type: declared, typedBy: 'data_type' as const } : found ? { type: found, typedBy: 'catalog' as const } : {};
    out.push({ name, exact: stored !== undefined || raw.quote === true, ...typed });
    seen.add(name);
  }
  for (const [name, type] of table ?? []) if (!seen.has(name)) out.push({ name, exact: true, type, typedBy: 'catalog' });
  return out;
}

/** The catalog's tables: unique id -> column name -> type, columns in the catalog's order. */
function catalogTables(catalog: unknown): Map<string, Map<string, string>> {
  if (!isObject(catalog) || !isObject(catalog.nodes)) throw new DbtArtifactError('it is not a dbt catalog (no nodes)');
  const out = new Map<string, Map<string, string>>();
  for (const group of [catalog.nodes, catalog.sources]) {
    for (const [id, raw] of Object.entries(isObject(group) ? group : {})) {
      if (!isObject(raw) || !isObject(raw.columns)) continue;
      const cols = Object.values(raw.columns)
        .filter((c): c is Json => isObject(c) && typeof c.name === 'string' && typeof c.type === 'string')
        .sort((a, b) => Number(a.index ?? 0) - Number(b.index ?? 0));
      out.set(id, new Map(cols.map((c) => [c.name as string, c.type as string])));
    }
  }
  return out;
}
