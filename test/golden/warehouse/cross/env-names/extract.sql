-- syncwright: sync users_to_dw, record mode mirror, project.sync line 25
-- select the model's rows, mapped, on wh for the load into dw

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
  "m"."updated_at" AS "sw_o0"
FROM
  "{{env:DW_SOURCE_SCHEMA}}"."users" AS "m";
