-- syncwright: sync users_hook, record mode insert, project.sync line 18
-- the change set against the snapshot of what hook accepted; ends with a one-row summary

-- The change set: the model's rows, mapped, normalised and hashed, against the snapshot of
-- what hook last accepted. A table of the state schema, read by read.sql in later
-- requests (each request is a session of its own); the sync's lock, which a dry run holds too,
-- keeps every other run from replacing it meanwhile.
CREATE SCHEMA IF NOT EXISTS "SYNC_STATE";

CREATE TABLE IF NOT EXISTS "SYNC_STATE"."users_hook_snapshot" (
  "row_key" VARCHAR NOT NULL PRIMARY KEY,
  "payload_hash" VARCHAR NOT NULL,
  "destination_id" VARCHAR
);

-- The executor inserts each row the destination accepted here, as it is accepted, with what
-- commit.sql needs to record it; commit.sql reads nothing else.
CREATE TABLE IF NOT EXISTS "SYNC_STATE"."users_hook_accepted_rows" (
  "row_key" VARCHAR NOT NULL,
  "change" VARCHAR NOT NULL,
  "payload_hash" VARCHAR,
  "destination_id" VARCHAR
);

DROP TABLE IF EXISTS "SYNC_STATE"."users_hook_changes";

CREATE TRANSIENT TABLE "SYNC_STATE"."users_hook_changes" AS
WITH
  "model" AS (
    SELECT
      *
    FROM
      "ANALYTICS"."DIM_USERS"
  ),
  "mapped" AS (
    SELECT
      CAST(NULL AS VARCHAR) AS "row_key",
      OBJECT_CONSTRUCT_KEEP_NULL(
        'user_id',
        "USER_ID",
        'email',
        "EMAIL",
        'phone',
        "PHONE",
        'plan',
        "PLAN",
        'ltv',
        "LTV",
        'Signup Date',
        "Signup Date",
        'updated_at',
        TO_VARCHAR(
          TO_TIMESTAMP_NTZ(DATE_PART(EPOCH_MICROSECOND, "UPDATED_AT"), 6),
          'YYYY-MM-DD"T"HH24:MI:SS.FF3"Z"'
        )
      ) AS "payload",
      OBJECT_CONSTRUCT_KEEP_NULL(
        'user_id',
        "USER_ID",
        'email',
        "EMAIL",
        'phone',
        "PHONE",
        'plan',
        "PLAN",
        'ltv',
        "LTV",
        'Signup Date',
        "Signup Date",
        'updated_at',
        "UPDATED_AT"
      ) AS "columns",
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
          "payload_hash"
        ORDER BY
          "order_1" DESC NULLS LAST,
          "order_2" ASC NULLS LAST,
          "payload_hash",
          TO_JSON("columns")
      ) AS "rank"
    FROM
      "hashed"
  ),
  "classified" AS (
    SELECT
      -- Without an identifier every row is new on every run; equal rows are told apart by rank.
      'added' AS "change",
      "r"."payload_hash" || ':' || CAST("r"."rank" AS VARCHAR) AS "row_key",
      "r"."payload" AS "payload",
      "r"."payload_hash" AS "payload_hash",
      CAST(NULL AS VARCHAR) AS "destination_id",
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
  SHA2(
    'users_hook:' || "change" || ':' || "row_key" || ':' || "payload_hash"
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
      "SYNC_STATE"."users_hook_snapshot" AS "s"
  ) AS "synced"
FROM
  "SYNC_STATE"."users_hook_changes";
