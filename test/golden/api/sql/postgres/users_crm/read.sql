-- syncwright: sync users_crm, record mode mirror, project.sync line 17
-- the added, changed, removed rows of the change set, in seq order

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
  pg_temp."users_crm_changes"
WHERE
  "change" IN ('added', 'changed', 'removed')
ORDER BY
  "seq";
