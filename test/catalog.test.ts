import type { ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import {
  destinationSettingsValidator,
  destinationTypes,
  getDestinationType,
  getSourceSettingsSchema,
  limitsFor,
  modeMatrix,
  objectKindOf,
  requireDestinationType,
  requireSourceSettingsSchema,
  resolveField,
  sourceDialects,
  sourceSettingDefaults,
  sourceSettingsValidator,
} from '../src/catalog/index.js';
import { secretSettingsOf } from '../src/catalog/settings.js';
import { columnTypes } from '../src/catalog/types.js';

const env = (name: string) => ({ env: name });

/** The errors about one setting, so that rules between settings (one of password, private_key) do not interfere. */
function errorsAt(validate: ValidateFunction, settings: Record<string, unknown>, name: string): string[] {
  validate(settings);
  return (validate.errors ?? []).filter((e) => e.instancePath === `/${name}`).map((e) => `${e.schemaPath} ${e.message ?? ''}`);
}

/** One realistic settings block and one wrong one per destination type, as ajv sees them. */
const destinationExamples: Record<string, { valid: Record<string, unknown>; invalid: Record<string, unknown> }> = {
  amplitude: { valid: { api_key: env('AMPLITUDE_KEY'), region: 'eu' }, invalid: { api_key: env('AMPLITUDE_KEY'), region: 'asia' } },
  bigquery: {
    valid: { project: 'acme-analytics', dataset: 'crm', location: 'EU', credentials: env('GCP_KEY') },
    invalid: { dataset: 'crm' },
  },
  braze: {
    valid: { api_key: env('BRAZE_KEY'), rest_endpoint: 'https://rest.iad-01.braze.com' },
    invalid: { api_key: env('BRAZE_KEY'), rest_endpoint: 'https://example.com' },
  },
  facebook_ads: { valid: { ad_account: 'act_1234567890', token: env('META_TOKEN') }, invalid: { ad_account: '1234567890', token: env('META_TOKEN') } },
  gcs: { valid: { bucket: 'acme-exports', prefix: 'syncs/', credentials: env('GCP_KEY') }, invalid: { bucket: 'Acme Exports' } },
  google_ads: {
    valid: {
      customer_id: '123-456-7890',
      login_customer_id: '9876543210',
      developer_token: env('GADS_DEV_TOKEN'),
      client_id: 'abc.apps.googleusercontent.com',
      client_secret: env('GADS_CLIENT_SECRET'),
      refresh_token: env('GADS_REFRESH_TOKEN'),
    },
    invalid: {
      customer_id: '12345',
      developer_token: env('GADS_DEV_TOKEN'),
      client_id: 'abc',
      client_secret: env('GADS_CLIENT_SECRET'),
      refresh_token: env('GADS_REFRESH_TOKEN'),
    },
  },
  hubspot: { valid: { token: env('HUBSPOT_TOKEN') }, invalid: { token: env('HUBSPOT_TOKEN'), portal: 123 } },
  kafka: {
    valid: {
      brokers: 'b1.acme.io:9092,b2.acme.io:9092',
      sasl_mechanism: 'scram-sha-512',
      sasl_username: 'sync',
      sasl_password: env('KAFKA_PASSWORD'),
      ssl: true,
    },
    invalid: { brokers: 'b1.acme.io:9092', sasl_username: 'sync' },
  },
  kinesis: {
    valid: { region: 'eu-west-1', access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: env('AWS_SECRET_ACCESS_KEY') },
    invalid: { region: 'eu-west-1', access_key_id: 'AKIAIOSFODNN7EXAMPLE' },
  },
  klaviyo: { valid: { api_key: env('KLAVIYO_KEY'), revision: '2024-10-15' }, invalid: {} },
  mixpanel: {
    valid: {
      project_token: env('MIXPANEL_TOKEN'),
      project_id: 12345,
      service_account_username: 'sync.1a2b.mp-service-account',
      service_account_secret: env('MP_SA'),
      region: 'eu',
    },
    invalid: { project_token: env('MIXPANEL_TOKEN'), service_account_username: 'sync.1a2b.mp-service-account' },
  },
  postgres: {
    valid: { host: 'replica.acme.internal', port: 5432, database: 'crm', schema: 'public', user: 'sync', password: env('PG_PASSWORD'), version: 17 },
    invalid: { host: 'replica.acme.internal', database: 'crm', user: 'sync', password: env('PG_PASSWORD'), version: 14 },
  },
  s3: {
    valid: {
      bucket: 'acme-exports',
      region: 'us-east-1',
      prefix: 'syncs/',
      access_key_id: env('AWS_ACCESS_KEY_ID'),
      secret_access_key: env('AWS_SECRET_ACCESS_KEY'),
    },
    invalid: { bucket: 'acme-exports', region: 'us east' },
  },
  salesforce: {
    valid: {
      instance_url: 'https://acme.my.salesforce.com',
      client_id: '3MVG9abc',
      client_secret: env('SF_CLIENT_SECRET'),
      refresh_token: env('SF_REFRESH_TOKEN'),
      api_version: '62.0',
    },
    invalid: {
      instance_url: 'http://acme.my.salesforce.com',
      client_id: '3MVG9abc',
      client_secret: env('SF_CLIENT_SECRET'),
      refresh_token: env('SF_REFRESH_TOKEN'),
    },
  },
  slack: { valid: { token: env('SLACK_BOT_TOKEN'), default_channel: '#sales' }, invalid: { default_channel: '#sales' } },
  snowflake: {
    valid: { account: 'acme-prod', warehouse: 'SYNC_WH', database: 'CRM', schema: 'PUBLIC', role: 'SYNC', user: 'SYNC', private_key: env('SF_KEY') },
    invalid: { account: 'acme-prod', warehouse: 'SYNC_WH', database: 'CRM', user: 'SYNC', password: env('SF_PW'), private_key: env('SF_KEY') },
  },
  webhook: {
    valid: { url: 'https://hooks.acme.io/syncs', secret: env('HOOK_SECRET'), method: 'PUT', batch: true },
    invalid: { url: 'https://hooks.acme.io/syncs', method: 'PATCH' },
  },
};

const sourceExamples: Record<string, { valid: Record<string, unknown>; invalid: Record<string, unknown> }> = {
  postgres: { valid: { database: 'acme', schema: 'analytics', version: 15 }, invalid: { database: 'acme', version: '15' } },
  snowflake: {
    valid: { account: 'acme-prod', database: 'ANALYTICS', warehouse: env('SF_WAREHOUSE'), state_schema: 'SYNCWRIGHT' },
    invalid: { database: 'ANALYTICS' },
  },
  bigquery: { valid: { project: 'acme-analytics', location: 'US' }, invalid: { project: 'acme-analytics', dataset: 'has-dash' } },
};

const allTypes = [
  'amplitude',
  'bigquery',
  'braze',
  'facebook_ads',
  'gcs',
  'google_ads',
  'hubspot',
  'kafka',
  'kinesis',
  'klaviyo',
  'mixpanel',
  'postgres',
  's3',
  'salesforce',
  'slack',
  'snowflake',
  'webhook',
];

describe('the registry', () => {
  it('holds all 17 destination types, ordered by name, each with an example', () => {
    expect([...destinationTypes.keys()]).toEqual(allTypes);
    expect(Object.keys(destinationExamples).sort()).toEqual(allTypes);
  });

  it('returns undefined for an unknown name and throws when one is required', () => {
    expect(getDestinationType('hubspott')).toBeUndefined();
    expect(() => requireDestinationType('hubspott')).toThrow(/unknown destination type 'hubspott'/);
    expect(() => destinationSettingsValidator('nope')).toThrow(/unknown destination type/);
    expect(getSourceSettingsSchema('mysql')).toBeUndefined();
    expect(() => requireSourceSettingsSchema('mysql')).toThrow(/unknown source dialect 'mysql'/);
    expect(() => sourceSettingsValidator('mysql')).toThrow(/unknown source dialect/);
  });

  it('compiles each validator once', () => {
    expect(destinationSettingsValidator('hubspot')).toBe(destinationSettingsValidator('hubspot'));
  });
});

describe.each([...destinationTypes.values()])('destination type $type', (d) => {
  const example = destinationExamples[d.type]!;

  it('takes its category row of the mode matrix unless it says why', () => {
    const row = modeMatrix[d.category];
    if (d.modesWhy === undefined) {
      expect(d.recordModes).toEqual(row.records);
      expect(d.audienceModes).toEqual(row.audiences);
    } else {
      expect([d.recordModes, d.audienceModes]).not.toEqual([row.records, row.audiences]);
    }
  });

  it('has object kinds that fit its modes', () => {
    expect(d.objectKinds.length).toBeGreaterThan(0);
    expect(d.objectKinds.some((k) => k.records !== false)).toBe(d.recordModes.length > 0);
    expect(d.objectKinds.some((k) => k.audience === true)).toBe(d.audienceModes.length > 0);
    expect(new Set(d.objectKinds.map((k) => k.kind)).size).toBe(d.objectKinds.length);
  });

  it('accepts a realistic settings block and rejects a wrong one', () => {
    const validate = destinationSettingsValidator(d.type);
    expect(validate(example.valid), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(example.invalid)).toBe(false);
  });

  it("takes only literals for the settings its plan is made with (a webhook's method and batching)", () => {
    if (d.type !== 'webhook') return;
    const validate = destinationSettingsValidator(d.type);
    const url = 'https://hooks.acme.io/syncs';
    expect(validate({ url, method: 'PUT', batch: true })).toBe(true);
    expect(validate({ url, method: env('HOOK_METHOD') })).toBe(false);
    expect(validate({ url, batch: env('HOOK_BATCH') })).toBe(false);
  });

  it('takes secrets only through env()', () => {
    const validate = destinationSettingsValidator(d.type);
    for (const name of d.secretSettings) {
      expect(errorsAt(validate, { ...example.valid, [name]: 'inline-value' }, name)).not.toEqual([]);
      expect(errorsAt(validate, { ...example.valid, [name]: env('X') }, name)).toEqual([]);
    }
  });

  it('rejects unknown settings', () => {
    expect(destinationSettingsValidator(d.type)({ ...example.valid, unknown_setting: 'x' })).toBe(false);
  });

  it('has positive limits with the default batch within the maximum', () => {
    for (const limits of [d.limits, ...d.objectKinds.map((k) => limitsFor(d, k))]) {
      expect(limits.defaultBatch).toBeGreaterThan(0);
      expect(limits.defaultBatch).toBeLessThanOrEqual(limits.maxBatch);
      if (limits.rateLimit) expect(Math.min(limits.rateLimit.requests, limits.rateLimit.perSeconds)).toBeGreaterThan(0);
      if (limits.maxPayloadBytes !== undefined) expect(limits.maxPayloadBytes).toBeGreaterThan(0);
    }
  });

  it('names only column types of the language', () => {
    for (const t of d.fieldTypes ?? []) expect(columnTypes).toContain(t);
    expect(d.docs).toMatch(/^https:\/\//);
  });
});

describe('what the semantics fix', () => {
  it('offers for Kafka only the compression the executor writes (gzip, none): check says so, not the run', () => {
    const valid = destinationSettingsValidator('kafka');
    expect(valid({ brokers: 'b:9092', compression: 'gzip' })).toBe(true);
    for (const codec of ['zstd', 'lz4', 'snappy']) expect(valid({ brokers: 'b:9092', compression: codec })).toBe(false);
  });

  it('refuses insert and update on ad platforms, and audience upsert there', () => {
    for (const name of ['google_ads', 'facebook_ads']) {
      const d = requireDestinationType(name);
      expect(d.recordModes).toEqual(['upsert', 'mirror']);
      expect(d.audienceModes).not.toContain('upsert');
      expect(d.fieldTypes).toEqual(['string']);
    }
    // Their fields are a closed set of identifiers, the identifier always hashed.
    for (const name of ['google_ads', 'facebook_ads']) {
      const rules = requireDestinationType(name).objectKinds[0]!.fields!;
      expect(rules.closed).toBe(true);
      expect(rules.hashIdentifier).toBe(true);
    }
  });

  it('counts identifiers, not rows, where the API does: Google Ads takes 100,000 per request', () => {
    const google = requireDestinationType('google_ads');
    const kind = objectKindOf(google, undefined, 'audience');
    expect(limitsFor(google, kind, 1)).toMatchObject({ maxBatch: 100_000, defaultBatch: 10_000 });
    expect(limitsFor(google, kind, 2)).toMatchObject({ maxBatch: 50_000, defaultBatch: 10_000 });
    expect(limitsFor(google, kind, 20).maxBatch).toBe(5_000);
  });

  it('gives every field rule a reference, and resolves names as the requests spell them', () => {
    for (const d of destinationTypes.values()) for (const k of d.objectKinds) if (k.fields) expect(k.fields.docs, `${d.type} ${k.kind}`).toMatch(/^https:\/\//);
    const meta = requireDestinationType('facebook_ads').objectKinds[0]!.fields;
    expect(resolveField(meta, 'email').name).toBe('EMAIL');
    const google = requireDestinationType('google_ads').objectKinds[0]!.fields;
    expect(resolveField(google, 'hashed_phone_number').name).toBe('hashedPhoneNumber');
    expect(resolveField(google, 'mobile_id').spec).toBeUndefined();
  });

  it('lets both CRMs mirror, with a reason', () => {
    for (const name of ['hubspot', 'salesforce']) {
      const d = requireDestinationType(name);
      expect(d.recordModes).toContain('mirror');
      expect(d.modesWhy).toBeTruthy();
      expect(d.fieldTypes).not.toContain('json');
    }
  });

  it('derives secret settings from the schemas', () => {
    expect(requireDestinationType('hubspot').secretSettings).toEqual(['token']);
    expect(requireDestinationType('salesforce').secretSettings).toEqual(['client_secret', 'refresh_token']);
    expect(requireDestinationType('webhook').secretSettings).toEqual(['secret']);
    expect(secretSettingsOf(requireSourceSettingsSchema('postgres'))).toEqual(['password']);
  });

  it('defaults the object kind only where one kind fits', () => {
    const hubspot = requireDestinationType('hubspot');
    expect(hubspot.defaultObjectKind).toEqual({ records: 'object', audiences: 'list' });
    expect(objectKindOf(hubspot, undefined, 'audience')?.kind).toBe('list');
    expect(requireDestinationType('amplitude').defaultObjectKind).toBeUndefined();
    expect(requireDestinationType('slack').defaultObjectKind).toEqual({ records: 'channel' });
    expect(objectKindOf(requireDestinationType('amplitude'), 'event', 'record')?.kind).toBe('event');
  });

  it('limits Klaviyo list calls to 1,000 profiles and Slack to one message', () => {
    const klaviyo = requireDestinationType('klaviyo');
    expect(limitsFor(klaviyo, objectKindOf(klaviyo, 'list', 'audience')).maxBatch).toBe(1_000);
    expect(limitsFor(klaviyo, objectKindOf(klaviyo, 'object', 'record')).maxBatch).toBe(10_000);
    expect(requireDestinationType('slack').limits.maxBatch).toBe(1);
    expect(requireDestinationType('slack').message).toBe('required');
    expect(requireDestinationType('webhook').message).toBe('optional');
    expect(requireDestinationType('s3').formats).toEqual(['csv', 'jsonl', 'parquet']);
  });
});

describe.each(sourceDialects.map((dialect) => ({ dialect })))('source dialect $dialect', ({ dialect }) => {
  const example = sourceExamples[dialect]!;

  it('accepts a realistic settings block and rejects a wrong one', () => {
    const validate = sourceSettingsValidator(dialect);
    expect(validate(example.valid), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(example.invalid)).toBe(false);
  });

  it('takes secrets only through env() and keeps snapshots in syncwright by default', () => {
    const schema = requireSourceSettingsSchema(dialect);
    const validate = sourceSettingsValidator(dialect);
    for (const name of secretSettingsOf(schema)) {
      expect(errorsAt(validate, { ...example.valid, [name]: 'inline-value' }, name)).not.toEqual([]);
      expect(errorsAt(validate, { ...example.valid, [name]: env('X') }, name)).toEqual([]);
    }
    expect(sourceSettingDefaults(dialect).state_schema).toBe('syncwright');
  });
});

it('defaults postgres sources to version 15', () => {
  expect(sourceSettingDefaults('postgres')).toMatchObject({ version: 15, port: 5432 });
});
