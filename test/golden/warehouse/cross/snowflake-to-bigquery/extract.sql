-- syncwright: sync users_to_dw, record mode mirror, project.sync line 25
-- select the model's rows, mapped, on wh for the load into dw

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
  "m"."UPDATED_AT" AS "sw_o0"
FROM
  "ANALYTICS"."USERS" AS "m";
