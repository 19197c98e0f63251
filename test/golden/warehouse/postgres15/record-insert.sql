-- syncwright: sync users_insert, record mode insert, project.sync line 24
-- stage the model's rows, check the guards, then insert into crm.users in one transaction; returns the summary row

BEGIN;

SELECT
  PG_ADVISORY_XACT_LOCK(4003215768051045604);

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
        WHEN "s"."id" IS NULL THEN 'null_key'
        WHEN "t"."id" IS NULL THEN 'insert'
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
      LEFT JOIN "crm"."users" AS "t" ON "s"."id" = "t"."id"
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

MERGE INTO "crm"."users" AS "t"
USING "sw_changes" AS "s"
ON "t"."id" = "s"."id"
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

SELECT
  "inserted",
  "updated",
  "deleted",
  "skipped_null_keys",
  "duplicate_keys"
FROM
  "sw_summary";

COMMIT;
