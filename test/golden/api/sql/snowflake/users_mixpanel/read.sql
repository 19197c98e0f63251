-- syncwright: sync users_mixpanel, record mode insert, project.sync line 20
-- the added rows of the change set, in seq order

-- The change rows this mode sends, in a stable order.
SELECT
  "seq",
  "change",
  "row_key",
  TO_JSON("payload") AS "payload",
  "payload_hash",
  "idempotency_key",
  "destination_id",
  TO_JSON("columns") AS "columns"
FROM
  "SYNC_STATE"."users_mixpanel_changes"
WHERE
  "change" IN ('added')
ORDER BY
  "seq";
