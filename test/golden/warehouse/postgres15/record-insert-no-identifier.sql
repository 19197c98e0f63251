-- syncwright: sync users_insert_all, record mode insert, project.sync line 24
-- stage the model's rows, check the guards, then insert into crm.users in one transaction; returns the summary row

BEGIN;

SELECT
  PG_ADVISORY_XACT_LOCK(9153043370288437903);

SET LOCAL jit = off;
SET LOCAL TimeZone = 'UTC';
DO $settings$
BEGIN
  IF pg_size_bytes(current_setting('work_mem')) < pg_size_bytes('8MB') THEN
    PERFORM set_config('work_mem', '8MB', true);
  END IF;
END
$settings$;

CREATE TEMPORARY TABLE "sw_stage" ON COMMIT DROP AS
SELECT
  "r"."sw_c0" AS "email",
  "r"."sw_c1" AS "full_name",
  "r"."sw_c2" AS "ltv",
  "r"."sw_c3" AS "prefs"
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
      "m"."Full Name" AS "sw_c1",
      "m"."ltv" AS "sw_c2",
      "m"."prefs" AS "sw_c3",
      "m"."updated_at" AS "sw_o0"
    FROM
      "analytics"."users" AS "m"
  ) AS "r";

CREATE TEMPORARY TABLE "sw_summary" ON COMMIT DROP AS
SELECT
  "k"."staged" AS "staged",
  "k"."staged" AS "inserted",
  0 AS "updated",
  0 AS "deleted",
  0 AS "target_rows",
  0 AS "skipped_null_keys",
  0 AS "duplicate_keys"
FROM
  (
    SELECT
      COUNT(*) AS "staged"
    FROM
      "sw_stage"
  ) AS "k";

INSERT INTO
  "crm"."users" ("email", "full_name", "ltv", "prefs")
SELECT
  "email",
  "full_name",
  "ltv",
  "prefs"
FROM
  "sw_stage";

SELECT
  "inserted",
  "updated",
  "deleted",
  "skipped_null_keys",
  "duplicate_keys"
FROM
  "sw_summary";

COMMIT;
