/**
 * Building blocks of settings schemas. A setting reaches ajv as JSON: a literal as itself, a
 * dotted name as a string, and `env("X")` as `{"env": "X"}`. Any setting may come from the
 * environment; a secret may come from nowhere else.
 */
import type { JsonSchema } from './types.js';

const draft = 'https://json-schema.org/draft/2020-12/schema';
const envRef = '#/$defs/env';

/** `{"env": "X"}`: the value is read from variable X where the sync runs. */
const envReference: JsonSchema = {
  type: 'object',
  properties: { env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } },
  required: ['env'],
  additionalProperties: false,
};

/** A literal matching `literal`, or an env() reference. */
export function envOr(literal: JsonSchema, annotations: JsonSchema = {}): JsonSchema {
  return { ...annotations, anyOf: [literal, { $ref: envRef }] };
}

/** A credential: only an env() reference is accepted. */
export function secret(description: string): JsonSchema {
  return { description, $ref: envRef };
}

/** Whether a property schema is a secret: exactly an env() reference, with no literal branch. */
export function isSecret(property: unknown): boolean {
  return typeof property === 'object' && property !== null && (property as JsonSchema).$ref === envRef;
}

/** Whether a property schema takes an env() reference (most do; a name the compiled SQL holds does not). */
export function takesEnv(property: unknown): boolean {
  if (typeof property !== 'object' || property === null) return false;
  const p = property as JsonSchema;
  return p.$ref === envRef || (Array.isArray(p.anyOf) && p.anyOf.some((b) => (b as JsonSchema).$ref === envRef));
}

const described = (description?: string): JsonSchema => (description ? { description } : {});
export const text = (description?: string): JsonSchema => envOr({ type: 'string', minLength: 1 }, described(description));
export const pattern = (regex: string, description?: string): JsonSchema => envOr({ type: 'string', pattern: regex }, described(description));
export const oneOfValues = (values: readonly (string | number)[], defaultValue?: string | number): JsonSchema =>
  envOr({ enum: [...values] }, defaultValue === undefined ? {} : { default: defaultValue });
export const flag = (defaultValue: boolean): JsonSchema => envOr({ type: 'boolean' }, { default: defaultValue });
export const port = (defaultValue: number): JsonSchema => envOr({ type: 'integer', minimum: 1, maximum: 65535 }, { default: defaultValue });
export const httpsUrl = (description: string): JsonSchema => pattern('^https://[^\\s/]+(/\\S*)?$', description);

/** A settings block: only the named settings, `required` ones present, plus cross-setting rules. */
export function settingsSchema(properties: Record<string, JsonSchema>, required: readonly string[] = [], rules: JsonSchema = {}): JsonSchema {
  const missing = required.filter((r) => !(r in properties));
  if (missing.length > 0) throw new Error(`required settings without a schema: ${missing.join(', ')}`);
  return {
    $schema: draft,
    type: 'object',
    properties,
    ...(required.length > 0 ? { required: [...required] } : {}),
    additionalProperties: false,
    ...rules,
    $defs: { env: envReference },
  };
}

/** The names of a settings schema's secret settings, in declaration order. */
export function secretSettingsOf(schema: JsonSchema): string[] {
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  return Object.keys(properties).filter((name) => isSecret(properties[name]));
}

/** The defaults a settings schema declares, by setting name. */
export function settingDefaults(schema: JsonSchema): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  return Object.fromEntries(
    Object.entries(properties)
      .filter(([, p]) => p.default !== undefined)
      .map(([name, p]) => [name, p.default]),
  );
}
