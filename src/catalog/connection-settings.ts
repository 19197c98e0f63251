/**
 * Connection settings shared by sources and destinations: one definition per warehouse
 * dialect and per cloud, so a source and a destination of the same system read alike.
 */
import type { JsonSchema } from './types.js';
import { oneOfValues, pattern, port, secret, text } from './settings.js';

/** Postgres majors the SQL is generated for: MERGE needs 15, NOT MATCHED BY SOURCE 17. */
export const postgresVersions = [15, 16, 17, 18] as const;

export const gcpCredentials = secret('a service account key (JSON); absent = application default credentials');

export const warehouseConnection = {
  postgres: {
    host: text(),
    port: port(5432),
    database: text(),
    schema: text('the schema of tables named without one (an exact name, or env("X")): the compiled SQL qualifies them with it'),
    user: text(),
    password: secret('the database password'),
    version: oneOfValues(postgresVersions, 15),
  },
  snowflake: {
    // Account identifiers: `orgname-accountname` or a legacy locator such as `xy12345.us-east-1`.
    account: pattern('^[A-Za-z0-9][A-Za-z0-9_.-]*$', 'the account identifier, e.g. myorg-myaccount'),
    warehouse: text(),
    database: text(),
    schema: text('the schema of tables named without one (an exact name, or env("X")): the compiled SQL qualifies them with it'),
    role: text(),
    user: text(),
    // The reference executor speaks the SQL API, which takes no password: it refuses one and says what to use.
    password: secret('the user password (not taken by the SQL API, which syncwright run speaks: use a key pair or a token)'),
    private_key: secret('a PEM private key for key-pair authentication (a JWT per request)'),
    private_key_passphrase: secret('the passphrase of an encrypted private_key'),
    token: secret(
      'an OAuth access token, or a programmatic access token (token_type PROGRAMMATIC_ACCESS_TOKEN: what to use for development instead of a password)',
    ),
    token_type: oneOfValues(['OAUTH', 'PROGRAMMATIC_ACCESS_TOKEN'], 'OAUTH'),
    endpoint: pattern(
      '^https?://[^\\s/]+(/\\S*)?$',
      'another address for the SQL API (a private-link host, a local server); absent = https://<account>.snowflakecomputing.com; syncwright run --endpoint NAME=URL overrides it',
    ),
  },
  bigquery: {
    // Project ids are 6-30 lower-case characters, optionally domain-scoped (`example.com:proj`).
    project: pattern('^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$', 'the Google Cloud project id'),
    dataset: pattern('^[A-Za-z0-9_]{1,1024}$', 'the dataset of tables named without one (or env("X")): the compiled SQL qualifies them with it'),
    location: text('the dataset location, e.g. US, EU or europe-west1'),
    credentials: gcpCredentials,
  },
} satisfies Record<string, Record<string, JsonSchema>>;

/** The setting that names where a table written without a schema is: its value qualifies such names in the compiled SQL. */
export const defaultSchemaSetting = { postgres: 'schema', snowflake: 'schema', bigquery: 'dataset' } as const;

/**
 * The settings that say which warehouse a connection reaches: two connections alike in these
 * write the same tables. The others choose how to reach it (user, role, compute warehouse).
 */
export const warehouseIdentity = { postgres: ['host', 'port', 'database'], snowflake: ['account', 'database'], bigquery: ['project'] } as const satisfies {
  [D in keyof typeof warehouseConnection]: readonly (keyof (typeof warehouseConnection)[D])[];
};

/** AWS: keys are optional since an instance or task role may supply them; both or neither. */
export const awsConnection = {
  region: pattern('^[a-z]{2}(-[a-z]+)+-[0-9]+$', 'an AWS region such as us-east-1'),
  access_key_id: pattern('^(AKIA|ASIA)[A-Z0-9]{16}$', 'an AWS access key id'),
  secret_access_key: secret('the AWS secret access key'),
  session_token: secret('an AWS session token, with temporary (ASIA) keys'),
};

/**
 * Another address for a service's API: an S3-compatible or local server, a VPC endpoint.
 * `syncwright run --endpoint NAME=URL` overrides it per run.
 */
export const serviceEndpoint = pattern(
  '^https?://[^\\s/]+(/\\S*)?$',
  'another address for the service API (an S3-compatible server, a VPC endpoint); absent = the service itself',
);

export const awsKeyRules: JsonSchema = {
  dependentRequired: { access_key_id: ['secret_access_key'], secret_access_key: ['access_key_id'], session_token: ['access_key_id'] },
};
