-- syncwright: sync whales_add, audience mode add, project.sync line 24
-- stage the model's rows, check the guards, then add into crm.audience_members in one transaction; returns the summary row

CREATE TEMP TABLE `sw_stage` AS
SELECT
  `r`.`sw_c0` AS `email_sha256`,
  `r`.`sw_c1` AS `ltv`
FROM
  (
    SELECT
      TO_HEX(
        SHA256(
          CASE
            WHEN TRIM(`m`.`email`) LIKE '%@%' THEN LOWER(TRIM(`m`.`email`))
            ELSE TRIM(`m`.`email`)
          END
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
  ) AS `r`
WHERE
  `r`.`sw_c0` IS NOT NULL
QUALIFY
  ROW_NUMBER() OVER (
    PARTITION BY
      `r`.`sw_c0`
    ORDER BY
      `r`.`sw_o0` DESC NULLS LAST,
      `r`.`sw_c1`
  ) = 1;

CREATE TEMP TABLE `sw_summary` AS
SELECT
  `k`.`staged` AS `staged`,
  `c`.`inserted` AS `inserted`,
  `c`.`updated` AS `updated`,
  `c`.`deleted` AS `deleted`,
  `c`.`target_rows` AS `target_rows`,
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
          WHEN `s`.`email_sha256` IS NOT NULL
          AND `t`.`email_sha256` IS NULL THEN 1
        END
      ) AS `inserted`,
      0 AS `updated`,
      0 AS `deleted`,
      0 AS `target_rows`
    FROM
      `sw_stage` AS `s`
      LEFT JOIN (
        SELECT
          *
        FROM
          `crm`.`audience_members`
        WHERE
          `audience` = 'whales'
      ) AS `t` ON `s`.`email_sha256` = `t`.`email_sha256`
  ) AS `c`
  CROSS JOIN (
    SELECT
      COUNT(*) AS `total`,
      COUNT(`m`.`email`) AS `keyed`
    FROM
      `analytics`.`users` AS `m`
    WHERE
      `m`.`ltv` >= 1000
      AND (
        `m`.`country` IN ('US', 'CA')
        OR `m`.`signed_up` < CAST('2020-01-01' AS DATE)
      )
      AND `m`.`email` NOT LIKE '%@test.example'
  ) AS `n`;

BEGIN TRANSACTION;

MERGE INTO
  `crm`.`audience_members` AS `t` USING `sw_stage` AS `s` ON `t`.`email_sha256` = `s`.`email_sha256`
  AND `t`.`audience` = 'whales'
WHEN NOT MATCHED THEN
INSERT
  (`email_sha256`, `ltv`, `audience`)
VALUES
  (`s`.`email_sha256`, `s`.`ltv`, 'whales');

SELECT
  `inserted`,
  `updated`,
  `deleted`,
  `skipped_null_keys`,
  `duplicate_keys`
FROM
  `sw_summary`;

COMMIT TRANSACTION;
