-- syncwright: sync whales_remove, audience mode remove, project.sync line 24
-- stage the model's rows, check the guards, then remove into crm.audience_members in one transaction; returns the summary row

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
        WHEN "s"."EMAIL_SHA256" IS NULL THEN 'delete'
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
      FULL OUTER JOIN (
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
  0 AS "inserted",
  "c"."updated" AS "updated",
  "c"."deleted" AS "deleted",
  (
    SELECT
      COUNT(*)
    FROM
      (
        SELECT
          *
        FROM
          "CRM"."AUDIENCE_MEMBERS"
        WHERE
          "AUDIENCE" = 'whales'
      ) AS "t"
  ) AS "target_rows",
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

EXECUTE IMMEDIATE $$
DECLARE
  guard_tripped EXCEPTION (-20001, 'syncwright guard: the model has no rows, so every row would be deleted (`guard allow empty` allows it); nothing was changed');
BEGIN
  IF (EXISTS (SELECT 1 FROM "sw_summary" WHERE "staged" = 0 AND "deleted" > 0)) THEN
    RAISE guard_tripped;
  END IF;
END;
$$;

EXECUTE IMMEDIATE $$
DECLARE
  guard_tripped EXCEPTION (-20001, 'syncwright guard: more than 5% of the rows would be deleted (guard deletes <= 5%); nothing was changed');
BEGIN
  IF (EXISTS (SELECT 1 FROM "sw_summary" WHERE "deleted" * 100 > 5 * "target_rows")) THEN
    RAISE guard_tripped;
  END IF;
END;
$$;

BEGIN TRANSACTION;

DELETE FROM "CRM"."AUDIENCE_MEMBERS" AS "t"
WHERE
  "t"."AUDIENCE" = 'whales'
  AND "t"."EMAIL_SHA256" IN (
    SELECT
      "c"."sw_target_key"
    FROM
      "sw_changes" AS "c"
    WHERE
      "c"."sw_action" = 'delete'
  );

DELETE FROM "CRM"."AUDIENCE_MEMBERS" AS "t"
WHERE
  "t"."AUDIENCE" = 'whales'
  AND "t"."EMAIL_SHA256" IS NULL
  AND EXISTS (
    SELECT
      1
    FROM
      "sw_changes" AS "c"
    WHERE
      "c"."sw_action" = 'delete'
      AND "c"."sw_target_key" IS NULL
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
