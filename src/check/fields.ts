/**
 * A sync's identifier and mapped fields against what the destination's API takes
 * (src/catalog/fields.ts): closed sets ("did you mean"), fields syncwright sets itself, the
 * fields a user is matched by, hashing, column types, field names, and modes that send no
 * mapped field. What the vendor would refuse is refused here, at its span.
 */
import type { FieldMapping } from '../syntax/ast.js';
import type { Span } from '../span.js';
import { resolveField, type DestinationType, type FieldRules } from '../catalog/index.js';
import type { SyncMode } from '../catalog/fields.js';
import { bareName, closest } from '../diagnostics/suggest.js';
import { insertAfter, remove, replaceWith, type Fix } from '../diagnostics/diagnostic.js';
import type { FieldMap } from './model.js';
import type { Reporter } from './report.js';

export interface FieldsToCheck {
  type: DestinationType;
  rules: FieldRules;
  mode: SyncMode;
  identifier: FieldMap | undefined;
  fields: FieldMap[];
  /** The sync's `map` item, when it has one. */
  map: { span: Span; mappings: readonly FieldMapping[] } | undefined;
  /** Where a missing field is reported when there is no `map`: the sync's name. */
  syncSpan: Span;
  /** The mapping each field was written in (the identifier's too): where a fix edits. A field sent without a `map` has none. */
  written: ReadonlyMap<FieldMap, FieldMapping>;
}

const list = (names: string[]) => names.map((n) => `\`${n}\``).join(', ');

/** `near` written for the field's name: in place of the name a mapping gives it, or after a column sent under its own name (`email -> EMAIL`). */
function renameField(c: FieldsToCheck, f: FieldMap, near: string): Fix[] {
  const m = c.written.get(f);
  const spelt = bareName(near) ?? JSON.stringify(near);
  if (!m) return [];
  return [m.field ? replaceWith(m.field.span, spelt) : insertAfter(m.column.span, ` -> ${spelt}`)];
}

/** `hashed` added to the mapping, or taken out of it (from the end of its field or column to its end). */
function hashedFix(c: FieldsToCheck, f: FieldMap, add: boolean): Fix[] {
  const m = c.written.get(f);
  if (!m) return [];
  if (add) return [insertAfter(m.span, ' hashed')];
  const before = (m.field ?? m.column).span;
  return [remove({ ...m.span, line: before.endLine, column: before.endColumn, offset: before.endOffset }, 'hashed')];
}
/** user_id, userId and User-ID are one name to a reader. */
const loose = (name: string) => name.toLowerCase().replace(/[-_\s]/g, '');

/** Of a catalog's field rules, read once for every sync that writes them. */
interface Offer {
  /** What a sync may map, one spelling each (proto JSON fields are listed once, by their proto name). */
  offered: string[];
  /** The first of `offered` by its loose spelling. */
  byLoose: Map<string, string>;
  /** The rules' pattern of field names, compiled. */
  names?: RegExp;
}
const offers = new WeakMap<FieldRules, Offer>();

function offerOf(rules: FieldRules): Offer {
  let offer = offers.get(rules);
  if (offer) return offer;
  const offered: string[] = [];
  const spellings = new Set<string>();
  for (const [n, s] of Object.entries(rules.fields)) {
    if (s.setBy || s.identifierOnly || spellings.has(s.as ?? n)) continue;
    spellings.add(s.as ?? n);
    offered.push(n);
  }
  const byLoose = new Map<string, string>();
  for (const o of offered) if (!byLoose.has(loose(o))) byLoose.set(loose(o), o);
  offer = { offered, byLoose, ...(rules.names ? { names: new RegExp(rules.names.pattern) } : {}) };
  offers.set(rules, offer);
  return offer;
}

export function checkFieldRules(c: FieldsToCheck, r: Reporter): void {
  const { type, rules, mode, identifier } = c;
  const { offered, byLoose, names } = offerOf(rules);
  if (c.map && rules.unmappedIn?.modes.includes(mode)) {
    // Removing the `map` changes nothing that is sent: it is the edit that keeps the sync as it works.
    r.report(
      'fields-not-sent',
      c.map.span,
      { type: type.type, mode },
      {
        hints: [`${rules.unmappedIn.why}: remove the \`map\`, or use a mode that writes fields`],
        fixes: [remove(c.map.span, 'map')],
      },
    );
  }
  for (const f of identifier ? [identifier, ...c.fields] : c.fields) {
    const isKey = f === identifier;
    const name = f.field.text;
    const span = f.field.span;
    const { spec } = resolveField(rules, name);
    if (rules.names && names?.test(name) === false) {
      r.report('invalid-field-name', span, { field: name, what: rules.names.what }, [
        `write the field's API name, the one ${type.type}'s API knows it by, not its label`,
      ]);
      continue;
    }
    if (!spec) {
      if (rules.closed) {
        const near = closest(name, offered);
        r.report(
          'unknown-destination-field',
          span,
          { type: type.type, field: name, what: rules.describes },
          {
            hints: [...(near ? [`did you mean \`${near}\`?`] : []), `${rules.describes}: ${offered.join(', ')} (${rules.docs})`],
            fixes: near ? renameField(c, f, near) : [],
          },
        );
        continue;
      }
      const near = byLoose.get(loose(name));
      if (near) {
        r.report(
          'reserved-field-spelling',
          span,
          { field: name, near, what: rules.describes },
          {
            hints: [`\`${near}\` has its own place in ${type.type}'s request; \`${name}\` is sent as an ordinary field`],
            fixes: renameField(c, f, near),
          },
        );
      }
      continue;
    }
    if (spec.setBy) {
      r.report('reserved-field', span, { type: type.type, field: name }, [spec.setBy]);
      continue;
    }
    if (spec.identifierOnly && !isKey) {
      r.report('reserved-field', span, { type: type.type, field: name }, [spec.identifierOnly]);
      continue;
    }
    const hashed = f.hashed || (isKey && rules.hashIdentifier === true && spec.hashed !== 'never');
    if (spec.hashed === 'required' && !hashed) {
      r.report(
        'field-hashing',
        span,
        { detail: `${type.type} takes \`${name}\` only SHA-256 hashed` },
        {
          hints: [`write \`${f.column.name.text} -> ${name} hashed\`: it is normalised and hashed in the warehouse`],
          fixes: hashedFix(c, f, true),
        },
      );
    } else if (spec.hashed === 'never' && f.hashed) {
      r.report(
        'field-hashing',
        span,
        { detail: `${type.type} takes \`${name}\` as it is, not hashed` },
        { hints: ['remove `hashed`'], fixes: hashedFix(c, f, false) },
      );
    }
    // An identifier is always sent as text, so only a mapped field's column type matters.
    if (!isKey && !f.hashed && spec.types && !spec.types.includes(f.column.type)) {
      r.report('unsupported-field-type', span, { column: f.column.name.text, type: f.column.type, destination: `\`${name}\`` }, [
        `${type.type} \`${name}\` takes: ${spec.types.join(', ')}`,
      ]);
    }
    if (isKey && spec.minChars !== undefined && (f.column.type === 'int' || f.column.type === 'bigint')) {
      r.report(
        'short-identifiers',
        span,
        { type: type.type, field: name, min: spec.minChars, column: f.column.name.text, columnType: f.column.type, below: 10 ** (spec.minChars - 1) },
        ['Amplitude Identify has no min_id_length option: pad the ids in the model (the same user_id as the events), or identify by device_id'],
      );
    }
  }
  checkIdentifierField(c, r);
  const sent = [identifier, ...c.fields].flatMap((f) => (f ? [resolveField(rules, f.field.text).name] : []));
  const mapped = (fields: string[]) => fields.some((n) => sent.includes(resolveField(rules, n).name));
  if (rules.needsOneOf && !mapped(rules.needsOneOf.fields)) {
    r.report('missing-destination-field', c.map?.span ?? c.syncSpan, { type: type.type, fields: list(rules.needsOneOf.fields) }, [
      `${rules.needsOneOf.why}: map a column to ${list(rules.needsOneOf.fields)}`,
    ]);
  }
  if (rules.advisesOneOf && !mapped(rules.advisesOneOf.fields)) {
    r.report('unmapped-advised-field', c.map?.span ?? c.syncSpan, { type: type.type, fields: list(rules.advisesOneOf.fields) }, [
      `${rules.advisesOneOf.why}: map a column to ${list(rules.advisesOneOf.fields)}`,
    ]);
  }
}

function checkIdentifierField(c: FieldsToCheck, r: Reporter): void {
  const rule = c.rules.identifiers;
  const id = c.identifier;
  if (!rule || !id || (rule.modes && !rule.modes.includes(c.mode))) return;
  const name = resolveField(c.rules, id.field.text).name;
  if (rule.fields.some((f) => resolveField(c.rules, f).name === name)) return;
  const near = closest(id.field.text, rule.fields);
  r.report(
    'unsupported-identifier-field',
    id.field.span,
    { type: c.type.type, field: id.field.text, fields: list(rule.fields) },
    {
      hints: [...(near ? [`did you mean \`${near}\`?`] : []), `${rule.why}${rule.modes ? ` (mode ${c.mode})` : ''}`],
      fixes: near ? renameField(c, id, near) : [],
    },
  );
}
