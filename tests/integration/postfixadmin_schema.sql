-- postfixadmin_schema.sql: the four PostfixAdmin 3.3 tables that
-- `aviary-admin import postfixadmin` reads, as PostfixAdmin's upgrade.php
-- leaves them on MySQL/MariaDB (database version 1847): column names,
-- types, defaults, keys and the latin1 character set of the address
-- columns. test_import_postfixadmin.py loads it into a second database
-- of the test MariaDB. The other PostfixAdmin tables (admin, log,
-- vacation, fetchmail, quota2 ...) are not read by the import.
--
-- Units, as PostfixAdmin uses them: domain.maxquota (largest mailbox)
-- and domain.quota (domain total) in MB of $CONF['quota_multiplier']
-- bytes; mailbox.quota in bytes. 0 is unlimited, -1 disabled.

CREATE TABLE domain (
  domain           VARCHAR(255) CHARACTER SET latin1 COLLATE latin1_general_ci NOT NULL,
  description      VARCHAR(255) CHARACTER SET utf8 NOT NULL DEFAULT '',
  aliases          INT NOT NULL DEFAULT 0,
  mailboxes        INT NOT NULL DEFAULT 0,
  maxquota         BIGINT NOT NULL DEFAULT 0,
  quota            BIGINT NOT NULL DEFAULT 0,
  transport        VARCHAR(255) CHARACTER SET latin1 COLLATE latin1_general_ci NOT NULL DEFAULT '',
  backupmx         TINYINT(1) NOT NULL DEFAULT 0,
  created          DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  modified         DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  active           TINYINT(1) NOT NULL DEFAULT 1,
  password_expiry  INT DEFAULT 0,
  PRIMARY KEY (domain)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_general_ci
  COMMENT='Postfix Admin - Virtual Domains';

CREATE TABLE mailbox (
  username         VARCHAR(255) CHARACTER SET latin1 COLLATE latin1_general_ci NOT NULL,
  password         VARCHAR(255) CHARACTER SET latin1 COLLATE latin1_general_ci NOT NULL,
  name             VARCHAR(255) CHARACTER SET utf8mb4 NOT NULL,
  maildir          VARCHAR(255) CHARACTER SET latin1 COLLATE latin1_general_ci NOT NULL,
  quota            BIGINT NOT NULL DEFAULT 0,
  local_part       VARCHAR(255) CHARACTER SET latin1 COLLATE latin1_general_ci NOT NULL,
  domain           VARCHAR(255) CHARACTER SET latin1 COLLATE latin1_general_ci NOT NULL,
  created          DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  modified         DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  active           TINYINT(1) NOT NULL DEFAULT 1,
  phone            VARCHAR(30) CHARACTER SET utf8 NOT NULL DEFAULT '',
  email_other      VARCHAR(255) CHARACTER SET utf8 NOT NULL DEFAULT '',
  token            VARCHAR(255) CHARACTER SET utf8 NOT NULL DEFAULT '',
  token_validity   DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  password_expiry  DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  PRIMARY KEY (username),
  KEY domain (domain)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_general_ci
  COMMENT='Postfix Admin - Virtual Mailboxes';

-- goto: the destinations, comma-separated. Every mailbox has a row here
-- with its own address in goto; a catch-all's address is '@domain'.
CREATE TABLE alias (
  address          VARCHAR(255) CHARACTER SET latin1 COLLATE latin1_general_ci NOT NULL,
  goto             TEXT CHARACTER SET latin1 COLLATE latin1_general_ci NOT NULL,
  domain           VARCHAR(255) CHARACTER SET latin1 COLLATE latin1_general_ci NOT NULL,
  created          DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  modified         DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  active           TINYINT(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (address),
  KEY domain (domain)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_general_ci
  COMMENT='Postfix Admin - Virtual Aliases';

-- Both domains of a pair are also rows of the domain table.
CREATE TABLE alias_domain (
  alias_domain     VARCHAR(255) CHARACTER SET latin1 COLLATE latin1_general_ci NOT NULL DEFAULT '',
  target_domain    VARCHAR(255) CHARACTER SET latin1 COLLATE latin1_general_ci NOT NULL DEFAULT '',
  created          DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  modified         DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  active           TINYINT(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (alias_domain),
  KEY active (active),
  KEY target_domain (target_domain)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_general_ci
  COMMENT='Postfix Admin - Domain Aliases';
