-- syncwright: sync users_update, record mode update, project.sync line 24
-- stage the model's rows, check the guards, then update into crm.users in one transaction; returns the summary row

CREATE TEMP TABLE `sw_stage` AS
SELECT
  `r`.`sw_c0` AS `id`,
  `r`.`sw_c1` AS `email`,
  `r`.`sw_c2` AS `full_name`,
  `r`.`sw_c3` AS `ltv`,
  `r`.`sw_c4` AS `prefs`
FROM
  (
    SELECT
      `m`.`user_id` AS `sw_c0`,
      TO_HEX(
        SHA256(
          CASE
            WHEN TRIM(`m`.`email`) LIKE '%@%' THEN LOWER(TRIM(`m`.`email`))
            ELSE TRIM(`m`.`email`)
          END
        )
      ) AS `sw_c1`,
      `m`.`Full Name` AS `sw_c2`,
      `m`.`ltv` AS `sw_c3`,
      `m`.`prefs` AS `sw_c4`,
      `m`.`updated_at` AS `sw_o0`
    FROM
      `analytics`.`users` AS `m`
  ) AS `r`
WHERE
  `r`.`sw_c0` IS NOT NULL
QUALIFY
  ROW_NUMBER() OVER (
    PARTITION BY
      `r`.`sw_c0`
    ORDER BY
      `r`.`sw_o0` DESC NULLS LAST,
      `r`.`sw_c1`,
      `r`.`sw_c2`,
      `r`.`sw_c3`,
      TO_JSON_STRING(`r`.`sw_c4`)
  ) = 1;

CREATE TEMP TABLE `sw_changes` AS
SELECT
  `s`.`id`,
  `s`.`email`,
  `s`.`full_name`,
  `s`.`ltv`,
  `s`.`prefs`,
  CASE
    WHEN `t`.`id` IS NULL THEN 'insert'
    ELSE 'update'
  END AS `sw_action`
FROM
  `sw_stage` AS `s`
  INNER JOIN `crm`.`users` AS `t` ON `s`.`id` = `t`.`id`
WHERE
  (
    `t`.`email` IS DISTINCT FROM `s`.`email`
    OR `t`.`full_name` IS DISTINCT FROM `s`.`full_name`
    OR `t`.`ltv` IS DISTINCT FROM `s`.`ltv`
    OR TO_JSON_STRING(`t`.`prefs`) IS DISTINCT FROM TO_JSON_STRING(`s`.`prefs`)
  );

CREATE TEMP TABLE `sw_summary` AS
SELECT
  `k`.`staged` AS `staged`,
  0 AS `inserted`,
  `c`.`updated` AS `updated`,
  `c`.`deleted` AS `deleted`,
  0 AS `target_rows`,
  `n`.`total` - `n`.`keyed` AS `skipped_null_keys`,
  `n`.`keyed` - `k`.`staged` AS `duplicate_keys`
FROM
  (
    SELECT
      COUNT(*) AS `staged`
    FROM
      `sw_stage`
  ) AS `k`
  CROSS JOIN (
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
      ) AS `deleted`
    FROM
      `sw_changes`
  ) AS `c`
  CROSS JOIN (
    SELECT
      COUNT(*) AS `total`,
      COUNT(`m`.`user_id`) AS `keyed`
    FROM
      `analytics`.`users` AS `m`
  ) AS `n`;

BEGIN TRANSACTION;

MERGE INTO `crm`.`users` AS `t`
USING `sw_changes` AS `s`
ON `t`.`id` = `s`.`id`
WHEN MATCHED AND (
  `t`.`email` IS DISTINCT FROM `s`.`email`
  OR `t`.`full_name` IS DISTINCT FROM `s`.`full_name`
  OR `t`.`ltv` IS DISTINCT FROM `s`.`ltv`
  OR TO_JSON_STRING(`t`.`prefs`) IS DISTINCT FROM TO_JSON_STRING(`s`.`prefs`)
) THEN
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
