-- syncwright: sync users_hook, record mode insert, project.sync line 18
-- the change set against the snapshot of what hook accepted; ends with a one-row summary

-- The change set: the model's rows, mapped, normalised and hashed, against the snapshot of
-- what hook last accepted. A temporary table of this session, read by read.sql in
-- the same session: no other run, and no dry run, sees it or replaces it.
CREATE SCHEMA IF NOT EXISTS `syncwright`;

CREATE TABLE IF NOT EXISTS `syncwright`.`users_hook_snapshot` (
  `row_key` STRING NOT NULL,
  `payload_hash` STRING NOT NULL,
  `destination_id` STRING
);

-- The executor inserts each row the destination accepted here, as it is accepted, with what
-- commit.sql needs to record it; commit.sql reads nothing else.
CREATE TABLE IF NOT EXISTS `syncwright`.`users_hook_accepted_rows` (
  `row_key` STRING NOT NULL,
  `change` STRING NOT NULL,
  `payload_hash` STRING,
  `destination_id` STRING
);

CREATE OR REPLACE TEMP TABLE `users_hook_changes` AS
WITH
  `model` AS (
    SELECT
      *
    FROM
      `analytics`.`dim_users`
  ),
  `mapped` AS (
    SELECT
      CAST(NULL AS STRING) AS `row_key`,
      JSON_OBJECT (
        'user_id',
        `user_id`,
        'email',
        `email`,
        'phone',
        `phone`,
        'plan',
        `plan`,
        'ltv',
        `ltv`,
        'Signup Date',
        `Signup Date`,
        'updated_at',
        FORMAT_TIMESTAMP(
          '%Y-%m-%dT%H:%M:%E3SZ',
          CAST(`updated_at` AS TIMESTAMP),
          'UTC'
        )
      ) AS `payload`,
      JSON_OBJECT (
        'user_id',
        `user_id`,
        'email',
        `email`,
        'phone',
        `phone`,
        'plan',
        `plan`,
        'ltv',
        `ltv`,
        'Signup Date',
        `Signup Date`,
        'updated_at',
        `updated_at`
      ) AS `columns`,
      `updated_at` AS `order_1`,
      `user_id` AS `order_2`
    FROM
      `model`
  ),
  `hashed` AS (
    SELECT
      `mapped`.*,
      TO_HEX(SHA256(TO_JSON_STRING(`payload`))) AS `payload_hash`
    FROM
      `mapped`
  ),
  `ranked` AS (
    SELECT
      `hashed`.*,
      ROW_NUMBER() OVER (
        PARTITION BY
          `payload_hash`
        ORDER BY
          `order_1` DESC NULLS LAST,
          `order_2` ASC NULLS LAST,
          `payload_hash`,
          TO_JSON_STRING(`columns`)
      ) AS `rank`
    FROM
      `hashed`
  ),
  `classified` AS (
    SELECT
      -- Without an identifier every row is new on every run; equal rows are told apart by rank.
      'added' AS `change`,
      `r`.`payload_hash` || ':' || CAST(`r`.`rank` AS STRING) AS `row_key`,
      `r`.`payload` AS `payload`,
      `r`.`payload_hash` AS `payload_hash`,
      CAST(NULL AS STRING) AS `destination_id`,
      `r`.`columns` AS `columns`
    FROM
      `ranked` AS `r`
  )
SELECT
  ROW_NUMBER() OVER (
    ORDER BY
      `row_key`,
      `change`
  ) AS `seq`,
  `change`,
  `row_key`,
  `payload`,
  `payload_hash`,
  TO_HEX(
    SHA256(
      'users_hook:' || `change` || ':' || `row_key` || ':' || `payload_hash`
    )
  ) AS `idempotency_key`,
  `destination_id`,
  `columns`
FROM
  `classified`;

-- The run's summary: one row of counts. The last, synced, counts the records the snapshot held
-- before the run, its rows of the unknown payload hash (added again) too: the whole of which a
-- mirror guard takes its share of deletes.
SELECT
  COUNT(
    CASE
      WHEN `change` <> 'removed' THEN 1
    END
  ) AS `model_rows`,
  COUNT(
    CASE
      WHEN `change` = 'null_key' THEN 1
    END
  ) AS `null_keys`,
  COUNT(
    CASE
      WHEN `change` = 'duplicate_key' THEN 1
    END
  ) AS `duplicate_keys`,
  COUNT(
    CASE
      WHEN `change` = 'added' THEN 1
    END
  ) AS `added`,
  COUNT(
    CASE
      WHEN `change` = 'changed' THEN 1
    END
  ) AS `changed`,
  COUNT(
    CASE
      WHEN `change` = 'removed' THEN 1
    END
  ) AS `removed`,
  COUNT(
    CASE
      WHEN `change` = 'unchanged' THEN 1
    END
  ) AS `unchanged`,
  (
    SELECT
      COUNT(*)
    FROM
      `syncwright`.`users_hook_snapshot` AS `s`
  ) AS `synced`
FROM
  `users_hook_changes`;
