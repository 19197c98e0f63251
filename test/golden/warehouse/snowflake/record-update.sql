-- syncwright: sync users_update, record mode update, project.sync line 24
-- stage the model's rows, check the guards, then update into crm.users in one transaction; returns the summary row

ALTER SESSION SET TIMEZONE = 'UTC';

CREATE OR REPLACE TEMPORARY TABLE "sw_changes" AS
WITH
  "sw_rows" AS (
    SELECT
      "m"."USER_ID" AS "sw_c0",
      SHA2(
        NULLIF(
          CASE
            WHEN CONTAINS(TRIM("m"."EMAIL"), '@') THEN LOWER(TRIM("m"."EMAIL"))
            ELSE TRIM("m"."EMAIL")
          END,
          ''
        )
      ) AS "sw_c1",
      "m"."Full Name" AS "sw_c2",
      "m"."LTV" AS "sw_c3",
      "m"."PREFS" AS "sw_c4",
      "m"."UPDATED_AT" AS "sw_o0"
    FROM
      "ANALYTICS"."USERS" AS "m"
  )
SELECT
  "c".*,
  NULL AS "sw_total",
  NULL AS "sw_keyed"
FROM
  (
    SELECT
      CASE
        WHEN "s"."sw_rn" = 1 THEN "s"."ID"
      END AS "ID",
      "s"."EMAIL",
      "s"."FULL_NAME",
      "s"."LTV",
      "s"."PREFS",
      "t"."ID" AS "sw_target_key",
      CASE
        WHEN "s"."sw_rn" > 1 THEN 'duplicate'
        WHEN "t"."ID" IS NOT NULL
        AND (
          NOT EQUAL_NULL("t"."EMAIL", "s"."EMAIL")
          OR NOT EQUAL_NULL("t"."FULL_NAME", "s"."FULL_NAME")
          OR NOT EQUAL_NULL("t"."LTV", "s"."LTV")
          OR NOT EQUAL_NULL("t"."PREFS", "s"."PREFS")
        ) THEN 'update'
      END AS "sw_action"
    FROM
      (
        SELECT
          "r"."sw_c0" AS "ID",
          "r"."sw_c1" AS "EMAIL",
          "r"."sw_c2" AS "FULL_NAME",
          "r"."sw_c3" AS "LTV",
          "r"."sw_c4" AS "PREFS",
          ROW_NUMBER() OVER (
            PARTITION BY
              "r"."sw_c0"
            ORDER BY
              "r"."sw_o0" DESC NULLS LAST,
              "r"."sw_c1" ASC NULLS LAST,
              "r"."sw_c2" ASC NULLS LAST,
              "r"."sw_c3" ASC NULLS LAST,
              "r"."sw_c4" ASC NULLS LAST
          ) AS "sw_rn"
        FROM
          "sw_rows" AS "r"
        WHERE
          "r"."sw_c0" IS NOT NULL
      ) AS "s"
      LEFT JOIN "CRM"."USERS" AS "t" ON "s"."ID" = "t"."ID"
  ) AS "c"
WHERE
  "c"."sw_action" IS NOT NULL
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
  COUNT("r"."sw_c0")
FROM
  "sw_rows" AS "r";

CREATE OR REPLACE TEMPORARY TABLE "sw_summary" AS
SELECT
  "n"."keyed" - "c"."duplicates" AS "staged",
  0 AS "inserted",
  "c"."updated" AS "updated",
  "c"."deleted" AS "deleted",
  0 AS "target_rows",
  "n"."total" - "n"."keyed" AS "skipped_null_keys",
  "c"."duplicates" AS "duplicate_keys"
FROM
  (
    SELECT
      COUNT(
        CASE
          WHEN "sw_action" = 'insert' THEN 1
        END
      ) AS "inserted",
      COUNT(
        CASE
          WHEN "sw_action" = 'update' THEN 1
        END
      ) AS "updated",
      COUNT(
        CASE
          WHEN "sw_action" = 'delete' THEN 1
        END
      ) AS "deleted",
      COUNT(
        CASE
          WHEN "sw_action" = 'duplicate' THEN 1
        END
      ) AS "duplicates"
    FROM
      "sw_changes"
  ) AS "c"
  CROSS JOIN (
    SELECT
      MAX("sw_total") AS "total",
      MAX("sw_keyed") AS "keyed"
    FROM
      "sw_changes"
  ) AS "n";

BEGIN TRANSACTION;

MERGE INTO "CRM"."USERS" AS "t"
USING "sw_changes" AS "s"
ON "t"."ID" = "s"."ID"
WHEN MATCHED AND "s"."sw_action" = 'update' THEN
  UPDATE SET
    "EMAIL" = "s"."EMAIL",
    "FULL_NAME" = "s"."FULL_NAME",
    "LTV" = "s"."LTV",
    "PREFS" = "s"."PREFS";

SELECT
  "inserted",
  "updated",
  "deleted",
  "skipped_null_keys",
  "duplicate_keys"
FROM
  "sw_summary";

COMMIT;
