-- syncwright: sync whales_remove, audience mode remove, project.sync line 24
-- stage the model's rows, check the guards, then remove into crm.audience_members in one transaction; returns the summary row

BEGIN;

SELECT
  PG_ADVISORY_XACT_LOCK(2584613410365970087);

CREATE TEMPORARY TABLE "sw_stage" ON COMMIT DROP AS
SELECT
  "r"."sw_c0" AS "email_sha256",
  "r"."sw_c1" AS "ltv"
FROM
  (
    SELECT
      "r".*,
      ROW_NUMBER() OVER (
        PARTITION BY
          "r"."sw_c0"
        ORDER BY
          "r"."sw_o0" DESC NULLS LAST,
          "r"."sw_c1"
      ) AS "sw_rn"
    FROM
      (
        SELECT
          ENCODE(
            SHA256(
              CONVERT_TO(
                CASE
                  WHEN TRIM("m"."email") LIKE '%@%' THEN LOWER(TRIM("m"."email"))
                  ELSE TRIM("m"."email")
                END,
                'UTF8'
              )
            ),
            'hex'
          ) AS "sw_c0",
          "m"."ltv" AS "sw_c1",
          "m"."updated_at" AS "sw_o0"
        FROM
          "analytics"."users" AS "m"
        WHERE
          "m"."ltv" >= 1000
          AND (
            "m"."country" IN ('US', 'CA')
            OR "m"."signed_up" < CAST('2020-01-01' AS DATE)
          )
          AND "m"."email" NOT LIKE '%@test.example'
      ) AS "r"
    WHERE
      "r"."sw_c0" IS NOT NULL
  ) AS "r"
WHERE
  "r"."sw_rn" = 1;

CREATE TEMPORARY TABLE "sw_changes" ON COMMIT DROP AS
SELECT
  "s"."email_sha256",
  "s"."ltv",
  "t"."email_sha256" AS "sw_target_key",
  CASE
    WHEN "s"."email_sha256" IS NULL THEN 'delete'
    WHEN "t"."email_sha256" IS NULL THEN 'insert'
    ELSE 'update'
  END AS "sw_action"
FROM
  "sw_stage" AS "s"
  FULL OUTER JOIN (
    SELECT
      *
    FROM
      "crm"."audience_members"
    WHERE
      "audience" = 'whales'
  ) AS "t" ON "s"."email_sha256" = "t"."email_sha256"
WHERE
  "s"."email_sha256" IS NULL
  OR "t"."email_sha256" IS NULL;

ANALYZE "sw_changes";

CREATE TEMPORARY TABLE "sw_summary" ON COMMIT DROP AS
SELECT
  "k"."staged" AS "staged",
  0 AS "inserted",
  "c"."updated" AS "updated",
  "c"."deleted" AS "deleted",
  "k"."staged" - "c"."inserted" + "c"."deleted" AS "target_rows",
  "n"."total" - "n"."keyed" AS "skipped_null_keys",
  "n"."keyed" - "k"."staged" AS "duplicate_keys"
FROM
  (
    SELECT
      COUNT(*) AS "staged"
    FROM
      "sw_stage"
  ) AS "k"
  CROSS JOIN (
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
      ) AS "deleted"
    FROM
      "sw_changes"
  ) AS "c"
  CROSS JOIN (
    SELECT
      COUNT(*) AS "total",
      COUNT("m"."email") AS "keyed"
    FROM
      "analytics"."users" AS "m"
    WHERE
      "m"."ltv" >= 1000
      AND (
        "m"."country" IN ('US', 'CA')
        OR "m"."signed_up" < CAST('2020-01-01' AS DATE)
      )
      AND "m"."email" NOT LIKE '%@test.example'
  ) AS "n";

DO $guard$
BEGIN
  IF EXISTS (SELECT 1 FROM "sw_summary" WHERE "staged" = 0 AND "deleted" > 0) THEN
    RAISE EXCEPTION USING MESSAGE = 'syncwright guard: the model has no rows, so every row would be deleted (`guard allow empty` allows it); nothing was changed';
  END IF;
END
$guard$;

DO $guard$
BEGIN
  IF EXISTS (SELECT 1 FROM "sw_summary" WHERE "deleted" * 100 > 5 * "target_rows") THEN
    RAISE EXCEPTION USING MESSAGE = 'syncwright guard: more than 5% of the rows would be deleted (guard deletes <= 5%); nothing was changed';
  END IF;
END
$guard$;

MERGE INTO "crm"."audience_members" AS "t"
USING "sw_stage" AS "s"
ON "t"."email_sha256" = "s"."email_sha256" AND "t"."audience" = 'whales'
WHEN NOT MATCHED BY SOURCE AND "t"."audience" = 'whales' THEN
  DELETE;

SELECT
  "inserted",
  "updated",
  "deleted",
  "skipped_null_keys",
  "duplicate_keys"
FROM
  "sw_summary";

COMMIT;
