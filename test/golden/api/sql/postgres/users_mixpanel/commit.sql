-- syncwright: sync users_mixpanel, record mode insert, project.sync line 20
-- moves the accepted rows, and those sent without an answer, into the snapshot

-- Moves the rows the destination accepted (inserted into the accepted table by the executor,
-- each with its change and payload hash) into the snapshot, so a rejected or unsent row stays
-- out and is sent again next run. It reads only the accepted table: run before changes.sql, it
-- finishes the commit of a run that was killed before its own.
-- The executor also records each row as sent before its request leaves, and as refused where
-- the destination surely did not apply it. A row sent more often than it was accepted or
-- refused may or may not have been applied (its answer lost, the run killed): its snapshot row
-- gets the unknown payload hash, which no payload has, and keeps its destination id (the one
-- an accepted row brought, else the one it was sent with), so that the next change set sends
-- it again while the model has it and removes it once it does not.
CREATE TABLE IF NOT EXISTS "syncwright"."users_mixpanel_keys" (
  "row_key" TEXT NOT NULL PRIMARY KEY,
  "idempotency_key" TEXT NOT NULL
);

BEGIN;

MERGE INTO "syncwright"."users_mixpanel_snapshot" AS "s"
USING (
  SELECT
    "a"."row_key" AS "row_key",
    CASE
      WHEN COUNT(CASE WHEN "a"."change" = 'sent' THEN 1 END) > COUNT(CASE WHEN "a"."change" <> 'sent' THEN 1 END) THEN 'unknown'
      ELSE MAX("a"."payload_hash")
    END AS "payload_hash",
    COALESCE(MAX(CASE WHEN "a"."change" NOT IN ('sent', 'refused') THEN "a"."destination_id" END), MAX("a"."destination_id")) AS "destination_id"
  FROM
    "syncwright"."users_mixpanel_accepted_rows" AS "a"
  GROUP BY
    "a"."row_key"
  HAVING
    COUNT(CASE WHEN "a"."change" = 'sent' THEN 1 END) > COUNT(CASE WHEN "a"."change" <> 'sent' THEN 1 END) OR COUNT(CASE WHEN "a"."change" IN ('added', 'changed', 'unchanged') THEN 1 END) > 0
) AS "n"
ON "s"."row_key" = "n"."row_key"
WHEN MATCHED THEN
  UPDATE SET
    "payload_hash" = "n"."payload_hash",
    "destination_id" = COALESCE("n"."destination_id", "s"."destination_id")
WHEN NOT MATCHED THEN
  INSERT (
    "row_key",
    "payload_hash",
    "destination_id"
  )
  VALUES (
    "n"."row_key",
    "n"."payload_hash",
    "n"."destination_id"
  );

DELETE FROM "syncwright"."users_mixpanel_snapshot"
WHERE
  "row_key" IN (
    SELECT
      "a"."row_key"
    FROM
      "syncwright"."users_mixpanel_accepted_rows" AS "a"
    WHERE
      "a"."change" = 'removed'
  );

MERGE INTO "syncwright"."users_mixpanel_keys" AS "k"
USING (
  SELECT
    "a"."row_key" AS "row_key",
    ENCODE(SHA256(CONVERT_TO('users_mixpanel:' || CASE WHEN COUNT(CASE WHEN "a"."change" = 'removed' THEN 1 END) > 0 THEN 'removed' ELSE 'sent' END || ':' || "a"."row_key" || ':' || MAX(CASE WHEN "a"."change" IN ('added', 'changed', 'removed') THEN "a"."payload_hash" END) || ':' || COALESCE("p"."idempotency_key", ''), 'UTF8')), 'hex') AS "idempotency_key"
  FROM
    "syncwright"."users_mixpanel_accepted_rows" AS "a"
    LEFT JOIN "syncwright"."users_mixpanel_keys" AS "p" ON "p"."row_key" = "a"."row_key"
  GROUP BY
    "a"."row_key",
    "p"."idempotency_key"
  HAVING
    NOT (COUNT(CASE WHEN "a"."change" = 'sent' THEN 1 END) > COUNT(CASE WHEN "a"."change" <> 'sent' THEN 1 END)) AND COUNT(CASE WHEN "a"."change" IN ('added', 'changed', 'removed') THEN 1 END) > 0
) AS "n"
ON "k"."row_key" = "n"."row_key"
WHEN MATCHED THEN
  UPDATE SET
    "idempotency_key" = "n"."idempotency_key"
WHEN NOT MATCHED THEN
  INSERT (
    "row_key",
    "idempotency_key"
  )
  VALUES (
    "n"."row_key",
    "n"."idempotency_key"
  );

DELETE FROM "syncwright"."users_mixpanel_accepted_rows"
WHERE
  TRUE;

COMMIT;
