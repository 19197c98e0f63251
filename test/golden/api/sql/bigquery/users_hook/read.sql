-- syncwright: sync users_hook, record mode insert, project.sync line 18
-- the added rows of the change set, in seq order

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
  `users_hook_changes`
WHERE
  `change` IN ('added')
ORDER BY
  `seq`;
