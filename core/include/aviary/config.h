/* aviary/config.h - the Aviary configuration file (aviary.yaml).
 *
 * One YAML file configures every program: aviaryd and the services read
 * their own sections, aviary-admin reads 'database', 'mail' and
 * 'passwords'. The table in config.c is the single source of keys,
 * types and defaults; docs/configuration.md documents each key. All
 * strings belong to the arena passed to aviary_config_load.
 */
#ifndef AVIARY_CONFIG_H
#define AVIARY_CONFIG_H

#include <stdint.h>

#include "aviary/compat.h"
#include "aviary/conf.h"

struct arena;

#define AVIARY_CONFIG_DEFAULT	"/etc/aviary/aviary.yaml"

struct aviary_db_config {
	struct conf_list hosts;		/* "unix:/path" or "host[:port]", in order */
	char		*name;
	char		*user;
	char		*password_file;	/* read by the program that connects */
	uint64_t	 connect_timeout;	/* seconds */
};

struct aviary_mail_config {
	char		*root;		/* absolute; every mailbox lives below */
	char		*home;		/* template below root: %d domain, %n local, %u address */
	unsigned	 uid, gid;	/* owner of the mail tree (vmail) */
};

struct aviary_passwords_config {
	char		*scheme;	/* for new passwords */
	unsigned	 rounds;	/* 0: the scheme's default */
};

/* A UNIX socket that aviaryd (or the service itself) creates: owner and
 * group are names, empty for "leave as created". */
struct aviary_socket_config {
	char		*path;
	unsigned	 mode;
	char		*user;
	char		*group;
};

struct aviary_auth_db_config {
	char		*user;		/* the auth account (aviary_auth) */
	char		*password_file;
};

struct aviary_auth_config {
	bool				 enabled;
	char				*user;	/* runs as this system user when started as root */
	struct aviary_socket_config	 client_socket;	/* Postfix, IMAP, POP3 */
	struct aviary_socket_config	 userdb_socket;	/* LMTP, admin */
	struct aviary_auth_db_config	 database;
	unsigned			 workers;	/* SQL + hashing threads */
	uint64_t			 cache_ttl;	/* s: a verified login is trusted this long */
	uint64_t			 negative_ttl;	/* s: an unknown user is remembered */
	uint64_t			 stale_ttl;	/* s: cached logins still served while SQL is down */
	unsigned			 cache_size;	/* entries at most */
	uint64_t			 failure_delay;	/* s before each failure reply */
	uint64_t			 penalty_max;	/* s: the brute-force delay's ceiling */
	uint64_t			 penalty_window;	/* s a failure counts */
	struct conf_list		 trusted_networks;	/* CIDRs without penalty */
	bool				 allow_plaintext;	/* PLAIN/LOGIN without TLS off loopback */
	struct conf_list		 mechanisms;
	uint64_t			 request_timeout;	/* s an unfinished exchange is kept */
	/* SQL templates: %n local part, %d domain, %u address become
	 * prepared-statement parameters. Columns are found by name. */
	char				*password_query;	/* user, password[, active] */
	char				*user_query;	/* user[, quota_bytes, quota_messages, active] */
	char				*alias_domain_query;	/* domain */
	char				*iterate_query;	/* user */
};

struct aviary_lmtp_config {
	bool				 enabled;
	char				*user;	/* runs as this system user (vmail) when started as root */
	struct aviary_socket_config	 socket;	/* for Postfix's virtual_transport */
	struct conf_list		 listen;	/* TCP "host:port", may be empty */
	uint64_t			 max_message_size;	/* bytes, advertised in SIZE */
	unsigned			 max_recipients;	/* per transaction */
	char				*recipient_delimiter;	/* "+"; "" = none */
	bool				 quota_temporary;	/* over quota: 452 4.2.2 instead of 552 5.2.2 */
	struct conf_list		 folders;	/* created on first delivery */
	char				*hostname;	/* greeting, Maildir names; "" = the host's */
	uint64_t			 timeout;	/* s of client silence */
};

/* TLS for the login services (POP3, IMAP). cert_file "" = no TLS:
 * then no implicit-TLS listener and no STLS/STARTTLS. */
struct aviary_tls_config {
	char		*cert_file;	/* PEM certificate (+ chain) */
	char		*key_file;	/* PEM private key */
	char		*chain_file;	/* "" = none */
	char		*min_version;	/* "TLSv1.2" or "TLSv1.3" */
	char		*ciphers;	/* TLSv1.2 cipher list; "" = OpenSSL's */
	char		*ciphersuites;	/* TLSv1.3 suites; "" = OpenSSL's */
};

/* What the pre-authentication side of POP3 and IMAP shares. */
struct aviary_login_config {
	struct aviary_tls_config	 tls;
	bool				 allow_plaintext;	/* passwords without TLS off local networks */
	struct conf_list		 local_networks;	/* CIDRs counted as secure */
	uint64_t			 timeout;	/* s a client may take to log in */
	unsigned			 max_connections_per_ip;	/* per service; 0 = no limit */
	uint64_t			 auth_timeout;	/* s to wait for aviary-auth */
};

struct aviary_pop3_config {
	bool				 enabled;
	char				*user;	/* runs as this system user (vmail) when started as root */
	struct conf_list		 listen;	/* "host:port": plaintext, STLS */
	struct conf_list		 listen_tls;	/* "host:port": implicit TLS */
	uint64_t			 timeout;	/* s of silence after login */
	unsigned			 max_connections;	/* in all; 0 = no limit */
	unsigned			 max_bad_commands;	/* then the connection is closed */
};

struct aviary_imap_config {
	bool				 enabled;
	char				*user;	/* runs as this system user (vmail) when started as root */
	struct conf_list		 listen;	/* "host:port": plaintext, STARTTLS */
	struct conf_list		 listen_tls;	/* "host:port": implicit TLS */
	uint64_t			 timeout;	/* s of silence after login (RFC 3501: >= 30 min) */
	unsigned			 max_connections;	/* in all; 0 = no limit */
	unsigned			 max_bad_commands;	/* then BYE */
	unsigned			 max_connections_per_user;	/* 0 = no limit */
	uint64_t			 max_append_size;	/* bytes of one APPEND */
	struct conf_list		 drafts, sent, trash, junk, archive;	/* special-use folders */
};

struct aviary_aviaryd_config {
	char		*libexec_dir;	/* service binaries; "" = aviaryd's own directory */
	uint64_t	 restart_max;	/* s: ceiling of the restart back-off */
	uint64_t	 stop_timeout;	/* s: SIGTERM, then SIGKILL after this */
};

struct aviary_config {
	struct aviary_aviaryd_config	aviaryd;
	struct aviary_db_config		database;
	struct aviary_mail_config	mail;
	struct aviary_passwords_config	passwords;
	struct aviary_auth_config	auth;
	struct aviary_lmtp_config	lmtp;
	struct aviary_login_config	login;
	struct aviary_pop3_config	pop3;
	struct aviary_imap_config	imap;
};

extern const struct conf_item aviary_config_table[];

/* Load and validate 'path'. Returns 0, or -1 with *error_r
 * ("file:line: ...") from 'a'. */
int	aviary_config_load(struct aviary_config *cfg, const char *path,
	    struct arena *a, const char **error_r) AV_WARN_UNUSED;
/* Validation after parsing, shared with conf_load_mem users (tests). */
int	aviary_config_check(const struct aviary_config *cfg, const char *path,
	    struct arena *a, const char **error_r) AV_WARN_UNUSED;

/* Expand the mailbox home for local@domain (already normalised) into
 * out: root + "/" + template. Returns 0, or -1 if it does not fit. */
int	aviary_mail_home(const struct aviary_mail_config *m, const char *local,
	    const char *domain, char *out, size_t outsz) AV_WARN_UNUSED;

#endif
