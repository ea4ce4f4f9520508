-- The database's identity (PostgreSQL): a random id made once, when the database is created
-- (or first migrated to this version). Every registry cursor names it, so a phone whose cursor
-- comes from another database (the server's was replaced, or restored from a backup and given
-- a new id) is told to sync again from the start instead of skipping rows. See
-- crates/server/README.md, "Cursors and the database's identity".
CREATE TABLE caremap_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO caremap_meta (key, value)
VALUES ('database_id', substr(md5(random()::text || clock_timestamp()::text), 1, 16));
