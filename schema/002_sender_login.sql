-- 002_sender_login.sql: who may send as which address.
--
-- Postfix's smtpd_sender_login_maps (conf/postfix/mysql-sender-login-maps.cf)
-- reads this view; with reject_sender_login_mismatch on the submission
-- service, a logged-in user may use an envelope sender only when the
-- view lists its login for that address. The login is always a
-- mailbox address (aviary-auth answers a login by user@alias-domain
-- with the real mailbox, and Postfix compares that name).
--
-- Rules, one branch each:
--  1. a mailbox owns its own address, also while it is disabled (so
--     that nobody else may take it over meanwhile);
--  2. and the same local part in every alias domain of its domain;
--  3. an active alias is owned by each of its destinations (a
--     destination outside the platform owns it too, harmlessly: it can
--     never be a login);
--  4. and the same alias in every alias domain of its domain.
-- Catch-alls ('@domain', local_part '') own nothing: the owner of a
-- catch-all may not send as every address of the domain. The map file
-- splits the key like the other maps, so '@domain' keys find nothing.
--
-- The same conventions as 001_init.sql: idempotent statements, each
-- ending with ';' at the end of a line.

CREATE OR REPLACE VIEW sender_login_maps AS
  SELECT m.local_part, d.name AS domain,
         CONCAT(m.local_part, '@', d.name) AS login
  FROM mailboxes m JOIN domains d ON d.id = m.domain_id
  UNION
  SELECT m.local_part, ad.name, CONCAT(m.local_part, '@', d.name)
  FROM alias_domains ad JOIN domains d ON d.id = ad.target_domain_id
    JOIN mailboxes m ON m.domain_id = d.id
  WHERE ad.active = 1
  UNION
  SELECT a.local_part, d.name, a.destination
  FROM aliases a JOIN domains d ON d.id = a.domain_id
  WHERE a.active = 1 AND d.active = 1 AND a.local_part <> ''
  UNION
  SELECT a.local_part, ad.name, a.destination
  FROM alias_domains ad JOIN domains d ON d.id = ad.target_domain_id
    JOIN aliases a ON a.domain_id = d.id
  WHERE ad.active = 1 AND d.active = 1 AND a.active = 1 AND a.local_part <> '';
