-- syncwright: sync users_update, record mode update, project.sync line 24
-- stage the model's rows, check the guards, then update into crm.users in one transaction; returns the summary row

CREATE TEMP TABLE `sw_changes` AS
WITH
  `sw_rows` AS (
    SELECT
      `m`.`user_id` AS `sw_c0`,
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
      ) AS `sw_c1`,
      `m`.`Full Name` AS `sw_c2`,
      `m`.`ltv` AS `sw_c3`,
      `m`.`prefs` AS `sw_c4`,
      `m`.`updated_at` AS `sw_o0`
    FROM
      `analytics`.`users` AS `m`
  )
SELECT
  `c`.*,
  NULL AS `sw_total`,
  NULL AS `sw_keyed`
FROM
  (
    SELECT
      CASE
        WHEN `s`.`sw_rn` = 1 THEN `s`.`id`
      END AS `id`,
      `s`.`email`,
      `s`.`full_name`,
      `s`.`ltv`,
      `s`.`prefs`,
      `t`.`id` AS `sw_target_key`,
      CASE
        WHEN `s`.`sw_rn` > 1 THEN 'duplicate'
        WHEN `t`.`id` IS NOT NULL
        AND (
          `t`.`email` IS DISTINCT FROM `s`.`email`
          OR `t`.`full_name` IS DISTINCT FROM `s`.`full_name`
          OR `t`.`ltv` IS DISTINCT FROM `s`.`ltv`
          OR TO_JSON_STRING(`t`.`prefs`) IS DISTINCT FROM TO_JSON_STRING(`s`.`prefs`)
        ) THEN 'update'
      END AS `sw_action`
    FROM
      (
        SELECT
          `r`.`sw_c0` AS `id`,
          `r`.`sw_c1` AS `email`,
          `r`.`sw_c2` AS `full_name`,
          `r`.`sw_c3` AS `ltv`,
          `r`.`sw_c4` AS `prefs`,
          ROW_NUMBER() OVER (
            PARTITION BY
              `r`.`sw_c0`
            ORDER BY
              `r`.`sw_o0` DESC NULLS LAST,
              `r`.`sw_c1` ASC NULLS LAST,
              `r`.`sw_c2` ASC NULLS LAST,
              `r`.`sw_c3` ASC NULLS LAST,
              TO_JSON_STRING(`r`.`sw_c4`) ASC NULLS LAST
          ) AS `sw_rn`
        FROM
          `sw_rows` AS `r`
        WHERE
          `r`.`sw_c0` IS NOT NULL
      ) AS `s`
      LEFT JOIN `crm`.`users` AS `t` ON `s`.`id` = `t`.`id`
  ) AS `c`
WHERE
  `c`.`sw_action` IS NOT NULL
UNION ALL
SELECT
  NULL,
  NULL,
  NULL,
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
  0 AS `target_rows`,
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

BEGIN TRANSACTION;

MERGE INTO `crm`.`users` AS `t`
USING `sw_changes` AS `s`
ON `t`.`id` = `s`.`id`
WHEN MATCHED AND `s`.`sw_action` = 'update' THEN
  UPDATE SET
    `email` = `s`.`email`,
    `full_name` = `s`.`full_name`,
    `ltv` = `s`.`ltv`,
    `prefs` = `s`.`prefs`;

SELECT
  `inserted`,
  `updated`,
  `deleted`,
  `skipped_null_keys`,
  `duplicate_keys`
FROM
  `sw_summary`;

COMMIT TRANSACTION;
