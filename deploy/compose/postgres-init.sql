-- Runs once, as the superuser, in the database `app` when the PostgreSQL container initialises
-- its data directory. sluice's role may log in and replicate, nothing more. The publication that
-- sluiced would otherwise create (sluice_<name>) is made here, because a publication FOR TABLES
-- IN SCHEMA needs a superuser on PostgreSQL 15 (docs/operations.md, "Database privileges").
CREATE ROLE sluice WITH LOGIN REPLICATION PASSWORD 'sluice';
CREATE PUBLICATION sluice_app FOR TABLES IN SCHEMA public;
-- For initial snapshots (planned): read access to the captured tables.
GRANT USAGE ON SCHEMA public TO sluice;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO sluice;
