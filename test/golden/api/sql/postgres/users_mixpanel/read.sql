-- syncwright: sync users_mixpanel, record mode insert, project.sync line 20
-- the added rows of the change set, in seq order

-- The change rows this mode sends, in a stable order.
SELECT
  "seq",
  "change",
  "row_key",
  CAST("payload" AS TEXT) AS "payload",
  "payload_hash",
  "idempotency_key",
  "destination_id",
  CAST("columns" AS TEXT) AS "columns"
FROM
  pg_temp."users_mixpanel_changes"
WHERE
  "change" IN ('added')
ORDER BY
  "seq";
