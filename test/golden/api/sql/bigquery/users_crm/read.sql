-- syncwright: sync users_crm, record mode mirror, project.sync line 17
-- the added, changed, removed rows of the change set, in seq order

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
  `users_crm_changes`
WHERE
  `change` IN ('added', 'changed', 'removed')
ORDER BY
  `seq`;
