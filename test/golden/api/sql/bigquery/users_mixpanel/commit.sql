-- syncwright: sync users_mixpanel, record mode insert, project.sync line 20
-- moves the accepted rows into the snapshot

-- Moves the rows the destination accepted (loaded into the accepted table by the executor)
-- into the snapshot, so a rejected or unsent row stays out and is sent again next run.
BEGIN TRANSACTION;

MERGE INTO `syncwright`.`users_mixpanel_snapshot` AS `s`
USING (
  SELECT
    `ch`.`row_key` AS `row_key`,
    MAX(`ch`.`payload_hash`) AS `payload_hash`,
    MAX(`a`.`destination_id`) AS `destination_id`
  FROM
    `syncwright`.`users_mixpanel_accepted` AS `a`
    JOIN `syncwright`.`users_mixpanel_changes` AS `ch` ON `ch`.`row_key` = `a`.`row_key`
  WHERE
    `ch`.`change` IN ('added', 'changed', 'unchanged')
  GROUP BY
    `ch`.`row_key`
) AS `n`
ON `s`.`row_key` = `n`.`row_key`
WHEN MATCHED THEN
  UPDATE SET
    `payload_hash` = `n`.`payload_hash`,
    `destination_id` = COALESCE(`n`.`destination_id`, `s`.`destination_id`)
WHEN NOT MATCHED THEN
  INSERT (
    `row_key`,
    `payload_hash`,
    `destination_id`
  )
  VALUES (
    `n`.`row_key`,
    `n`.`payload_hash`,
    `n`.`destination_id`
  );

DELETE FROM `syncwright`.`users_mixpanel_snapshot`
WHERE
  `row_key` IN (
    SELECT
      `ch`.`row_key`
    FROM
      `syncwright`.`users_mixpanel_accepted` AS `a`
      JOIN `syncwright`.`users_mixpanel_changes` AS `ch` ON `ch`.`row_key` = `a`.`row_key`
    WHERE
      `ch`.`change` = 'removed'
  );

DELETE FROM `syncwright`.`users_mixpanel_accepted`
WHERE
  TRUE;

COMMIT TRANSACTION;
