-- syncwright: sync whales_remove, audience mode remove, project.sync line 24
-- stage the model's rows, check the guards, then remove into crm.audience_members in one transaction; returns the summary row

CREATE TEMP TABLE `sw_changes` AS
WITH
  `sw_rows` AS (
    SELECT
      TO_HEX(
        SHA256(
          NULLIF(
            CASE
              WHEN STRPOS(TRIM(`m`.`email`, ' '), '@') > 0 THEN LOWER(TRIM(`m`.`email`, ' '))
              ELSE TRIM(`m`.`email`, ' ')
            END,
            ''
          )
        )
      ) AS `sw_c0`,
      `m`.`ltv` AS `sw_c1`,
      `m`.`updated_at` AS `sw_o0`
    FROM
      `analytics`.`users` AS `m`
    WHERE
      `m`.`ltv` >= 1000
      AND (
        `m`.`country` IN ('US', 'CA')
        OR `m`.`signed_up` < CAST('2020-01-01' AS DATE)
      )
      AND `m`.`email` NOT LIKE '%@test.example'
  )
SELECT
  `c`.*,
  NULL AS `sw_total`,
  NULL AS `sw_keyed`
FROM
  (
    SELECT
      CASE
        WHEN `s`.`sw_rn` = 1 THEN `s`.`email_sha256`
      END AS `email_sha256`,
      `s`.`ltv`,
      `t`.`email_sha256` AS `sw_target_key`,
      CASE
        WHEN `s`.`sw_rn` > 1 THEN 'duplicate'
        WHEN `s`.`email_sha256` IS NULL THEN 'delete'
      END AS `sw_action`
    FROM
      (
        SELECT
          `r`.`sw_c0` AS `email_sha256`,
          `r`.`sw_c1` AS `ltv`,
          ROW_NUMBER() OVER (
            PARTITION BY
              `r`.`sw_c0`
            ORDER BY
              `r`.`sw_o0` DESC NULLS LAST,
              `r`.`sw_c1` ASC NULLS LAST
          ) AS `sw_rn`
        FROM
          `sw_rows` AS `r`
        WHERE
          `r`.`sw_c0` IS NOT NULL
      ) AS `s`
      FULL OUTER JOIN (
        SELECT
          *
        FROM
          `crm`.`audience_members`
        WHERE
          `audience` = 'whales'
      ) AS `t` ON `s`.`email_sha256` = `t`.`email_sha256`
  ) AS `c`
WHERE
  `c`.`sw_action` IS NOT NULL
UNION ALL
SELECT
  NULL,
  NULL,
  NULL,
  'count',
  COUNT(*),
  COUNT(`r`.`sw_c0`)
FROM
  `sw_rows` AS `r`;

CREATE TEMP TABLE `sw_summary` AS
SELECT
  `n`.`keyed` - `c`.`duplicates` AS `staged`,
  0 AS `inserted`,
  `c`.`updated` AS `updated`,
  `c`.`deleted` AS `deleted`,
  (
    SELECT
      COUNT(*)
    FROM
      (
        SELECT
          *
        FROM
          `crm`.`audience_members`
        WHERE
          `audience` = 'whales'
      ) AS `t`
  ) AS `target_rows`,
  `n`.`total` - `n`.`keyed` AS `skipped_null_keys`,
  `c`.`duplicates` AS `duplicate_keys`
FROM
  (
    SELECT
      COUNT(
        CASE
          WHEN `sw_action` = 'insert' THEN 1
        END
      ) AS `inserted`,
      COUNT(
        CASE
          WHEN `sw_action` = 'update' THEN 1
        END
      ) AS `updated`,
      COUNT(
        CASE
          WHEN `sw_action` = 'delete' THEN 1
        END
      ) AS `deleted`,
      COUNT(
        CASE
          WHEN `sw_action` = 'duplicate' THEN 1
        END
      ) AS `duplicates`
    FROM
      `sw_changes`
  ) AS `c`
  CROSS JOIN (
    SELECT
      MAX(`sw_total`) AS `total`,
      MAX(`sw_keyed`) AS `keyed`
    FROM
      `sw_changes`
  ) AS `n`;

IF EXISTS (
  SELECT
    1
  FROM
    `sw_summary`
  WHERE
    `staged` = 0
    AND `deleted` > 0
) THEN
RAISE USING MESSAGE = 'syncwright guard: the model has no rows, so every row would be deleted (`guard allow empty` allows it); nothing was changed';

END IF;

IF EXISTS (
  SELECT
    1
  FROM
    `sw_summary`
  WHERE
    `deleted` * 100 > 5 * `target_rows`
) THEN
RAISE USING MESSAGE = 'syncwright guard: more than 5% of the rows would be deleted (guard deletes <= 5%); nothing was changed';

END IF;

BEGIN TRANSACTION;

DELETE FROM `crm`.`audience_members` AS `t`
WHERE
  `t`.`audience` = 'whales'
  AND `t`.`email_sha256` IN (
    SELECT
      `c`.`sw_target_key`
    FROM
      `sw_changes` AS `c`
    WHERE
      `c`.`sw_action` = 'delete'
  );

DELETE FROM `crm`.`audience_members` AS `t`
WHERE
  `t`.`audience` = 'whales'
  AND `t`.`email_sha256` IS NULL
  AND EXISTS (
    SELECT
      1
    FROM
      `sw_changes` AS `c`
    WHERE
      `c`.`sw_action` = 'delete'
      AND `c`.`sw_target_key` IS NULL
  );

SELECT
  `inserted`,
  `updated`,
  `deleted`,
  `skipped_null_keys`,
  `duplicate_keys`
FROM
  `sw_summary`;

COMMIT TRANSACTION;
