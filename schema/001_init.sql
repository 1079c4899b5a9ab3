-- 001_init.sql: the first Aviary schema.
--
-- Applied by `aviary-admin db migrate`, which records it in
-- schema_migrations. Every statement is idempotent (IF NOT EXISTS, OR
-- REPLACE) because MariaDB commits DDL implicitly: a migration cut short
-- is completed by running migrate again. Statements end with ';' at the
-- end of a line; the runner splits on that, so keep one statement per
-- ';'-terminated block and no ';' at a line end inside a statement.
--
-- Names are stored normalised (lower-case ASCII, domains in xn-- form) by
-- aviary-admin; utf8mb4_general_ci makes stray upper case from hand-made
-- rows still match, and makes 'A' and 'a' one key in unique indexes.
-- Quotas and limits use 0 for "unlimited".

CREATE TABLE IF NOT EXISTS schema_migrations (
  version     INT UNSIGNED NOT NULL,
  name        VARCHAR(255) NOT NULL,
  applied_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS domains (
  id                   INT UNSIGNED NOT NULL AUTO_INCREMENT,
  name                 VARCHAR(253) NOT NULL,
  active               TINYINT(1) NOT NULL DEFAULT 1,
  max_mailboxes        INT UNSIGNED NOT NULL DEFAULT 0,
  max_aliases          INT UNSIGNED NOT NULL DEFAULT 0,
  mailbox_quota_bytes  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  quota_bytes          BIGINT UNSIGNED NOT NULL DEFAULT 0,
  created_at           DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at           DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY uk_domains_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS mailboxes (
  id                   INT UNSIGNED NOT NULL AUTO_INCREMENT,
  domain_id            INT UNSIGNED NOT NULL,
  local_part           VARCHAR(64) NOT NULL,
  password             VARCHAR(512) NOT NULL,
  name                 VARCHAR(255) NOT NULL DEFAULT '',
  quota_bytes          BIGINT UNSIGNED NOT NULL DEFAULT 0,
  quota_messages       INT UNSIGNED NOT NULL DEFAULT 0,
  active               TINYINT(1) NOT NULL DEFAULT 1,
  password_changed_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  created_at           DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at           DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY uk_mailboxes_address (domain_id, local_part),
  CONSTRAINT fk_mailboxes_domain FOREIGN KEY (domain_id)
    REFERENCES domains (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- One row per (source, destination). local_part '' is the domain's
-- catch-all (@domain). Postfix joins all rows of a source with commas.
CREATE TABLE IF NOT EXISTS aliases (
  id           INT UNSIGNED NOT NULL AUTO_INCREMENT,
  domain_id    INT UNSIGNED NOT NULL,
  local_part   VARCHAR(64) NOT NULL,
  destination  VARCHAR(320) NOT NULL,
  active       TINYINT(1) NOT NULL DEFAULT 1,
  created_at   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY uk_aliases_route (domain_id, local_part, destination),
  CONSTRAINT fk_aliases_domain FOREIGN KEY (domain_id)
    REFERENCES domains (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- name is another domain whose every address means the same address in
-- the target domain.
CREATE TABLE IF NOT EXISTS alias_domains (
  id                INT UNSIGNED NOT NULL AUTO_INCREMENT,
  name              VARCHAR(253) NOT NULL,
  target_domain_id  INT UNSIGNED NOT NULL,
  active            TINYINT(1) NOT NULL DEFAULT 1,
  created_at        DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY uk_alias_domains_name (name),
  KEY k_alias_domains_target (target_domain_id),
  CONSTRAINT fk_alias_domains_target FOREIGN KEY (target_domain_id)
    REFERENCES domains (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- Usage as measured by the mail services (bytes and messages in the
-- Maildir); the limits are in mailboxes.
CREATE TABLE IF NOT EXISTS quota_usage (
  mailbox_id  INT UNSIGNED NOT NULL,
  bytes       BIGINT UNSIGNED NOT NULL DEFAULT 0,
  messages    BIGINT UNSIGNED NOT NULL DEFAULT 0,
  updated_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (mailbox_id),
  CONSTRAINT fk_quota_usage_mailbox FOREIGN KEY (mailbox_id)
    REFERENCES mailboxes (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- What the admins changed, kept when the domain or mailbox is deleted
-- (no foreign keys on purpose).
CREATE TABLE IF NOT EXISTS audit_log (
  id       BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  at       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  actor    VARCHAR(64) NOT NULL,
  action   VARCHAR(64) NOT NULL,
  object   VARCHAR(320) NOT NULL,
  detail   VARCHAR(1024) NOT NULL DEFAULT '',
  PRIMARY KEY (id),
  KEY k_audit_object (object)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- The auth service reads these two views only (schema/grants.sql).
CREATE OR REPLACE VIEW auth_users AS
  SELECT m.id AS mailbox_id, m.local_part, d.name AS domain, m.password,
         m.quota_bytes, m.quota_messages,
         (m.active = 1 AND d.active = 1) AS active,
         m.password_changed_at
  FROM mailboxes m JOIN domains d ON d.id = m.domain_id;

CREATE OR REPLACE VIEW auth_alias_domains AS
  SELECT ad.name AS alias_domain, d.name AS domain
  FROM alias_domains ad JOIN domains d ON d.id = ad.target_domain_id
  WHERE ad.active = 1;

-- Postfix's mysql maps read these three (conf/postfix/*.cf). The queries
-- there split the lookup key with SUBSTRING_INDEX so that the local part
-- and domain columns, not a CONCAT, are compared: MariaDB pushes those
-- conditions into each branch and uses the unique keys.

-- Every domain that Postfix accepts mail for: active domains and active
-- alias domains of active domains.
CREATE OR REPLACE VIEW virtual_mailbox_domains AS
  SELECT d.name AS domain FROM domains d WHERE d.active = 1
  UNION ALL
  SELECT ad.name FROM alias_domains ad JOIN domains d ON d.id = ad.target_domain_id
  WHERE ad.active = 1 AND d.active = 1;

-- Mailboxes that accept mail, with their Maildir relative to the root.
CREATE OR REPLACE VIEW virtual_mailbox_maps AS
  SELECT m.local_part, d.name AS domain,
         CONCAT(d.name, '/', m.local_part, '/') AS maildir
  FROM mailboxes m JOIN domains d ON d.id = m.domain_id
  WHERE m.active = 1 AND d.active = 1;

-- Address rewriting, in four parts:
--  1. the aliases (and catch-alls, local_part '') of active domains;
--  2. every mailbox as an alias of itself, so that a catch-all never
--     swallows mail for an existing mailbox (Postfix looks up
--     user@domain before @domain, and stops at the first match);
--  3. for alias domains, each address of the target domain (mailbox or
--     alias) under the alias domain's name;
--  4. an alias domain's catch-all, only when its target has one, so that
--     unknown addresses in alias domains are still refused at RCPT.
CREATE OR REPLACE VIEW virtual_alias_maps AS
  SELECT a.local_part, d.name AS domain, a.destination
  FROM aliases a JOIN domains d ON d.id = a.domain_id
  WHERE a.active = 1 AND d.active = 1
  UNION
  SELECT m.local_part, d.name, CONCAT(m.local_part, '@', d.name)
  FROM mailboxes m JOIN domains d ON d.id = m.domain_id
  WHERE d.active = 1
  UNION
  SELECT m.local_part, ad.name, CONCAT(m.local_part, '@', d.name)
  FROM alias_domains ad JOIN domains d ON d.id = ad.target_domain_id
    JOIN mailboxes m ON m.domain_id = d.id
  WHERE ad.active = 1 AND d.active = 1
  UNION
  SELECT a.local_part, ad.name, CONCAT(a.local_part, '@', d.name)
  FROM alias_domains ad JOIN domains d ON d.id = ad.target_domain_id
    JOIN aliases a ON a.domain_id = d.id
  WHERE ad.active = 1 AND d.active = 1 AND a.active = 1 AND a.local_part <> ''
  UNION
  SELECT '', ad.name, CONCAT('@', d.name)
  FROM alias_domains ad JOIN domains d ON d.id = ad.target_domain_id
  WHERE ad.active = 1 AND d.active = 1 AND EXISTS (
    SELECT 1 FROM aliases c WHERE c.domain_id = d.id AND c.local_part = '' AND c.active = 1);
