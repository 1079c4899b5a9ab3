-- grants.sql: the database accounts of an Aviary installation, each with
-- the least it needs (see docs/security.md).
--
--   aviary_admin    aviary-admin: the tables, and the DDL that
--                   `aviary-admin db migrate` runs
--   aviary_auth     aviary-auth: reads two views, keeps quota usage
--   aviary_postfix  Postfix's mysql maps: reads four views
--
-- Run as a MariaDB administrator, with the database name, the account
-- host and the three passwords set first, e.g. on standard input:
--
--   SET @db = 'aviary', @host = 'localhost',
--       @admin_password = '...', @auth_password = '...',
--       @postfix_password = '...';
--   SOURCE schema/grants.sql;
--
-- (aviary-admin setup and `make run` do exactly that; passwords never go
-- on a command line.) The views must exist for their grants, so run
-- `aviary-admin db migrate` between creating the database and this file,
-- or run this file twice. Safe to run again: it resets the passwords and
-- re-applies the grants.

SET @db = COALESCE(@db, 'aviary');
SET @host = COALESCE(@host, 'localhost');

SET @qdb = CONCAT('`', REPLACE(@db, '`', '``'), '`');

SET @s = CONCAT('CREATE DATABASE IF NOT EXISTS ', @qdb,
  ' CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci');
PREPARE st FROM @s;
EXECUTE st;

-- The accounts. CREATE OR REPLACE would drop existing grants first;
-- IF NOT EXISTS plus ALTER keeps a rerun harmless and resets passwords.
SET @s = CONCAT('CREATE USER IF NOT EXISTS ''aviary_admin''@', QUOTE(@host));
PREPARE st FROM @s;
EXECUTE st;
SET @s = CONCAT('ALTER USER ''aviary_admin''@', QUOTE(@host), ' IDENTIFIED BY ', QUOTE(@admin_password));
PREPARE st FROM @s;
EXECUTE st;
SET @s = CONCAT('CREATE USER IF NOT EXISTS ''aviary_auth''@', QUOTE(@host));
PREPARE st FROM @s;
EXECUTE st;
SET @s = CONCAT('ALTER USER ''aviary_auth''@', QUOTE(@host), ' IDENTIFIED BY ', QUOTE(@auth_password));
PREPARE st FROM @s;
EXECUTE st;
SET @s = CONCAT('CREATE USER IF NOT EXISTS ''aviary_postfix''@', QUOTE(@host));
PREPARE st FROM @s;
EXECUTE st;
SET @s = CONCAT('ALTER USER ''aviary_postfix''@', QUOTE(@host), ' IDENTIFIED BY ', QUOTE(@postfix_password));
PREPARE st FROM @s;
EXECUTE st;

-- aviary_admin: data changes, and the DDL of the migrations. No GRANT
-- OPTION, no access to other databases.
SET @s = CONCAT('GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, ',
  'REFERENCES, CREATE VIEW, SHOW VIEW ON ', @qdb, '.* TO ''aviary_admin''@', QUOTE(@host));
PREPARE st FROM @s;
EXECUTE st;

-- The view grants need the views; skip them (DO 0) until migrate has run.
SET @views = (SELECT COUNT(*) FROM information_schema.views
  WHERE table_schema = @db AND table_name IN ('auth_users', 'auth_alias_domains',
  'virtual_mailbox_domains', 'virtual_mailbox_maps', 'virtual_alias_maps'));
SET @have_quota = (SELECT COUNT(*) FROM information_schema.tables
  WHERE table_schema = @db AND table_name = 'quota_usage');

-- aviary_auth: the two auth views, and quota usage (kept current by the
-- mail services through aviary-auth).
SET @s = IF(@views = 5, CONCAT('GRANT SELECT ON ', @qdb, '.auth_users TO ''aviary_auth''@', QUOTE(@host)), 'DO 0');
PREPARE st FROM @s;
EXECUTE st;
SET @s = IF(@views = 5, CONCAT('GRANT SELECT ON ', @qdb, '.auth_alias_domains TO ''aviary_auth''@', QUOTE(@host)), 'DO 0');
PREPARE st FROM @s;
EXECUTE st;
SET @s = IF(@have_quota = 1, CONCAT('GRANT SELECT, INSERT, UPDATE ON ', @qdb, '.quota_usage TO ''aviary_auth''@', QUOTE(@host)), 'DO 0');
PREPARE st FROM @s;
EXECUTE st;

-- aviary_postfix: the three views its maps query, nothing else.
SET @s = IF(@views = 5, CONCAT('GRANT SELECT ON ', @qdb, '.virtual_mailbox_domains TO ''aviary_postfix''@', QUOTE(@host)), 'DO 0');
PREPARE st FROM @s;
EXECUTE st;
SET @s = IF(@views = 5, CONCAT('GRANT SELECT ON ', @qdb, '.virtual_mailbox_maps TO ''aviary_postfix''@', QUOTE(@host)), 'DO 0');
PREPARE st FROM @s;
EXECUTE st;
SET @s = IF(@views = 5, CONCAT('GRANT SELECT ON ', @qdb, '.virtual_alias_maps TO ''aviary_postfix''@', QUOTE(@host)), 'DO 0');
PREPARE st FROM @s;
EXECUTE st;

-- aviary_postfix: the sender-login view (002_sender_login.sql) for
-- smtpd_sender_login_maps, once that migration has run.
SET @have_sender = (SELECT COUNT(*) FROM information_schema.views
  WHERE table_schema = @db AND table_name = 'sender_login_maps');
SET @s = IF(@have_sender = 1, CONCAT('GRANT SELECT ON ', @qdb, '.sender_login_maps TO ''aviary_postfix''@', QUOTE(@host)), 'DO 0');
PREPARE st FROM @s;
EXECUTE st;

DEALLOCATE PREPARE st;
