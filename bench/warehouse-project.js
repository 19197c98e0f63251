// The generated project of the compile bench: 10,000 warehouse syncs over 100 files, three
// dialects, every record and audience mode, write-back and loads into another warehouse. Each
// record sync writes a table of its own, named by its file too, since the files' sources and
// destinations of a dialect reach one warehouse (two syncs writing one table, a mirror among
// them, are refused: SW0124); audiences share membership tables. It checks clean
// (test/bench-projects.test.ts).

export const SYNCS = 10_000;
export const FILES = 100;

const sources = [
  ['postgres', 'database "acme"'],
  ['snowflake', 'account "acme-prod"  database "ANALYTICS"'],
  ['bigquery', 'project "acme-analytics"'],
];
const records = ['upsert', 'insert', 'update', 'mirror'];
const audiences = ['add', 'remove', 'mirror', 'upsert'];

export function generateFile(f) {
  const [dialect, settings] = sources[f % sources.length];
  const other = sources[(f + 1) % sources.length][0];
  const otherSettings = {
    postgres: 'host "db.acme.io"  database "dw"  user "sync"  password env("PGPASSWORD")',
    snowflake: 'account "acme-dw"  warehouse "load"  database "DW"  user "SYNC"  password env("SF_PASSWORD")',
    bigquery: 'project "acme-dw"',
  }[other];
  const out = [`source wh_${f} : ${dialect} {\n  ${settings}\n}\n`, `destination dw_${f} : ${other} {\n  ${otherSettings}\n}\n`];
  for (let m = 0; m < 10; m++) {
    out.push(`model users_${f}_${m} {
  from wh_${f}
  table analytics.users_${m}
  order by updated_at desc
  columns {
    user_id bigint
    email string
    "Full Name" string?
    plan string
    ltv decimal(12, 2)
    country string?
    updated_at timestamp
  }
}
audience whales_${f}_${m} {
  from users_${f}_${m}
  where ltv >= ${m * 100} and country in ('US', 'CA')
}
`);
  }
  const perFile = SYNCS / FILES;
  for (let i = 0; i < perFile; i++) {
    const m = i % 10;
    const audience = i % 3 === 2;
    const mode = audience ? audiences[i % 4] : records[i % 4];
    const to = i % 5 === 4 ? `dw_${f}` : `wh_${f}`;
    const guard = mode === 'mirror' || mode === 'remove' ? `guard deletes <= ${1 + (i % 20)}%` : '';
    const map = i % 2 === 0 ? 'map { email -> email  plan -> plan_tier  ltv -> ltv }' : 'map { "Full Name" -> full_name  ltv -> lifetime_value }';
    out.push(`sync s_${f}_${i} {
  from ${audience ? `whales_${f}_${m}` : `users_${f}_${m}`}
  to ${to} table crm.${audience ? `members_${i % 7}` : `users_${f}_${i}`}
  mode ${mode}
  identifier ${audience ? 'email -> email_sha256 hashed' : 'user_id -> id'}
  ${map}
  ${guard}
}
`);
  }
  return out.join('\n');
}
