/* rustydb_am--0.1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION rustydb_am" to load this file. \quit

CREATE FUNCTION rustydb.rustydb_am_handler(internal)
RETURNS table_am_handler
AS 'MODULE_PATHNAME', 'rustydb_am_handler'
LANGUAGE C STRICT;

CREATE ACCESS METHOD rustydb TYPE TABLE HANDLER rustydb.rustydb_am_handler;
COMMENT ON ACCESS METHOD rustydb IS 'rustydb: LSM-shaped table access method';
