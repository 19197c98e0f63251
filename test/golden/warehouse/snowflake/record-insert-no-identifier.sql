-- syncwright: sync users_insert_all, record mode insert, project.sync line 24
-- stage the model's rows, check the guards, then insert into crm.users in one transaction; returns the summary row

ALTER SESSION SET TIMEZONE = 'UTC';

CREATE OR REPLACE TEMPORARY TABLE "sw_stage" AS
SELECT
  "r"."sw_c0" AS "EMAIL",
  "r"."sw_c1" AS "FULL_NAME",
  "r"."sw_c2" AS "LTV",
  "r"."sw_c3" AS "PREFS"
FROM
  (
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
      "m"."Full Name" AS "sw_c1",
      "m"."LTV" AS "sw_c2",
      "m"."PREFS" AS "sw_c3",
      "m"."UPDATED_AT" AS "sw_o0"
    FROM
      "ANALYTICS"."USERS" AS "m"
  ) AS "r";

CREATE OR REPLACE TEMPORARY TABLE "sw_summary" AS
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

BEGIN TRANSACTION;

INSERT INTO
  "CRM"."USERS" ("EMAIL", "FULL_NAME", "LTV", "PREFS")
SELECT
  "EMAIL",
  "FULL_NAME",
  "LTV",
  "PREFS"
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
