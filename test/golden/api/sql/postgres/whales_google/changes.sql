-- syncwright: sync whales_google, audience mode add, project.sync line 16
-- the change set against the snapshot of what google accepted; ends with a one-row summary

-- The change set: the model's rows, mapped, normalised and hashed, against the snapshot of
-- what google last accepted. A temporary table of this session, read by read.sql in
-- the same session: no other run, and no dry run, sees it or replaces it.
-- The payload hash takes in which period of 180 days (counted from the epoch, in
-- UTC) the warehouse's clock is: in the first run of the next period, every row is changed
-- and sent again, as the destination forgets what was sent that long ago.
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

CREATE TABLE IF NOT EXISTS "syncwright"."whales_google_snapshot" (
  "row_key" TEXT NOT NULL PRIMARY KEY,
  "payload_hash" TEXT NOT NULL,
  "destination_id" TEXT
);

-- The executor inserts each row the destination accepted here, as it is accepted, with what
-- commit.sql needs to record it; commit.sql reads nothing else.
CREATE TABLE IF NOT EXISTS "syncwright"."whales_google_accepted_rows" (
  "row_key" TEXT NOT NULL,
  "change" TEXT NOT NULL,
  "payload_hash" TEXT,
  "destination_id" TEXT
);

-- The rows of each job an earlier run ran whose outcome is not known yet: the next run asks
-- how each ended, and sends the rows of one that failed again.
CREATE TABLE IF NOT EXISTS "syncwright"."whales_google_jobs" ("job" TEXT NOT NULL, "row_key" TEXT NOT NULL);

COMMIT;

DROP TABLE IF EXISTS pg_temp."whales_google_changes";

CREATE TEMPORARY TABLE pg_temp."whales_google_changes" AS
WITH
  "model" AS (
    SELECT
      *
    FROM
      "analytics"."dim_users"
    WHERE
      "ltv" >= 1000
      AND (
        "plan" <> 'free'
        OR "Signup Date" < CAST('2024-01-01' AS DATE)
      )
  ),
  "mapped" AS (
    SELECT
      ENCODE(
        SHA256(
          CONVERT_TO(
            NULLIF(
              CASE
                WHEN split_part(
                  lower(btrim(CAST("email" AS TEXT)) COLLATE "default"),
                  '@',
                  2
                ) IN ('gmail.com', 'googlemail.com') THEN replace(
                  split_part(
                    split_part(
                      lower(btrim(CAST("email" AS TEXT)) COLLATE "default"),
                      '@',
                      1
                    ),
                    '+',
                    1
                  ),
                  '.',
                  ''
                ) || '@' || split_part(
                  lower(btrim(CAST("email" AS TEXT)) COLLATE "default"),
                  '@',
                  2
                )
                ELSE lower(btrim(CAST("email" AS TEXT)) COLLATE "default")
              END,
              ''
            ),
            'UTF8'
          )
        ),
        'hex'
      ) AS "row_key",
      jsonb_build_object() AS "payload",
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
        SHA256(
          CONVERT_TO(
            CAST("payload" AS TEXT) || ':' || CAST(
              CAST(
                FLOOR(
                  EXTRACT(
                    EPOCH
                    FROM
                      CURRENT_TIMESTAMP
                  ) / 15552000
                ) AS BIGINT
              ) AS TEXT
            ),
            'UTF8'
          )
        ),
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
          ENCODE(
            SHA256(CONVERT_TO(CAST("payload" AS TEXT), 'UTF8')),
            'hex'
          )
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
      "r"."columns" AS "columns"
    FROM
      "ranked" AS "r"
      LEFT JOIN "syncwright"."whales_google_snapshot" AS "s" ON "r"."rank" = 1
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
      "syncwright"."whales_google_snapshot" AS "s"
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
        'whales_google:' || "change" || ':' || "row_key" || ':' || "payload_hash",
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
      "syncwright"."whales_google_snapshot" AS "s"
  ) AS "synced"
FROM
  pg_temp."whales_google_changes";
