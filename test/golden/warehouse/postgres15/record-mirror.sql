-- syncwright: sync users_mirror, record mode mirror, project.sync line 24
-- stage the model's rows, check the guards, then mirror into crm.users in one transaction; returns the summary row

BEGIN;

SELECT
  PG_ADVISORY_XACT_LOCK(8245817554239758855);

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
      NULLIF("s"."id", "s"."sw_next_key") AS "id",
      "s"."email",
      "s"."full_name",
      "s"."ltv",
      "s"."prefs",
      "t"."id" AS "sw_target_key",
      "s"."sw_row",
      "s"."sw_next_key" IS NULL AS "sw_no_next_key",
      CASE
        WHEN "s"."sw_next_key" = "s"."id" THEN 'duplicate'
        WHEN "s"."sw_row" IS NULL THEN 'delete'
        WHEN "s"."id" IS NULL THEN 'null_key'
        WHEN "t"."id" IS NULL THEN 'insert'
        WHEN "t"."id" IS NOT NULL
        AND (
          "t"."email" IS DISTINCT FROM "s"."email"
          OR "t"."full_name" IS DISTINCT FROM "s"."full_name"
          OR "t"."ltv" IS DISTINCT FROM "s"."ltv"
          OR CAST("t"."prefs" AS JSONB) IS DISTINCT FROM CAST("s"."prefs" AS JSONB)
        ) THEN 'update'
      END AS "sw_action"
    FROM
      (
        SELECT
          "r"."sw_c0" AS "id",
          "r"."sw_c1" AS "email",
          "r"."sw_c2" AS "full_name",
          "r"."sw_c3" AS "ltv",
          "r"."sw_c4" AS "prefs",
          LEAD("r"."sw_c0") OVER "w" AS "sw_next_key",
          ROW_NUMBER() OVER "w" AS "sw_row"
        FROM
          (
            SELECT
              "m"."user_id" AS "sw_c0",
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
              ) AS "sw_c1",
              "m"."Full Name" AS "sw_c2",
              "m"."ltv" AS "sw_c3",
              "m"."prefs" AS "sw_c4",
              "m"."updated_at" AS "sw_o0"
            FROM
              "analytics"."users" AS "m"
          ) AS "r"
        WINDOW
          "w" AS (
            ORDER BY
              "r"."sw_c0",
              "r"."sw_o0" ASC NULLS FIRST,
              "r"."sw_c1" DESC NULLS FIRST,
              "r"."sw_c2" DESC NULLS FIRST,
              "r"."sw_c3" DESC NULLS FIRST,
              CAST("r"."sw_c4" AS JSONB) DESC NULLS FIRST ROWS UNBOUNDED PRECEDING
          )
      ) AS "s"
      FULL OUTER JOIN "crm"."users" AS "t" ON "s"."id" = "t"."id"
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
  "n"."keyed" - "c"."duplicates" - "c"."inserted" + "c"."deleted" AS "target_rows",
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

MERGE INTO "crm"."users" AS "t"
USING "sw_changes" AS "s"
ON "t"."id" = "s"."id"
WHEN MATCHED AND "s"."sw_action" = 'update' THEN
  UPDATE SET
    "email" = "s"."email",
    "full_name" = "s"."full_name",
    "ltv" = "s"."ltv",
    "prefs" = "s"."prefs"
WHEN NOT MATCHED AND "s"."sw_action" = 'insert' THEN
  INSERT (
    "id",
    "email",
    "full_name",
    "ltv",
    "prefs"
  )
  VALUES (
    "s"."id",
    "s"."email",
    "s"."full_name",
    "s"."ltv",
    "s"."prefs"
  );

DELETE FROM "crm"."users" AS "t"
WHERE
  "t"."id" IN (
    SELECT
      "c"."sw_target_key"
    FROM
      "sw_changes" AS "c"
    WHERE
      "c"."sw_action" = 'delete'
  );

DELETE FROM "crm"."users" AS "t"
WHERE
  "t"."id" IS NULL
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
