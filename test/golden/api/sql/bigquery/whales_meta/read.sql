-- syncwright: sync whales_meta, audience mode mirror, project.sync line 15
-- the added, changed, unchanged, removed rows of the change set, in seq order

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
  `whales_meta_changes`
WHERE
  `change` IN ('added', 'changed', 'unchanged', 'removed')
ORDER BY
  `seq`;
