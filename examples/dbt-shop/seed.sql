-- What dbt would have built for target dev (dbt_dev.dim_customers), and the sales team's
-- table the warehouse sync keeps exact: the example runs on an embedded database without dbt.
CREATE SCHEMA IF NOT EXISTS dbt_dev;
CREATE TABLE dbt_dev.dim_customers (
  customer_id    bigint NOT NULL,
  email          text NOT NULL,
  plan           character varying,
  lifetime_value numeric(12, 2),
  updated_at     timestamp without time zone
);
INSERT INTO dbt_dev.dim_customers VALUES
  (1, 'ada@example.com', 'pro', 1200.00, '2024-11-01 10:00:00'),
  (2, 'grace@example.com', 'starter', 80.50, '2024-11-02 11:00:00'),
  (3, 'linus@example.com', 'free', 0.00, '2024-11-03 12:00:00');

CREATE SCHEMA IF NOT EXISTS sales;
CREATE TABLE sales.customers (
  customer_id    bigint PRIMARY KEY,
  email          text,
  plan           text,
  lifetime_value numeric(12, 2)
);
