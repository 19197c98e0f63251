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
CREATE SCHEMA IF NOT EXISTS `syncwright`;

CREATE TABLE IF NOT EXISTS `syncwright`.`whales_google_snapshot` (
  `row_key` STRING NOT NULL,
  `payload_hash` STRING NOT NULL,
  `destination_id` STRING
);

-- The executor inserts each row the destination accepted here, as it is accepted, with what
-- commit.sql needs to record it; commit.sql reads nothing else.
CREATE TABLE IF NOT EXISTS `syncwright`.`whales_google_accepted_rows` (
  `row_key` STRING NOT NULL,
  `change` STRING NOT NULL,
  `payload_hash` STRING,
  `destination_id` STRING
);

-- The rows of each job an earlier run ran whose outcome is not known yet: the next run asks
-- how each ended, and sends the rows of one that failed again.
CREATE TABLE IF NOT EXISTS `syncwright`.`whales_google_jobs` (
  `job` STRING NOT NULL,
  `row_key` STRING NOT NULL
);

CREATE OR REPLACE TEMP TABLE `whales_google_changes` AS
WITH
  `model` AS (
    SELECT
      *
    FROM
      `analytics`.`dim_users`
    WHERE
      `ltv` >= 1000
      AND (
        `plan` <> 'free'
        OR `Signup Date` < CAST('2024-01-01' AS DATE)
      )
  ),
  `mapped` AS (
    SELECT
      TO_HEX(
        SHA256(
          NULLIF(
            CASE
              WHEN SPLIT(LOWER(TRIM(CAST(`email` AS STRING), ' ')), '@') [SAFE_OFFSET(1)] IN ('gmail.com', 'googlemail.com') THEN CONCAT(
                REPLACE(
                  SPLIT(
                    SPLIT(LOWER(TRIM(CAST(`email` AS STRING), ' ')), '@') [SAFE_OFFSET(0)],
                    '+'
                  ) [SAFE_OFFSET(0)],
                  '.',
                  ''
                ),
                '@',
                SPLIT(LOWER(TRIM(CAST(`email` AS STRING), ' ')), '@') [SAFE_OFFSET(1)]
              )
              ELSE LOWER(TRIM(CAST(`email` AS STRING), ' '))
            END,
            ''
          )
        )
      ) AS `row_key`,
      JSON_OBJECT () AS `payload`,
      CAST(
        NULL
        AS JSON
      ) AS `columns`,
      `updated_at` AS `order_1`,
      `user_id` AS `order_2`
    FROM
      `model`
  ),
  `hashed` AS (
    SELECT
      `mapped`.*,
      TO_HEX(
        SHA256(
          TO_JSON_STRING(`payload`) || ':' || CAST(
            DIV(UNIX_SECONDS(CURRENT_TIMESTAMP()), 15552000) AS STRING
          )
        )
      ) AS `payload_hash`
    FROM
      `mapped`
  ),
  `ranked` AS (
    SELECT
      `hashed`.*,
      ROW_NUMBER() OVER (
        PARTITION BY
          `row_key`
        ORDER BY
          `order_1` DESC NULLS LAST,
          `order_2` ASC NULLS LAST,
          TO_HEX(SHA256(TO_JSON_STRING(`payload`)))
      ) AS `rank`
    FROM
      `hashed`
  ),
  `classified` AS (
    SELECT
      CASE
        WHEN `r`.`row_key` IS NULL THEN 'null_key'
        WHEN `r`.`rank` > 1 THEN 'duplicate_key'
        WHEN `s`.`row_key` IS NULL
        OR `s`.`payload_hash` = 'unknown' THEN 'added'
        WHEN `s`.`payload_hash` = `r`.`payload_hash` THEN 'unchanged'
        ELSE 'changed'
      END AS `change`,
      `r`.`row_key` AS `row_key`,
      `r`.`payload` AS `payload`,
      `r`.`payload_hash` AS `payload_hash`,
      `s`.`destination_id` AS `destination_id`,
      `r`.`columns` AS `columns`
    FROM
      `ranked` AS `r`
      LEFT JOIN `syncwright`.`whales_google_snapshot` AS `s` ON `r`.`rank` = 1
      AND `s`.`row_key` = `r`.`row_key`
    UNION ALL
    SELECT
      'removed',
      `s`.`row_key`,
      CAST(
        NULL
        AS JSON
      ),
      `s`.`payload_hash`,
      `s`.`destination_id`,
      CAST(
        NULL
        AS JSON
      )
    FROM
      `syncwright`.`whales_google_snapshot` AS `s`
    WHERE
      NOT EXISTS (
        SELECT
          1
        FROM
          `ranked` AS `r`
        WHERE
          `r`.`row_key` = `s`.`row_key`
      )
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
      'whales_google:' || `change` || ':' || `row_key` || ':' || `payload_hash`
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
      `syncwright`.`whales_google_snapshot` AS `s`
  ) AS `synced`
FROM
  `whales_google_changes`;
