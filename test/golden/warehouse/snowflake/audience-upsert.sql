-- syncwright: sync whales_upsert, audience mode upsert, project.sync line 24
-- stage the model's rows, check the guards, then upsert into crm.audience_members in one transaction; returns the summary row

ALTER SESSION SET TIMEZONE = 'UTC';

CREATE OR REPLACE TEMPORARY TABLE "sw_changes" AS
WITH
  "sw_rows" AS (
    SELECT
      SHA2(
        NULLIF(
          CASE
            WHEN CONTAINS(TRIM("m"."EMAIL"), '@') THEN LOWER(TRIM("m"."EMAIL"))
            ELSE TRIM("m"."EMAIL")
          END,
          ''
        )
      ) AS "sw_c0",
      "m"."LTV" AS "sw_c1",
      "m"."UPDATED_AT" AS "sw_o0"
    FROM
      "ANALYTICS"."USERS" AS "m"
    WHERE
      "m"."LTV" >= 1000
      AND (
        "m"."COUNTRY" IN ('US', 'CA')
        OR "m"."SIGNED_UP" < CAST('2020-01-01' AS DATE)
      )
      AND "m"."EMAIL" NOT LIKE '%@test.example' ESCAPE '\\'
  )
SELECT
  "c".*,
  NULL AS "sw_total",
  NULL AS "sw_keyed"
FROM
  (
    SELECT
      CASE
        WHEN "s"."sw_rn" = 1 THEN "s"."EMAIL_SHA256"
      END AS "EMAIL_SHA256",
      "s"."LTV",
      "t"."EMAIL_SHA256" AS "sw_target_key",
      CASE
        WHEN "s"."sw_rn" > 1 THEN 'duplicate'
        WHEN "t"."EMAIL_SHA256" IS NULL THEN 'insert'
        WHEN "t"."EMAIL_SHA256" IS NOT NULL
        AND (
          NOT EQUAL_NULL("t"."LTV", "s"."LTV")
        ) THEN 'update'
      END AS "sw_action"
    FROM
      (
        SELECT
          "r"."sw_c0" AS "EMAIL_SHA256",
          "r"."sw_c1" AS "LTV",
          ROW_NUMBER() OVER (
            PARTITION BY
              "r"."sw_c0"
            ORDER BY
              "r"."sw_o0" DESC NULLS LAST,
              "r"."sw_c1" ASC NULLS LAST
          ) AS "sw_rn"
        FROM
          "sw_rows" AS "r"
        WHERE
          "r"."sw_c0" IS NOT NULL
      ) AS "s"
      LEFT JOIN (
        SELECT
          *
        FROM
          "CRM"."AUDIENCE_MEMBERS"
        WHERE
          "AUDIENCE" = 'whales'
      ) AS "t" ON "s"."EMAIL_SHA256" = "t"."EMAIL_SHA256"
  ) AS "c"
WHERE
  "c"."sw_action" IS NOT NULL
UNION ALL
SELECT
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
  "c"."inserted" AS "inserted",
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

MERGE INTO "CRM"."AUDIENCE_MEMBERS" AS "t"
USING "sw_changes" AS "s"
ON "t"."EMAIL_SHA256" = "s"."EMAIL_SHA256" AND "t"."AUDIENCE" = 'whales'
WHEN MATCHED AND "s"."sw_action" = 'update' THEN
  UPDATE SET
    "LTV" = "s"."LTV"
WHEN NOT MATCHED AND "s"."sw_action" = 'insert' THEN
  INSERT (
    "EMAIL_SHA256",
    "LTV",
    "AUDIENCE"
  )
  VALUES (
    "s"."EMAIL_SHA256",
    "s"."LTV",
    'whales'
  );

SELECT
  "inserted",
  "updated",
  "deleted",
  "skipped_null_keys",
  "duplicate_keys"
FROM
  "sw_summary";

COMMIT;
