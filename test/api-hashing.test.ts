/**
 * Identifier normalisation and SHA-256, executed in SQL, against vectors computed here with
 * node:crypto over hand-normalised strings (Meta and Google Ads rules for email and phone), and
 * every Meta customer-file key against digests computed by Meta's SDK code; every step of every
 * rule against its JavaScript reference (test/contracts/normalise.ts), on generated strings.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEngines } from './support/engines.js';
import { compileSync, file } from './fixtures/api/compile.js';
import { requireDestinationType } from '../src/catalog/index.js';
import { normalise, sha256 } from './contracts/normalise.js';
import { apiSqlDialect } from '../src/emit/api-dialect.js';
import { plainNormalisation } from '../src/catalog/fields.js';
import { compile } from '../src/index.js';

const project = `
source wh : postgres { database "app" }
model people {
  from wh
  table app.people
  primary key email
  columns { email string phone string }
}
destination meta : facebook_ads { ad_account "act_123" token env("META_TOKEN") }
destination google : google_ads {
  customer_id "123-456-7890"
  developer_token env("GADS_DEV") client_id "cid" client_secret env("GADS_SECRET") refresh_token env("GADS_REFRESH")
}
sync people_meta {
  from people
  to meta audience "People"
  mode upsert
  identifier email -> EMAIL hashed
  map { phone -> PHONE hashed }
}
sync people_google {
  from people
  to google audience "People"
  mode upsert
  identifier email -> hashedEmail hashed
  map { phone -> hashedPhoneNumber hashed }
}
`;

/** Raw values, and what each platform's rules make of them, written out by hand. */
const vectors = [
  {
    email: '  John.Doe+promo@Gmail.com ',
    meta: 'john.doe+promo@gmail.com',
    google: 'johndoe@gmail.com',
    phone: '+1 (555) 010-9999',
    metaPhone: '15550109999',
    googlePhone: '+15550109999',
  },
  {
    email: 'A.B.C@GoogleMail.com',
    meta: 'a.b.c@googlemail.com',
    google: 'abc@googlemail.com',
    phone: '0044 20 7946 0000',
    metaPhone: '442079460000',
    googlePhone: '+442079460000',
  },
  {
    email: 'Jane.Doe+x@Example.COM',
    meta: 'jane.doe+x@example.com',
    google: 'jane.doe+x@example.com',
    phone: ' 33-6-12-34-56-78 ',
    metaPhone: '33612345678',
    googlePhone: '+33612345678',
  },
];

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

describeEngines('identifier normalisation and hashing', (engine) => {
  beforeAll(async () => {
    const rows = vectors.map((v) => `(${sqlString(v.email)}, ${sqlString(v.phone)})`).join(', ');
    // A blank email normalises to nothing: a NULL key, dropped and counted.
    await engine.exec(`CREATE SCHEMA app; CREATE TABLE app.people (email text, phone text); INSERT INTO app.people VALUES ${rows}, ('   ', '1');`);
  });

  for (const platform of ['meta', 'google'] as const) {
    it(`hashes ${platform} identifiers over the normalised values`, async () => {
      const artifacts = compileSync(project, `people_${platform}`);
      const changes = file(artifacts, 'changes.sql');
      await engine.exec(changes);
      const [summary] = await engine.query<{ null_keys: number }>(changes.slice(changes.indexOf("-- The run's summary")));
      expect(Number(summary!.null_keys)).toBe(1);
      const rows = await engine.query<{ row_key: string; payload: string }>(file(artifacts, 'read.sql'));
      const phoneField = platform === 'meta' ? 'PHONE' : 'hashedPhoneNumber';
      const got = rows.map((r) => ({ key: r.row_key, phone: (JSON.parse(r.payload) as Record<string, string>)[phoneField] }));
      const want = vectors.map((v) => ({
        key: sha256(platform === 'meta' ? v.meta : v.google),
        phone: sha256(platform === 'meta' ? v.metaPhone : v.googlePhone),
      }));
      expect(sortBy(got)).toEqual(sortBy(want));
    });
  }
});

const sortBy = <T extends { key: string }>(xs: T[]) => [...xs].sort((a, b) => a.key.localeCompare(b.key));

it('states the vectors independently of the SQL: one known SHA-256', () => {
  expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

/**
 * Meta's keys: raw value and the digest Meta's own code gives it. Computed by running the
 * normalisation of facebook-python-business-sdk (CustomAudienceMixin.format_params: strip
 * " \\t\\r\\n\\0\\x0B." and lower-case, then normalize_key; SHA-256 of the UTF-8), with the two
 * rules Meta's hashing guide adds to the SDK's: a phone without leading zeros, a zip code
 * without spaces. EXTERN_ID is sent normalised, not hashed.
 */
const metaVectors: [key: string, raw: string, digest: string][] = [
  ['EMAIL', '  Mary.Jane@Example.COM. ', '8bf381fd6547d5ca489d3ddfc7b3025c0c71935d4295d68ab545a667967660be'],
  ['EMAIL', "\tO'Brien+ads@Mail.IE\n", 'a5d48b02b7a54a4f8681d294fd926fd6f11b591931cf4c136fbd7f86c1733eaa'],
  ['PHONE', '+1 (650) 555-1212', 'e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176'],
  ['PHONE', '0044 20 7946 0958', '35e206e5dec4c89b9e8b71b8c32724a5bb518483ac5a20c6617d738375b3b823'],
  ['FN', 'Mary-Jane', 'f08f448a5e7a9dc3619bb7c129f6a7d5fc6af002cea17ad71dfdc1c68f4d4e0e'],
  ['LN', "O'Brien", 'b4cb6cb33fe4b865868de825023a1e2790dc12ac01ecc8d7c5afe8254071c8ba'],
  ['LN', 'van der Berg 3rd', 'b59d3997e340cb956bf0a58464216a39cdfee861db8a5ab2ed6ae46f357379e0'],
  ['FI', ' J. ', '189f40034be7a199f1fa9891668ee3ab6049f82d38c68be70f596eab2e1857b7'],
  ['CT', 'San Francisco', '1a6bd4d9d79dc0a79b53795c70d3349fa9e38968a3fbefbfe8783efb1d2b6aac'],
  ['CT', 'Saint-Étienne', 'c14269527c1426d240cd0e2fe136076b71086bb29cd105f9195c0495c6c4c695'],
  ['ST', ' CA ', '6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126'],
  ['ZIP', '94103-1234', '91dc2519ea98c5002cf2091e6a12b772eafdce9dca618e626d7d3b8275361789'],
  ['ZIP', ' SW1A 1AA ', '830e1d4b9838bab1f5c2acdb23e0b502ff13a9832c4632e8d67a1d43d3b7f614'],
  ['COUNTRY', 'U.S.', '79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621'],
  ['COUNTRY', ' gb ', '0b407281768f0e833afef47ed464b6571d01ca4d53c12ce5c51d1462f4ad6677'],
  ['DOBY', '1984', '4dea5c7cb70f50322ec9d734aa4aa078be9227c05251e18991c596f387552370'],
  ['DOBM', '3', '0b8efa5a3bf104413a725c6ff0459a6be12b1fd33314cbb138745baf39504ae5'],
  ['DOBD', ' 07 ', '19b100ab7725c612f3d80ff203ca53cea5cadaafae3bf0f88f0fb4089fe08815'],
  ['GEN', 'Female', '252f10c83610ebca1a059c0bae8255eba2f95be4d1d7bcfa89d7248a82d9f111'],
  ['GEN', ' M ', '62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a'],
  ['EXTERN_ID', ' CUST-00042 ', 'cust-00042'],
];

const metaKeys = requireDestinationType('facebook_ads').objectKinds[0]!.fields!.fields;

describe("Meta keys: the catalog's steps give the SDK's digests", () => {
  it.each(metaVectors)('%s %j', (key, raw, digest) => {
    const spec = metaKeys[key]!;
    const value = normalise(raw, spec.normalise ?? []);
    expect(spec.hashed === 'never' ? value : sha256(value ?? '')).toBe(digest);
  });
});

/** One column per Meta key (k_email, k_phone, ...), EMAIL the identifier. */
const keyNames = [...new Set(metaVectors.map(([k]) => k))];
const column = (key: string) => `k_${key.toLowerCase()}`;
const metaProject = `
source wh : postgres { database "app" }
model people {
  from wh
  table app.meta_people
  primary key n
  columns { n int ${keyNames.map((k) => `${column(k)} string?`).join(' ')} }
}
destination meta : facebook_ads { ad_account "act_123" token env("META_TOKEN") }
sync people_meta {
  from people
  to meta audience "People"
  mode upsert
  identifier ${column('EMAIL')} -> EMAIL hashed
  map { ${keyNames
    .filter((k) => k !== 'EMAIL')
    .map((k) => `${column(k)} -> ${k}${metaKeys[k]!.hashed === 'never' ? '' : ' hashed'}`)
    .join(' ')} }
}
`;

const sqlLiteral = (v: string | null) => (v === null ? 'NULL' : `'${v.replaceAll("'", "''")}'`);

describeEngines('Meta customer-file keys, normalised and hashed in SQL', (engine) => {
  // Row i holds the i-th vector of each key (keys with fewer vectors are NULL there: blank).
  const rows = Array.from({ length: Math.max(...keyNames.map((k) => metaVectors.filter(([x]) => x === k).length)) }, (_, i) =>
    Object.fromEntries(keyNames.map((k) => [k, metaVectors.filter(([x]) => x === k)[i] ?? null])),
  );
  beforeAll(async () => {
    const values = rows.map((r, i) => `(${i + 1}, ${keyNames.map((k) => sqlLiteral(r[k]?.[1] ?? null)).join(', ')})`);
    await engine.exec(
      `CREATE SCHEMA IF NOT EXISTS app; CREATE TABLE app.meta_people (n int, ${keyNames.map((k) => `${column(k)} text`).join(', ')}); INSERT INTO app.meta_people VALUES ${values.join(', ')};`,
    );
  });

  it("sends each key as Meta's SDK computes it, and an unknown key blank", async () => {
    const artifacts = compileSync(metaProject, 'people_meta');
    await engine.exec(file(artifacts, 'changes.sql'));
    const got = await engine.query<{ row_key: string; payload: string }>(file(artifacts, 'read.sql'));
    const byKey = new Map(got.map((r) => [r.row_key, JSON.parse(r.payload) as Record<string, string>]));
    for (const r of rows) {
      const payload = byKey.get(r.EMAIL![2]);
      expect(payload, `the row of ${r.EMAIL![1]}`).toBeDefined();
      for (const k of keyNames.filter((x) => x !== 'EMAIL')) expect(payload![k], `${k} of ${JSON.stringify(r[k]?.[1])}`).toBe(r[k]?.[2] ?? '');
    }
  });

  // Every step, of every rule of Meta and Google, as SQL and as its reference, on generated strings.
  const rules = [
    { name: 'hashed, where the destination has no rule', steps: plainNormalisation },
    ...Object.entries(metaKeys).map(([k, s]) => ({ name: `meta ${k}`, steps: s.normalise ?? [] })),
    ...Object.entries(requireDestinationType('google_ads').objectKinds[0]!.fields!.fields).map(([k, s]) => ({ name: `google ${k}`, steps: s.normalise ?? [] })),
  ];
  it('agrees with the JavaScript reference of each step on generated strings', async () => {
    // ASCII letters, digits, the characters the rules act on, and one letter outside a-z.
    const text = fc.string({ unit: fc.constantFrom(..."aZ09 .-+@_'\t\n\vxé".split('')), maxLength: 16 });
    const samples = fc
      .sample(fc.tuple(text, text), { numRuns: 60, seed: 12 })
      .map(([a, b]) => `${a}@${b}`)
      .concat(fc.sample(text, { numRuns: 60, seed: 7 }));
    const d = apiSqlDialect('postgres');
    for (const rule of rules) {
      // The rule's snippets, filled as the change set fills them, over each sample.
      const sql = rule.steps.reduce((inner, step) => d.fill(d.snippets.normalise[step], { v: inner }), '"t"."x"');
      const out = await engine.query<{ v: string | null }>(`SELECT ${sql} AS v FROM unnest($1::text[]) WITH ORDINALITY AS "t"("x", "n") ORDER BY "t"."n"`, [
        samples,
      ]);
      expect(
        out.map((o) => o.v),
        rule.name,
      ).toEqual(samples.map((x) => normalise(x, rule.steps)));
    }
  });
});

/**
 * `hashed` means one thing: the same mapping into an API destination (a HubSpot property, no
 * rule of its own) and into a warehouse table gives the same digest for every value, and the
 * digest of the value normalised as src/catalog/fields.ts says (`plainNormalisation`).
 */
const bothWays = `
source wh : postgres { database "app" }
model accounts {
  from wh
  table app.accounts
  primary key id
  columns { id int  email string  ref string? }
}
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
sync accounts_api {
  from accounts
  to crm object contacts
  mode upsert
  identifier email -> email
  map { ref -> external_ref hashed }
}
sync accounts_wh {
  from accounts
  to wh table crm.accounts
  mode upsert
  identifier id -> id
  map { email -> email  ref -> external_ref hashed }
}
`;
const refs = ['  Ann.Lee@Example.COM ', 'AbC-1', ' AbC-1', '', '   ', null, 'x@Y', 'É@Ü.de'];

describeEngines('one meaning of `hashed`, whichever way a value goes', (engine) => {
  beforeAll(async () => {
    const values = refs.map((r, i) => `(${i + 1}, 'p${i + 1}@example.com', ${sqlLiteral(r)})`).join(', ');
    await engine.exec(`CREATE SCHEMA IF NOT EXISTS app; CREATE TABLE app.accounts (id int, email text, ref text); INSERT INTO app.accounts VALUES ${values};
      CREATE SCHEMA IF NOT EXISTS crm; CREATE TABLE crm.accounts (id int PRIMARY KEY, email text, external_ref text);`);
  });

  it('the API change set and the warehouse script give the same digests, those of the reference', async () => {
    const built = compile([{ path: 'both.sync', text: bothWays }]);
    expect(built.ok).toBe(true);
    const of = (sync: string) => built.artifacts.find((a) => a.plan.sync.name === sync)!;
    const api = of('accounts_api');
    await engine.exec(file(api, 'changes.sql'));
    const sent = await engine.query<{ row_key: string; payload: string }>(file(api, 'read.sql'));
    // The identifier (email) is the row's key; the payload holds the mapped properties.
    const byEmail = new Map(sent.map((r) => [r.row_key, (JSON.parse(r.payload) as { external_ref?: string }).external_ref]));
    await engine.exec(file(of('accounts_wh'), 'apply.sql'));
    const stored = await engine.query<{ id: number; email: string; external_ref: string | null }>(
      'SELECT id, email, external_ref FROM crm.accounts ORDER BY id',
    );
    expect(stored).toHaveLength(refs.length);
    for (const [i, r] of refs.entries()) {
      const normalised = r === null ? null : normalise(r, plainNormalisation);
      // lower() of letters beyond ASCII follows the database's LC_CTYPE (the test server's is C):
      // there only the two paths are compared with each other.
      const want = r !== null && /[^\x00-\x7f]/.test(r) ? stored[i]!.external_ref : normalised === null ? null : sha256(normalised);
      expect(stored[i]!.external_ref, `warehouse, ${JSON.stringify(r)}`).toBe(want);
      // HubSpot takes "" for a value to clear (`nullAsEmpty`): no digest is sent as "".
      expect(byEmail.get(stored[i]!.email), `API, ${JSON.stringify(r)}`).toBe(want ?? '');
    }
    // The cases that differed: an email's case, and an empty value (hashed in one, left out in the other).
    expect(stored[0]!.external_ref).toBe(sha256('ann.lee@example.com'));
    expect(stored[1]!.external_ref).toBe(stored[2]!.external_ref);
    expect(stored[3]!.external_ref).toBeNull();
  });
});
