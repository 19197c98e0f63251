-- syncwright: sync users_mixpanel, record mode insert, project.sync line 20
-- the change set against the snapshot of what mp accepted; ends with a one-row summary

-- The change set: the model's rows, mapped, normalised and hashed, against the snapshot of
-- what mp last accepted. A temporary table of this session, read by read.sql in
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

CREATE TABLE IF NOT EXISTS "syncwright"."users_mixpanel_snapshot" (
  "row_key" TEXT NOT NULL PRIMARY KEY,
  "payload_hash" TEXT NOT NULL,
  "destination_id" TEXT
);

-- The executor inserts each row the destination accepted here, as it is accepted, with what
-- commit.sql needs to record it; commit.sql reads nothing else.
CREATE TABLE IF NOT EXISTS "syncwright"."users_mixpanel_accepted_rows" (
  "row_key" TEXT NOT NULL,
  "change" TEXT NOT NULL,
  "payload_hash" TEXT,
  "destination_id" TEXT
);

-- The key each row's last recorded delivery carried: the next delivery's is made from it.
CREATE TABLE IF NOT EXISTS "syncwright"."users_mixpanel_keys" (
  "row_key" TEXT NOT NULL PRIMARY KEY,
  "idempotency_key" TEXT NOT NULL
);

COMMIT;

DROP TABLE IF EXISTS pg_temp."users_mixpanel_changes";

CREATE TEMPORARY TABLE pg_temp."users_mixpanel_changes" AS
WITH
  "model" AS (
    SELECT
      *
    FROM
      "analytics"."dim_users"
  ),
  "mapped" AS (
    SELECT
      CAST("user_id" AS TEXT) AS "row_key",
      jsonb_build_object(
        'time',
        CAST(
          FLOOR(
            EXTRACT(
              EPOCH
              FROM
                "updated_at"
            ) * 1000
          ) AS BIGINT
        ),
        'signed_up_on',
        "Signup Date"
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
      "r"."columns" AS "columns",
      "k"."idempotency_key" AS "previous_key"
    FROM
      "ranked" AS "r"
      LEFT JOIN "syncwright"."users_mixpanel_snapshot" AS "s" ON "r"."rank" = 1
      AND "s"."row_key" = "r"."row_key"
      LEFT JOIN "syncwright"."users_mixpanel_keys" AS "k" ON "k"."row_key" = "r"."row_key"
    UNION ALL
    SELECT
      'removed',
      "s"."row_key",
      CAST(NULL AS JSONB),
      "s"."payload_hash",
      "s"."destination_id",
      CAST(NULL AS JSONB),
      "k"."idempotency_key"
    FROM
      "syncwright"."users_mixpanel_snapshot" AS "s"
      LEFT JOIN "syncwright"."users_mixpanel_keys" AS "k" ON "k"."row_key" = "s"."row_key"
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
        'users_mixpanel:' || CASE
          WHEN "change" = 'removed' THEN 'removed'
          ELSE 'sent'
        END || ':' || "row_key" || ':' || "payload_hash" || ':' || COALESCE("previous_key", ''),
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
      "syncwright"."users_mixpanel_snapshot" AS "s"
  ) AS "synced"
FROM
  pg_temp."users_mixpanel_changes";
