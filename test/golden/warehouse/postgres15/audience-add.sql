-- syncwright: sync whales_add, audience mode add, project.sync line 24
-- stage the model's rows, check the guards, then add into crm.audience_members in one transaction; returns the summary row

BEGIN;

SELECT
  PG_ADVISORY_XACT_LOCK(8350849780341944418);

SET LOCAL jit = off;
SET LOCAL TimeZone = 'UTC';
DO $settings$
BEGIN
  IF pg_size_bytes(current_setting('work_mem')) < pg_size_bytes('8MB') THEN
    PERFORM set_config('work_mem', '8MB', true);
  END IF;
END
$settings$;

CREATE TEMPORARY TABLE "sw_changes" ON COMMIT DROP AS
SELECT
  "c".*
FROM
  (
    SELECT
      NULLIF("s"."email_sha256", "s"."sw_next_key") AS "email_sha256",
      "s"."ltv",
      "t"."email_sha256" AS "sw_target_key",
      "s"."sw_row",
      "s"."sw_next_key" IS NULL AS "sw_no_next_key",
      CASE
        WHEN "s"."sw_next_key" = "s"."email_sha256" THEN 'duplicate'
        WHEN "s"."email_sha256" IS NULL THEN 'null_key'
        WHEN "t"."email_sha256" IS NULL THEN 'insert'
      END AS "sw_action"
    FROM
      (
        SELECT
          "r"."sw_c0" AS "email_sha256",
          "r"."sw_c1" AS "ltv",
          LEAD("r"."sw_c0") OVER "w" AS "sw_next_key",
          ROW_NUMBER() OVER "w" AS "sw_row"
        FROM
          (
            SELECT
              ENCODE(
                SHA256(
                  CONVERT_TO(
                    NULLIF(
                      CASE
                        WHEN strpos(btrim("m"."email"), '@') > 0 THEN lower(btrim("m"."email") COLLATE "default")
                        ELSE btrim("m"."email")
                      END,
                      ''
                    ),
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
        WINDOW
          "w" AS (
            ORDER BY
              "r"."sw_c0",
              "r"."sw_o0" ASC NULLS FIRST,
              "r"."sw_c1" DESC NULLS FIRST ROWS UNBOUNDED PRECEDING
          )
      ) AS "s"
      LEFT JOIN (
        SELECT
          *
        FROM
          "crm"."audience_members"
        WHERE
          "audience" = 'whales'
      ) AS "t" ON "s"."email_sha256" = "t"."email_sha256"
  ) AS "c"
WHERE
  "c"."sw_action" IS NOT NULL
  OR "c"."sw_no_next_key";

CREATE TEMPORARY TABLE "sw_summary" ON COMMIT DROP AS
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
      COALESCE(MAX("sw_row"), 0) AS "total",
      COALESCE(MAX("sw_row"), 0) - COUNT(
        CASE
          WHEN "sw_action" = 'null_key' THEN 1
        END
      ) AS "keyed"
    FROM
      "sw_changes"
  ) AS "n";

MERGE INTO "crm"."audience_members" AS "t"
USING "sw_changes" AS "s"
ON "t"."email_sha256" = "s"."email_sha256" AND "t"."audience" = 'whales'
WHEN NOT MATCHED AND "s"."sw_action" = 'insert' THEN
  INSERT (
    "email_sha256",
    "ltv",
    "audience"
  )
  VALUES (
    "s"."email_sha256",
    "s"."ltv",
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
