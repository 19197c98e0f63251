/**
 * Requests to a gRPC-transcoded REST API (Google Ads) checked against a rule table written from
 * its protos, by the proto3 JSON mapping (https://protobuf.dev/programming-guides/json/): a
 * field by its lowerCamelCase JSON name or its proto name (not both), no unknown fields, enums
 * by name, 64-bit integers as numbers or decimal strings, `null` meaning "not set". On top of
 * the mapping: the fields the protos mark REQUIRED (or whose comments say so), output-only
 * fields left out, oneofs with at most one member set (exactly one where the comment says
 * "Exactly one must be specified"), and documented ranges.
 */

export type ProtoType = 'string' | 'bool' | 'int32' | 'int64' | 'double' | `enum:${string}` | `message:${string}` | 'opaque';

export interface ProtoField {
  type: ProtoType;
  repeated?: true;
  oneof?: string;
  required?: true;
  outputOnly?: true;
  /** Inclusive bounds the proto comment documents. */
  range?: [number, number];
}

export interface ProtoMessage {
  /** The .proto file the message is in. */
  file: string;
  fields: Record<string, ProtoField>;
  /** Oneofs whose comment asks for exactly one member. */
  exactlyOne?: string[];
}

export interface ProtoTable {
  messages: Record<string, ProtoMessage>;
  enums: Record<string, string[]>;
}

/** proto name -> lowerCamelCase JSON name, as protoc derives json_name. */
export const jsonName = (name: string): string => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const isInteger = (v: unknown, bits: 32 | 64): boolean => {
  if (typeof v === 'number') return Number.isInteger(v) && (bits === 64 || Math.abs(v) < 2 ** 31);
  return typeof v === 'string' && /^-?\d+$/.test(v) && (bits === 64 || Math.abs(Number(v)) < 2 ** 31);
};

const names = new WeakMap<ProtoMessage, Map<string, string>>();

/** A message's fields by proto name and by JSON name. */
function namesOf(message: ProtoMessage): Map<string, string> {
  let m = names.get(message);
  if (!m)
    names.set(
      message,
      (m = new Map(
        Object.keys(message.fields).flatMap(
          (f) =>
            [
              [f, f],
              [jsonName(f), f],
            ] as [string, string][],
        ),
      )),
    );
  return m;
}

/** Problems of `value` as message `name`; `given` names fields set from elsewhere (URL path bindings). */
export function checkProto(table: ProtoTable, name: string, value: unknown, path = '', given: readonly string[] = []): string[] {
  const message = table.messages[name];
  if (!message) return [`${path || '/'}: ${name} is not described in the rule table`];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path || '/'}: a ${name} must be a JSON object`];
  const problems: string[] = [];
  const byJson = namesOf(message);
  const set = new Set<string>(given);
  const seen = new Map<string, string>();
  for (const [key, v] of Object.entries(value)) {
    const field = byJson.get(key);
    const at = `${path}/${key}`;
    if (!field) {
      problems.push(`${at}: ${name} has no field \`${key}\``);
      continue;
    }
    const spec = message.fields[field]!;
    if (seen.has(field)) problems.push(`${at}: ${field} given twice (as ${seen.get(field)} and ${key})`);
    seen.set(field, key);
    if (v === null) continue;
    if (spec.outputOnly) problems.push(`${at}: ${name}.${field} is output only`);
    set.add(field);
    if (spec.repeated) {
      if (!Array.isArray(v)) problems.push(`${at}: ${name}.${field} is repeated: an array`);
      else v.forEach((item, i) => problems.push(...checkValue(table, spec, item, `${at}/${i}`, `${name}.${field}`)));
    } else problems.push(...checkValue(table, spec, v, at, `${name}.${field}`));
  }
  for (const [field, spec] of Object.entries(message.fields)) {
    if (spec.required && !set.has(field)) problems.push(`${path || '/'}: ${name}.${field} is required`);
  }
  const members = new Map<string, string[]>();
  for (const field of set) {
    const oneof = message.fields[field]?.oneof;
    if (oneof) members.set(oneof, [...(members.get(oneof) ?? []), field]);
  }
  for (const [oneof, fields] of members)
    if (fields.length > 1) problems.push(`${path || '/'}: ${name}.${oneof} is a oneof: ${fields.join(' and ')} are both set`);
  for (const oneof of message.exactlyOne ?? []) {
    if (!members.has(oneof)) problems.push(`${path || '/'}: ${name}.${oneof}: exactly one must be specified, none is`);
  }
  return problems;
}

function checkValue(table: ProtoTable, spec: ProtoField, v: unknown, at: string, what: string): string[] {
  const t = spec.type;
  const bad = (expected: string) => [`${at}: ${what} takes ${expected}, not ${JSON.stringify(v)?.slice(0, 60)}`];
  if (t === 'opaque') return [];
  if (t === 'string') return typeof v === 'string' ? [] : bad('a string');
  if (t === 'bool') return typeof v === 'boolean' ? [] : bad('true or false');
  if (t === 'double') return typeof v === 'number' ? [] : bad('a number');
  if (t === 'int32' || t === 'int64') {
    if (!isInteger(v, t === 'int32' ? 32 : 64)) return bad(`an ${t}`);
    const n = Number(v);
    if (spec.range && (n < spec.range[0] || n > spec.range[1]))
      return [`${at}: ${what} must be between ${spec.range[0]} and ${spec.range[1]} inclusive, not ${n}`];
    return [];
  }
  if (t.startsWith('enum:')) {
    const values = table.enums[t.slice(5)] ?? [];
    if (typeof v === 'string') return values.includes(v) ? [] : bad(`one of ${values.join(', ')}`);
    return typeof v === 'number' && Number.isInteger(v) ? [] : bad('an enum name');
  }
  return checkProto(table, t.slice(8), v, at);
}
