/**
 * Identifier normalisation and SHA-256, executed in SQL, against vectors computed here with
 * node:crypto over hand-normalised strings: Meta and Google Ads rules for email and phone.
 */
import { createHash } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from './support/engines.js';
import { compileSync, file } from './fixtures/api/compile.js';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

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
    email: '  John.Doe+promo@Gmail.com ', meta: 'john.doe+promo@gmail.com', google: 'johndoe@gmail.com',
    phone: '+1 (555) 010-9999', metaPhone: '15550109999', googlePhone: '+15550109999',
  },
  {
    email: 'A.B.C@GoogleMail.com', meta: 'a.b.c@googlemail.com', google: 'abc@googlemail.com',
    phone: '0044 20 7946 0000', metaPhone: '442079460000', googlePhone: '+442079460000',
  },
  {
    email: 'Jane.Doe+x@Example.COM', meta: 'jane.doe+x@example.com', google: 'jane.doe+x@example.com',
    phone: ' 33-6-12-34-56-78 ', metaPhone: '33612345678', googlePhone: '+33612345678',
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
