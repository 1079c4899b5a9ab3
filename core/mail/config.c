/* config.c - the aviary.yaml table and the checks that span keys. */
#include <stdbool.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <strings.h>
#include <stdio.h>
#include <string.h>

#include "aviary/arena.h"
#include "aviary/config.h"
#include "aviary/password.h"

static const char *
check_abs_path(const char *v)
{
	return v[0] == '/' ? NULL : "must be an absolute path";
}

static const char *
check_abs_path_or_empty(const char *v)
{
	return v[0] == '\0' || v[0] == '/' ? NULL : "must be an absolute path";
}

static const char *
check_home(const char *h)
{
	const char	*p;
	bool		 per_user = false;

	if (h[0] == '/' || strstr(h, "..") != NULL)
		return "is relative to mail.root and may not contain '..'";
	for (p = h; (p = strchr(p, '%')) != NULL; p += 2) {
		if (p[1] != 'd' && p[1] != 'n' && p[1] != 'u' && p[1] != '%')
			return "unknown variable (use %d, %n, %u or %%)";
		/* Not strstr(h, "%n"): "%%n" is a literal "%n". */
		if (p[1] == 'n' || p[1] == 'u')
			per_user = true;
	}
	return per_user ? NULL : "must contain %n or %u, or every mailbox "
	    "would share one home";
}

static const char *
check_scheme(const char *v)
{
	return password_scheme_known(v) ? NULL : "unknown scheme (use "
	    "SHA512-CRYPT, SHA256-CRYPT, BLF-CRYPT, YESCRYPT, CRYPT or PLAIN)";
}

static const char *
check_db_host(const char *v)
{
	if (v[0] == '\0')
		return "empty host";
	if (strncmp(v, "unix:", 5) == 0 && v[5] != '/')
		return "unix: needs an absolute socket path";
	return NULL;
}

static const char *
check_cidr(const char *v)
{
	char		 addr[INET6_ADDRSTRLEN + 1];
	unsigned char	 bin[16];
	const char	*slash = strchr(v, '/');
	size_t		 len = slash ? (size_t)(slash - v) : strlen(v);
	unsigned long	 prefix;
	char		*end;
	int		 v4;

	if (len == 0 || len >= sizeof(addr))
		return "not a network (such as 192.0.2.0/24 or 2001:db8::/32)";
	memcpy(addr, v, len);
	addr[len] = '\0';
	v4 = inet_pton(AF_INET, addr, bin) == 1;
	if (!v4 && inet_pton(AF_INET6, addr, bin) != 1)
		return "not a network (such as 192.0.2.0/24 or 2001:db8::/32)";
	if (slash != NULL) {
		prefix = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' ||
		    prefix > (v4 ? 32UL : 128UL))
			return "bad prefix length";
	}
	return NULL;
}

static const char *
check_mechanism(const char *v)
{
	return strcasecmp(v, "PLAIN") == 0 || strcasecmp(v, "LOGIN") == 0 ?
	    NULL : "unknown mechanism (PLAIN, LOGIN)";
}

static const struct conf_item db_table[] = {
	CONF_LIST_CHECK("hosts", offsetof(struct aviary_db_config, hosts),
	    "unix:/run/mysqld/mysqld.sock", check_db_host),
	CONF_STR("name", offsetof(struct aviary_db_config, name), "aviary"),
	CONF_STR("user", offsetof(struct aviary_db_config, user),
	    "aviary_admin"),
	CONF_STR("password_file",
	    offsetof(struct aviary_db_config, password_file), ""),
	CONF_TIME("connect_timeout",
	    offsetof(struct aviary_db_config, connect_timeout), "5s", 1, 300),
	CONF_END
};

static const struct conf_item mail_table[] = {
	CONF_STR_CHECK("root", offsetof(struct aviary_mail_config, root),
	    "/var/mail/vhosts", check_abs_path),
	CONF_STR_CHECK("home", offsetof(struct aviary_mail_config, home),
	    "%d/%n", check_home),
	CONF_UINT("uid", offsetof(struct aviary_mail_config, uid), "5000", 1,
	    4294967294U),
	CONF_UINT("gid", offsetof(struct aviary_mail_config, gid), "5000", 1,
	    4294967294U),
	CONF_END
};

static const struct conf_item passwords_table[] = {
	CONF_STR_CHECK("scheme", offsetof(struct aviary_passwords_config,
	    scheme), PASSWORD_DEFAULT_SCHEME, check_scheme),
	CONF_UINT("rounds", offsetof(struct aviary_passwords_config, rounds),
	    "0", 0, 999999999),
	CONF_END
};

#define SOCKET_TABLE(name, d_path, d_mode, d_user, d_group)		\
static const struct conf_item name[] = {				\
	CONF_STR_CHECK("path", offsetof(struct aviary_socket_config, path), \
	    d_path, check_abs_path),					\
	CONF_MODE("mode", offsetof(struct aviary_socket_config, mode), d_mode), \
	CONF_STR("user", offsetof(struct aviary_socket_config, user), d_user), \
	CONF_STR("group", offsetof(struct aviary_socket_config, group), d_group), \
	CONF_END							\
}

SOCKET_TABLE(auth_client_socket_table, "/var/spool/postfix/private/auth",
    "0660", "postfix", "postfix");
SOCKET_TABLE(auth_userdb_socket_table, "/run/aviary/auth-userdb", "0660",
    "aviary", "vmail");

static const struct conf_item auth_db_table[] = {
	CONF_STR("user", offsetof(struct aviary_auth_db_config, user),
	    "aviary_auth"),
	CONF_STR("password_file",
	    offsetof(struct aviary_auth_db_config, password_file), ""),
	CONF_END
};

#define AUTH_OFF(f)	offsetof(struct aviary_auth_config, f)
static const struct conf_item auth_table[] = {
	CONF_BOOL("enabled", AUTH_OFF(enabled), "true"),
	CONF_STR("user", AUTH_OFF(user), "aviary"),
	CONF_SECTION("client_socket", AUTH_OFF(client_socket),
	    auth_client_socket_table),
	CONF_SECTION("userdb_socket", AUTH_OFF(userdb_socket),
	    auth_userdb_socket_table),
	CONF_SECTION("database", AUTH_OFF(database), auth_db_table),
	CONF_UINT("workers", AUTH_OFF(workers), "4", 1, 64),
	CONF_TIME("cache_ttl", AUTH_OFF(cache_ttl), "1h", 0, 86400),
	CONF_TIME("negative_ttl", AUTH_OFF(negative_ttl), "30s", 0, 3600),
	CONF_TIME("stale_ttl", AUTH_OFF(stale_ttl), "1d", 0, 604800),
	CONF_UINT("cache_size", AUTH_OFF(cache_size), "100000", 0, 10000000),
	CONF_TIME("failure_delay", AUTH_OFF(failure_delay), "2s", 0, 5),
	CONF_TIME("penalty_max", AUTH_OFF(penalty_max), "5s", 0, 6),
	CONF_TIME("penalty_window", AUTH_OFF(penalty_window), "15m", 1, 86400),
	CONF_LIST_CHECK("trusted_networks", AUTH_OFF(trusted_networks), NULL,
	    check_cidr),
	CONF_BOOL("allow_plaintext", AUTH_OFF(allow_plaintext), "false"),
	CONF_LIST_CHECK("mechanisms", AUTH_OFF(mechanisms), NULL,
	    check_mechanism),
	CONF_TIME("request_timeout", AUTH_OFF(request_timeout), "1m", 1, 3600),
	CONF_STR("password_query", AUTH_OFF(password_query),
	    "SELECT CONCAT(local_part, '@', domain) AS user, password, active "
	    "FROM auth_users WHERE local_part = %n AND domain = %d"),
	CONF_STR("user_query", AUTH_OFF(user_query),
	    "SELECT CONCAT(local_part, '@', domain) AS user, quota_bytes, "
	    "quota_messages, active FROM auth_users "
	    "WHERE local_part = %n AND domain = %d"),
	CONF_STR("alias_domain_query", AUTH_OFF(alias_domain_query),
	    "SELECT domain FROM auth_alias_domains WHERE alias_domain = %d"),
	CONF_STR("iterate_query", AUTH_OFF(iterate_query),
	    "SELECT CONCAT(local_part, '@', domain) AS user FROM auth_users "
	    "ORDER BY domain, local_part"),
	CONF_END
};

SOCKET_TABLE(lmtp_socket_table, "/var/spool/postfix/private/aviary-lmtp",
    "0660", "postfix", "postfix");

static const char *
check_delimiter(const char *v)
{
	return strlen(v) <= 1 && strchr(v, '@') == NULL &&
	    strchr(v, '/') == NULL ? NULL :
	    "one character at most, not '@' or '/'";
}

static const char *
check_folder(const char *v)
{
	/* A Maildir++ folder name (ASCII, no '.', '/' or leading '.'). */
	const char	*p;

	if (v[0] == '\0' || strlen(v) > 64)
		return "folder names have 1 to 64 characters";
	for (p = v; *p; p++)
		if (*p == '.' || *p == '/' || *p == '&' ||
		    (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return "folder names are ASCII without '.', '/' or '&'";
	return strcasecmp(v, "INBOX") == 0 ? "INBOX is not a folder" : NULL;
}

#define LMTP_OFF(f)	offsetof(struct aviary_lmtp_config, f)
static const struct conf_item lmtp_table[] = {
	CONF_BOOL("enabled", LMTP_OFF(enabled), "true"),
	CONF_STR("user", LMTP_OFF(user), "vmail"),
	CONF_SECTION("socket", LMTP_OFF(socket), lmtp_socket_table),
	CONF_LIST("listen", LMTP_OFF(listen), NULL),
	CONF_SIZE("max_message_size", LMTP_OFF(max_message_size), "50M", 1024,
	    (uint64_t)2 << 30),
	CONF_UINT("max_recipients", LMTP_OFF(max_recipients), "1000", 1,
	    100000),
	CONF_STR_CHECK("recipient_delimiter", LMTP_OFF(recipient_delimiter),
	    "+", check_delimiter),
	CONF_BOOL("quota_temporary", LMTP_OFF(quota_temporary), "false"),
	CONF_LIST_CHECK("folders", LMTP_OFF(folders), "Drafts,Sent,Trash,Junk",
	    check_folder),
	CONF_STR("hostname", LMTP_OFF(hostname), ""),
	CONF_TIME("timeout", LMTP_OFF(timeout), "5m", 10, 3600),
	CONF_END
};

static const char *
check_tls_version(const char *v)
{
	return strcmp(v, "TLSv1.2") == 0 || strcmp(v, "TLSv1.3") == 0 ? NULL :
	    "TLSv1.2 or TLSv1.3";
}

#define TLS_OFF(f)	offsetof(struct aviary_tls_config, f)
static const struct conf_item tls_table[] = {
	CONF_STR_CHECK("cert_file", TLS_OFF(cert_file),
	    "/etc/aviary/tls/cert.pem", check_abs_path_or_empty),
	CONF_STR_CHECK("key_file", TLS_OFF(key_file), "/etc/aviary/tls/key.pem",
	    check_abs_path_or_empty),
	CONF_STR_CHECK("chain_file", TLS_OFF(chain_file), "",
	    check_abs_path_or_empty),
	CONF_STR_CHECK("min_version", TLS_OFF(min_version), "TLSv1.2",
	    check_tls_version),
	CONF_STR("ciphers", TLS_OFF(ciphers), ""),
	CONF_STR("ciphersuites", TLS_OFF(ciphersuites), ""),
	CONF_END
};

#define LOGIN_OFF(f)	offsetof(struct aviary_login_config, f)
static const struct conf_item login_table[] = {
	CONF_SECTION("tls", LOGIN_OFF(tls), tls_table),
	CONF_BOOL("allow_plaintext", LOGIN_OFF(allow_plaintext), "false"),
	CONF_LIST_CHECK("local_networks", LOGIN_OFF(local_networks),
	    "127.0.0.0/8,::1/128", check_cidr),
	CONF_TIME("timeout", LOGIN_OFF(timeout), "1m", 5, 3600),
	CONF_UINT("max_connections_per_ip", LOGIN_OFF(max_connections_per_ip),
	    "20", 0, 100000),
	CONF_TIME("auth_timeout", LOGIN_OFF(auth_timeout), "30s", 10, 300),
	CONF_END
};

#define POP3_OFF(f)	offsetof(struct aviary_pop3_config, f)
static const struct conf_item pop3_table[] = {
	CONF_BOOL("enabled", POP3_OFF(enabled), "false"),
	CONF_STR("user", POP3_OFF(user), "vmail"),
	CONF_LIST("listen", POP3_OFF(listen), "*:110"),
	CONF_LIST("listen_tls", POP3_OFF(listen_tls), "*:995"),
	CONF_TIME("timeout", POP3_OFF(timeout), "10m", 600, 86400),
	CONF_UINT("max_connections", POP3_OFF(max_connections), "10000", 0,
	    1000000),
	CONF_UINT("max_bad_commands", POP3_OFF(max_bad_commands), "10", 1,
	    1000),
	CONF_END
};

#define IMAP_OFF(f)	offsetof(struct aviary_imap_config, f)
static const struct conf_item imap_table[] = {
	CONF_BOOL("enabled", IMAP_OFF(enabled), "false"),
	CONF_STR("user", IMAP_OFF(user), "vmail"),
	CONF_LIST("listen", IMAP_OFF(listen), "*:143"),
	CONF_LIST("listen_tls", IMAP_OFF(listen_tls), "*:993"),
	CONF_TIME("timeout", IMAP_OFF(timeout), "30m", 1800, 86400),
	CONF_UINT("max_connections", IMAP_OFF(max_connections), "10000", 0,
	    1000000),
	CONF_UINT("max_bad_commands", IMAP_OFF(max_bad_commands), "20", 1,
	    1000),
	CONF_UINT("max_connections_per_user",
	    IMAP_OFF(max_connections_per_user), "20", 0, 100000),
	CONF_SIZE("max_append_size", IMAP_OFF(max_append_size), "50M", 1024,
	    (uint64_t)2 << 30),
	CONF_LIST_CHECK("drafts", IMAP_OFF(drafts), "Drafts", check_folder),
	CONF_LIST_CHECK("sent", IMAP_OFF(sent), "Sent,Sent Messages",
	    check_folder),
	CONF_LIST_CHECK("trash", IMAP_OFF(trash), "Trash", check_folder),
	CONF_LIST_CHECK("junk", IMAP_OFF(junk), "Junk", check_folder),
	CONF_LIST_CHECK("archive", IMAP_OFF(archive), "Archive",
	    check_folder),
	CONF_END
};

static const struct conf_item aviaryd_table[] = {
	CONF_STR_CHECK("libexec_dir", offsetof(struct aviary_aviaryd_config,
	    libexec_dir), "", check_abs_path_or_empty),
	CONF_TIME("restart_max", offsetof(struct aviary_aviaryd_config,
	    restart_max), "1m", 1, 3600),
	CONF_TIME("stop_timeout", offsetof(struct aviary_aviaryd_config,
	    stop_timeout), "10s", 1, 300),
	CONF_END
};

const struct conf_item aviary_config_table[] = {
	CONF_SECTION("aviaryd", offsetof(struct aviary_config, aviaryd),
	    aviaryd_table),
	CONF_SECTION("database", offsetof(struct aviary_config, database),
	    db_table),
	CONF_SECTION("mail", offsetof(struct aviary_config, mail), mail_table),
	CONF_SECTION("passwords", offsetof(struct aviary_config, passwords),
	    passwords_table),
	CONF_SECTION("auth", offsetof(struct aviary_config, auth), auth_table),
	CONF_SECTION("lmtp", offsetof(struct aviary_config, lmtp), lmtp_table),
	CONF_SECTION("login", offsetof(struct aviary_config, login),
	    login_table),
	CONF_SECTION("pop3", offsetof(struct aviary_config, pop3), pop3_table),
	CONF_SECTION("imap", offsetof(struct aviary_config, imap), imap_table),
	CONF_END
};

int
aviary_config_check(const struct aviary_config *cfg, const char *path,
    struct arena *a, const char **error_r)
{
	/* Single values were checked while loading, with their line; what
	 * is left spans keys. */
	if (cfg->database.hosts.n == 0) {
		*error_r = arena_printf(a, "%s: database.hosts lists no host",
		    path);
		return -1;
	}
	if (cfg->pop3.enabled && cfg->pop3.listen.n + cfg->pop3.listen_tls.n
	    == 0) {
		*error_r = arena_printf(a, "%s: pop3 is enabled but "
		    "pop3.listen and pop3.listen_tls are both empty", path);
		return -1;
	}
	if (cfg->pop3.enabled && cfg->pop3.listen_tls.n > 0 &&
	    cfg->login.tls.cert_file[0] == '\0') {
		*error_r = arena_printf(a, "%s: pop3.listen_tls needs "
		    "login.tls.cert_file (or an empty pop3.listen_tls)", path);
		return -1;
	}
	if (cfg->imap.enabled && cfg->imap.listen.n + cfg->imap.listen_tls.n
	    == 0) {
		*error_r = arena_printf(a, "%s: imap is enabled but "
		    "imap.listen and imap.listen_tls are both empty", path);
		return -1;
	}
	if (cfg->imap.enabled && cfg->imap.listen_tls.n > 0 &&
	    cfg->login.tls.cert_file[0] == '\0') {
		*error_r = arena_printf(a, "%s: imap.listen_tls needs "
		    "login.tls.cert_file (or an empty imap.listen_tls)", path);
		return -1;
	}
	if (cfg->login.tls.cert_file[0] != '\0' &&
	    cfg->login.tls.key_file[0] == '\0') {
		*error_r = arena_printf(a, "%s: login.tls.cert_file needs "
		    "login.tls.key_file", path);
		return -1;
	}
	if (cfg->auth.failure_delay + cfg->auth.penalty_max > 8) {
		*error_r = arena_printf(a, "%s: auth.failure_delay + "
		    "auth.penalty_max must not exceed 8s: Postfix gives up "
		    "after 10s and would answer a temporary failure", path);
		return -1;
	}
	return 0;
}

int
aviary_config_load(struct aviary_config *cfg, const char *path,
    struct arena *a, const char **error_r)
{
	memset(cfg, 0, sizeof(*cfg));
	if (conf_load(aviary_config_table, cfg, path, a, error_r) == -1)
		return -1;
	return aviary_config_check(cfg, path, a, error_r);
}

int
aviary_mail_home(const struct aviary_mail_config *m, const char *local,
    const char *domain, char *out, size_t outsz)
{
	size_t		 o;
	const char	*t;
	int		 n;

	n = snprintf(out, outsz, "%s/", m->root);
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	o = (size_t)n;
	for (t = m->home; *t != '\0'; t++) {
		const char	*ins = NULL;
		char		 one[2] = { *t, '\0' };

		if (*t == '%') {
			t++;
			if (*t == 'd')
				ins = domain;
			else if (*t == 'n')
				ins = local;
			else if (*t == '%')
				ins = "%";
			else if (*t == 'u') {
				n = snprintf(out + o, outsz - o, "%s@%s", local,
				    domain);
				if (n < 0 || (size_t)n >= outsz - o)
					return -1;
				o += (size_t)n;
				continue;
			} else
				return -1;
		} else
			ins = one;
		n = snprintf(out + o, outsz - o, "%s", ins);
		if (n < 0 || (size_t)n >= outsz - o)
			return -1;
		o += (size_t)n;
	}
	return 0;
}
