-- The demo's starting data: shop.customers (the model) and an empty crm.customers (the copy).
DROP SCHEMA IF EXISTS shop CASCADE;
DROP SCHEMA IF EXISTS crm CASCADE;
DROP SCHEMA IF EXISTS syncwright CASCADE;
CREATE SCHEMA shop;
CREATE SCHEMA crm;
CREATE TABLE shop.customers (
  id bigint PRIMARY KEY,
  email text NOT NULL,
  name text NOT NULL,
  plan text NOT NULL,
  mrr numeric(10, 2) NOT NULL,
  country text
);
CREATE TABLE crm.customers (id bigint PRIMARY KEY, email text, name text, plan text, mrr numeric(10, 2));
INSERT INTO shop.customers VALUES
  (1, 'ada@lovelace.dev', 'Ada Lovelace', 'starter', 29, 'GB'),
  (2, 'alan@turing.dev', 'Alan Turing', 'pro', 99, 'GB'),
  (3, 'grace@hopper.dev', 'Grace Hopper', 'free', 0, 'US'),
  (4, 'edsger@dijkstra.dev', 'Edsger Dijkstra', 'pro', 99, 'NL'),
  (5, 'barbara@liskov.dev', 'Barbara Liskov', 'free', 0, 'US'),
  (6, 'donald@knuth.dev', 'Donald Knuth', 'starter', 29, 'US'),
  (7, 'margaret@hamilton.dev', 'Margaret Hamilton', 'pro', 99, 'US'),
  (8, 'john@mccarthy.dev', 'John McCarthy', 'free', 0, NULL);
