-- What happens in the shop between the two runs of the demo.
UPDATE shop.customers SET plan = 'starter', mrr = 29 WHERE id = 3;   -- Grace starts paying
UPDATE shop.customers SET mrr = 199 WHERE id = 2;                    -- Alan buys more seats
DELETE FROM shop.customers WHERE id = 8;                             -- John closes his account
INSERT INTO shop.customers VALUES (9, 'frances@allen.dev', 'Frances Allen', 'pro', 99, 'US');  -- Frances signs up on pro
