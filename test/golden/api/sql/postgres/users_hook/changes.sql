-- syncwright: sync users_hook, record mode insert, project.sync line 18
-- the change set against the snapshot of what hook accepted; ends with a one-row summary

-- The change set: the model's rows, mapped, normalised and hashed, against the snapshot of
-- what hook last accepted. A temporary table of this session, read by read.sql in
-- the same session: no other run, and no dry run, sees it or replaces it.
-- The state tables are made by one run at a time (runs of other syncs may make them too).
SELECT
  PG_ADVISORY_LOCK(8036464810771663505);

BEGIN;

SELECT
  PG_ADVISORY_XACT_LOCK(8036464810771663505);

SELECT
  PG_ADVISORY_UNLOCK(8036464810771663505);

CREATE SCHEMA IF NOT EXISTS "syncwright";

CREATE TABLE IF NOT EXISTS "syncwright"."users_hook_snapshot" (
  "row_key" TEXT NOT NULL PRIMARY KEY,
  "payload_hash" TEXT NOT NULL,
  "destination_id" TEXT
);

-- The executor inserts each row the destination accepted here, as it is accepted, with what
-- commit.sql needs to record it; commit.sql reads nothing else.
CREATE TABLE IF NOT EXISTS "syncwright"."users_hook_accepted_rows" (
  "row_key" TEXT NOT NULL,
  "change" TEXT NOT NULL,
  "payload_hash" TEXT,
  "destination_id" TEXT
);

COMMIT;

DROP TABLE IF EXISTS pg_temp."users_hook_changes";

CREATE TEMPORARY TABLE pg_temp."users_hook_changes" AS
WITH
  "model" AS (
    SELECT
      *
    FROM
      "analytics"."dim_users"
  ),
  "mapped" AS (
    SELECT
      CAST(NULL AS TEXT) AS "row_key",
      jsonb_build_object(
        'user_id',
        "user_id",
        'email',
        "email",
        'phone',
        "phone",
        'plan',
        "plan",
        'ltv',
        "ltv",
        'Signup Date',
        "Signup Date",
        'updated_at',
        CASE
          WHEN isfinite("updated_at") THEN to_char(
            TIMESTAMP '1970-01-01' + (
              "updated_at" + INTERVAL '0 seconds' - '1970-01-01 00:00:00+00'
            ),
            'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'
          )
        END
      ) AS "payload",
      jsonb_build_object(
        'user_id',
        "user_id",
        'email',
        "email",
        'phone',
        "phone",
        'plan',
        "plan",
        'ltv',
        "ltv",
        'Signup Date',
        "Signup Date",
        'updated_at',
        "updated_at"
      ) AS "columns",
      "updated_at" AS "order_1",
      "user_id" AS "order_2"
    FROM
      "model"
  ),
  "hashed" AS (
    SELECT
      "mapped".*,
      ENCODE(
        SHA256(CONVERT_TO(CAST("payload" AS TEXT), 'UTF8')),
        'hex'
      ) AS "payload_hash"
    FROM
      "mapped"
  ),
  "ranked" AS (
    SELECT
      "hashed".*,
      ROW_NUMBER() OVER (
        PARTITION BY
          "payload_hash"
        ORDER BY
          "order_1" DESC NULLS LAST,
          "order_2" ASC NULLS LAST,
          "payload_hash",
          CAST("columns" AS TEXT)
      ) AS "rank"
    FROM
      "hashed"
  ),
  "classified" AS (
    SELECT
      -- Without an identifier every row is new on every run; equal rows are told apart by rank.
      'added' AS "change",
      "r"."payload_hash" || ':' || CAST("r"."rank" AS TEXT) AS "row_key",
      "r"."payload" AS "payload",
      "r"."payload_hash" AS "payload_hash",
      CAST(NULL AS TEXT) AS "destination_id",
      "r"."columns" AS "columns"
    FROM
      "ranked" AS "r"
  )
SELECT
  ROW_NUMBER() OVER (
    ORDER BY
      "row_key",
      "change"
  ) AS "seq",
  "change",
  "row_key",
  "payload",
  "payload_hash",
  ENCODE(
    SHA256(
      CONVERT_TO(
        'users_hook:' || "change" || ':' || "row_key" || ':' || "payload_hash",
        'UTF8'
      )
    ),
    'hex'
  ) AS "idempotency_key",
  "destination_id",
  "columns"
FROM
  "classified";

-- The run's summary: one row of counts. The last, synced, counts the records the snapshot held
-- before the run, its rows of the unknown payload hash (added again) too: the whole of which a
-- mirror guard takes its share of deletes.
SELECT
  COUNT(
    CASE
      WHEN "change" <> 'removed' THEN 1
    END
  ) AS "model_rows",
  COUNT(
    CASE
      WHEN "change" = 'null_key' THEN 1
    END
  ) AS "null_keys",
  COUNT(
    CASE
      WHEN "change" = 'duplicate_key' THEN 1
    END
  ) AS "duplicate_keys",
  COUNT(
    CASE
      WHEN "change" = 'added' THEN 1
    END
  ) AS "added",
  COUNT(
    CASE
      WHEN "change" = 'changed' THEN 1
    END
  ) AS "changed",
  COUNT(
    CASE
      WHEN "change" = 'removed' THEN 1
    END
  ) AS "removed",
  COUNT(
    CASE
      WHEN "change" = 'unchanged' THEN 1
    END
  ) AS "unchanged",
  (
    SELECT
      COUNT(*)
    FROM
      "syncwright"."users_hook_snapshot" AS "s"
  ) AS "synced"
FROM
  pg_temp."users_hook_changes";
