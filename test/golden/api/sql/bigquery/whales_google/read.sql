-- syncwright: sync whales_google, audience mode add, project.sync line 16
-- the added, changed rows of the change set, in seq order

-- The change rows this mode sends, in a stable order.
SELECT
  `seq`,
  `change`,
  `row_key`,
  TO_JSON_STRING(`payload`) AS `payload`,
  `payload_hash`,
  `idempotency_key`,
  `destination_id`,
  TO_JSON_STRING(`columns`) AS `columns`
FROM
  `whales_google_changes`
WHERE
  `change` IN ('added', 'changed')
ORDER BY
  `seq`;
