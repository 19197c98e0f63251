-- syncwright: sync users_crm, record mode mirror, project.sync line 17
-- the change set against the snapshot of what crm accepted; ends with a one-row summary

-- The change set: the model's rows, mapped, normalised and hashed, against the snapshot of
-- what crm last accepted. A table of the state schema, read by read.sql in later
-- requests (each request is a session of its own); the sync's lock, which a dry run holds too,
-- keeps every other run from replacing it meanwhile.
-- A snapshot row of the unknown payload hash was sent without an answer (commit.sql): the
-- destination may or may not have it, so it is added again while the model has it, and
-- removed once it does not.
CREATE SCHEMA IF NOT EXISTS "SYNC_STATE";

CREATE TABLE IF NOT EXISTS "SYNC_STATE"."users_crm_snapshot" (
  "row_key" VARCHAR NOT NULL PRIMARY KEY,
  "payload_hash" VARCHAR NOT NULL,
  "destination_id" VARCHAR
);

-- The executor inserts each row the destination accepted here, as it is accepted, with what
-- commit.sql needs to record it; commit.sql reads nothing else.
CREATE TABLE IF NOT EXISTS "SYNC_STATE"."users_crm_accepted_rows" (
  "row_key" VARCHAR NOT NULL,
  "change" VARCHAR NOT NULL,
  "payload_hash" VARCHAR,
  "destination_id" VARCHAR
);

DROP TABLE IF EXISTS "SYNC_STATE"."users_crm_changes";

CREATE TRANSIENT TABLE "SYNC_STATE"."users_crm_changes" AS
WITH
  "model" AS (
    SELECT
      *
    FROM
      "ANALYTICS"."DIM_USERS"
  ),
  "mapped" AS (
    SELECT
      LOWER(CAST("EMAIL" AS VARCHAR)) AS "row_key",
      OBJECT_CONSTRUCT_KEEP_NULL(
        'plan_tier',
        COALESCE("PLAN", ''),
        'lifetime value',
        COALESCE(TO_VARCHAR("LTV"), ''),
        'signup_date',
        COALESCE(TO_VARCHAR("Signup Date", 'YYYY-MM-DD'), ''),
        'last_seen',
        COALESCE(
          TO_VARCHAR(
            TO_TIMESTAMP_NTZ(DATE_PART(EPOCH_MICROSECOND, "UPDATED_AT"), 6),
            'YYYY-MM-DD"T"HH24:MI:SS.FF3"Z"'
          ),
          ''
        )
      ) AS "payload",
      CAST(NULL AS VARIANT) AS "columns",
      "UPDATED_AT" AS "order_1",
      "USER_ID" AS "order_2"
    FROM
      "model"
  ),
  "hashed" AS (
    SELECT
      "mapped".*,
      SHA2(TO_JSON("payload")) AS "payload_hash"
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
      LOWER("s"."row_key") AS "row_key",
      CASE
        WHEN MIN("s"."payload_hash") = MAX("s"."payload_hash") THEN MIN("s"."payload_hash")
        ELSE ''
      END AS "payload_hash",
      MAX("s"."destination_id") AS "destination_id"
    FROM
      "SYNC_STATE"."users_crm_snapshot" AS "s"
    GROUP BY
      LOWER("s"."row_key")
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
      CAST(NULL AS VARIANT),
      "s"."payload_hash",
      "s"."destination_id",
      CAST(NULL AS VARIANT)
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
  SHA2(
    'users_crm:' || "change" || ':' || "row_key" || ':' || "payload_hash"
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
      COUNT(DISTINCT LOWER("s"."row_key"))
    FROM
      "SYNC_STATE"."users_crm_snapshot" AS "s"
  ) AS "synced"
FROM
  "SYNC_STATE"."users_crm_changes";
