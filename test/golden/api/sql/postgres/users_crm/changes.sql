-- syncwright: sync users_crm, record mode mirror, project.sync line 17
-- the change set against the snapshot of what crm accepted; ends with a one-row summary

-- The change set: the model's rows, mapped, normalised and hashed, against the snapshot of
-- what crm last accepted. A temporary table of this session, read by read.sql in
-- the same session: no other run, and no dry run, sees it or replaces it.
-- A snapshot row of the unknown payload hash was sent without an answer (commit.sql): the
-- destination may or may not have it, so it is added again while the model has it, and
-- removed once it does not.
-- The state tables are made by one run at a time (runs of other syncs may make them too).
SELECT
  PG_ADVISORY_LOCK(8036464810771663505);

BEGIN;

SELECT
  PG_ADVISORY_XACT_LOCK(8036464810771663505);

SELECT
  PG_ADVISORY_UNLOCK(8036464810771663505);

CREATE SCHEMA IF NOT EXISTS "syncwright";

CREATE TABLE IF NOT EXISTS "syncwright"."users_crm_snapshot" (
  "row_key" TEXT NOT NULL PRIMARY KEY,
  "payload_hash" TEXT NOT NULL,
  "destination_id" TEXT
);

-- The executor inserts each row the destination accepted here, as it is accepted, with what
-- commit.sql needs to record it; commit.sql reads nothing else.
CREATE TABLE IF NOT EXISTS "syncwright"."users_crm_accepted_rows" (
  "row_key" TEXT NOT NULL,
  "change" TEXT NOT NULL,
  "payload_hash" TEXT,
  "destination_id" TEXT
);

COMMIT;

DROP TABLE IF EXISTS pg_temp."users_crm_changes";

CREATE TEMPORARY TABLE pg_temp."users_crm_changes" AS
WITH
  "model" AS (
    SELECT
      *
    FROM
      "analytics"."dim_users"
  ),
  "mapped" AS (
    SELECT
      lower(CAST("email" AS TEXT) COLLATE "default") AS "row_key",
      jsonb_build_object(
        'plan_tier',
        COALESCE("plan", ''),
        'lifetime value',
        COALESCE(CAST("ltv" AS TEXT), ''),
        'signup_date',
        COALESCE(to_char("Signup Date", 'YYYY-MM-DD'), ''),
        'last_seen',
        COALESCE(
          CASE
            WHEN isfinite("updated_at") THEN to_char(
              TIMESTAMP '1970-01-01' + (
                "updated_at" + INTERVAL '0 seconds' - '1970-01-01 00:00:00+00'
              ),
              'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'
            )
          END,
          ''
        )
      ) AS "payload",
      CAST(NULL AS JSONB) AS "columns",
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
          "row_key"
        ORDER BY
          "order_1" DESC NULLS LAST,
          "order_2" ASC NULLS LAST,
          "payload_hash"
      ) AS "rank"
    FROM
      "hashed"
  ),
  -- The snapshot by keys folded as the model's are: keys kept before they were folded may fold
  -- onto one, whose one record took each of their payloads, so it is sent again ('' matches no
  -- payload hash) unless they all agree.
  "folded" AS (
    SELECT
      lower("s"."row_key" COLLATE "default") AS "row_key",
      CASE
        WHEN MIN("s"."payload_hash") = MAX("s"."payload_hash") THEN MIN("s"."payload_hash")
        ELSE ''
      END AS "payload_hash",
      MAX("s"."destination_id") AS "destination_id"
    FROM
      "syncwright"."users_crm_snapshot" AS "s"
    GROUP BY
      lower("s"."row_key" COLLATE "default")
  ),
  "classified" AS (
    SELECT
      CASE
        WHEN "r"."row_key" IS NULL THEN 'null_key'
        WHEN "r"."rank" > 1 THEN 'duplicate_key'
        WHEN "s"."row_key" IS NULL
        OR "s"."payload_hash" = 'unknown' THEN 'added'
        WHEN "s"."payload_hash" = "r"."payload_hash" THEN 'unchanged'
        ELSE 'changed'
      END AS "change",
      "r"."row_key" AS "row_key",
      "r"."payload" AS "payload",
      "r"."payload_hash" AS "payload_hash",
      "s"."destination_id" AS "destination_id",
      "r"."columns" AS "columns"
    FROM
      "ranked" AS "r"
      LEFT JOIN "folded" AS "s" ON "r"."rank" = 1
      AND "s"."row_key" = "r"."row_key"
    UNION ALL
    SELECT
      'removed',
      "s"."row_key",
      CAST(NULL AS JSONB),
      "s"."payload_hash",
      "s"."destination_id",
      CAST(NULL AS JSONB)
    FROM
      "folded" AS "s"
    WHERE
      NOT EXISTS (
        SELECT
          1
        FROM
          "ranked" AS "r"
        WHERE
          "r"."row_key" = "s"."row_key"
      )
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
        'users_crm:' || "change" || ':' || "row_key" || ':' || "payload_hash",
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
      COUNT(
        DISTINCT lower("s"."row_key" COLLATE "default")
      )
    FROM
      "syncwright"."users_crm_snapshot" AS "s"
  ) AS "synced"
FROM
  pg_temp."users_crm_changes";
