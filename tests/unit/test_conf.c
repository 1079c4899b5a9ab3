/* test_conf.c - core/lib/conf.c with a local table, then the aviary.yaml
 * table and checks of core/mail/config.c. Every error must name the file
 * and the line; every bound is tried at N and N+1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "aviary/arena.h"
#include "aviary/conf.h"
#include "aviary/config.h"

struct t_sub {
	char		*name;
	unsigned	 port;
};

struct t_cfg {
	char		*s;
	unsigned	 u;
	uint64_t	 size;
	uint64_t	 time;
	bool		 b;
	struct conf_list l;
	struct conf_list empty;
	unsigned	 mode;
	struct t_sub	 sub;
};

static const struct conf_item t_sub_table[] = {
	CONF_STR("name", offsetof(struct t_sub, name), "n"),
	CONF_UINT("port", offsetof(struct t_sub, port), "25", 1, 65535),
	CONF_END
};

static const struct conf_item t_table[] = {
	CONF_STR("s", offsetof(struct t_cfg, s), "dflt"),
	CONF_UINT("u", offsetof(struct t_cfg, u), "7", 1, 100),
	CONF_SIZE("size", offsetof(struct t_cfg, size), "1M", 1024,
	    1024 * 1024 * 1024),
	CONF_TIME("time", offsetof(struct t_cfg, time), "30s", 1, 3600),
	CONF_BOOL("b", offsetof(struct t_cfg, b), "false"),
	CONF_LIST("l", offsetof(struct t_cfg, l), "x"),
	CONF_LIST("empty", offsetof(struct t_cfg, empty), NULL),
	CONF_MODE("mode", offsetof(struct t_cfg, mode), "0640"),
	CONF_SECTION("sub", offsetof(struct t_cfg, sub), t_sub_table),
	CONF_END
};

/* Required keys, one at the top and one inside a section. */
struct r_sub {
	char	*host;
};

struct r_cfg {
	char		*top;
	char		*opt;
	struct r_sub	 sub;
};

static const struct conf_item r_sub_table[] = {
	CONF_STR_REQ("host", offsetof(struct r_sub, host)),
	CONF_END
};

static const struct conf_item r_table[] = {
	CONF_STR_REQ("top", offsetof(struct r_cfg, top)),
	CONF_STR("opt", offsetof(struct r_cfg, opt), NULL),
	CONF_SECTION("sub", offsetof(struct r_cfg, sub), r_sub_table),
	CONF_END
};

static int
setup_arena(void **state)
{
	*state = arena_create(4096);
	return 0;
}

static int
teardown_arena(void **state)
{
	struct arena	*a = *state;

	arena_destroy(&a);
	return 0;
}

static int
load_t(struct arena *a, struct t_cfg *c, const char *yaml, const char **err)
{
	memset(c, 0xa5, sizeof(*c));	/* defaults must overwrite all */
	*err = NULL;
	return conf_load_mem(t_table, c, "t.yaml", yaml, strlen(yaml), a, err);
}

static void
check_t_defaults(const struct t_cfg *c)
{
	assert_string_equal(c->s, "dflt");
	assert_int_equal(c->u, 7);
	assert_true(c->size == 1024 * 1024);
	assert_true(c->time == 30);
	assert_false(c->b);
	assert_int_equal(c->l.n, 1);
	assert_string_equal(c->l.v[0], "x");
	assert_int_equal(c->empty.n, 0);
	assert_null(c->empty.v);
	assert_int_equal(c->mode, 0640);
	assert_string_equal(c->sub.name, "n");
	assert_int_equal(c->sub.port, 25);
}

static void
test_defaults_on_empty(void **state)
{
	static const char *const empties[] = {
		"", "\n", "# only a comment\n", "~\n", "null\n", "---\n",
		"--- # c\n...\n",
	};
	struct arena	*a = *state;
	struct t_cfg	 c;
	const char	*err;
	size_t		 i;

	for (i = 0; i < N_ELEMENTS(empties); i++) {
		if (load_t(a, &c, empties[i], &err) != 0)
			fail_msg("'%s': %s", empties[i], err);
		check_t_defaults(&c);
	}
	memset(&c, 0xa5, sizeof(c));
	conf_defaults(t_table, &c, a);
	check_t_defaults(&c);
	/* A section given with nothing in it keeps its defaults. */
	assert_int_equal(load_t(a, &c, "sub:\n", &err), 0);
	check_t_defaults(&c);
}

static void
test_values(void **state)
{
	static const char yaml[] =
	    "# comment\n"
	    "s: hello world\n"
	    "u: 100\n"
	    "size: 1G\n"
	    "time: 1h\n"
	    "b: yes\n"
	    "l:\n"
	    "  - a\n"
	    "  - \"b c\"\n"
	    "empty: []\n"
	    "mode: \"0755\"\n"
	    "sub:\n"
	    "  name: 'quoted: yes'\n"
	    "  port: 65535\n";
	struct arena	*a = *state;
	struct t_cfg	 c;
	const char	*err;

	if (load_t(a, &c, yaml, &err) != 0)
		fail_msg("%s", err);
	assert_string_equal(c.s, "hello world");
	assert_int_equal(c.u, 100);
	assert_true(c.size == 1024ULL * 1024 * 1024);
	assert_true(c.time == 3600);
	assert_true(c.b);
	assert_int_equal(c.l.n, 2);
	assert_string_equal(c.l.v[0], "a");
	assert_string_equal(c.l.v[1], "b c");
	assert_null(c.l.v[2]);
	assert_int_equal(c.empty.n, 0);
	assert_int_equal(c.mode, 0755);
	assert_string_equal(c.sub.name, "quoted: yes");
	assert_int_equal(c.sub.port, 65535);
}

static void
test_lists(void **state)
{
	static const struct {
		const char	*yaml;
		size_t		 n;
		const char	*v0, *v1;
	} cases[] = {
		{ "l: [a, b, c]\n", 3, "a", "b" },
		{ "l:\n  - one\n  - two\n", 2, "one", "two" },
		{ "l: single\n", 1, "single", NULL },	/* a list of one */
		{ "l: \"\"\n", 0, NULL, NULL },
		{ "l:\n", 0, NULL, NULL },
		{ "l: []\n", 0, NULL, NULL },
	};
	struct arena	*a = *state;
	struct t_cfg	 c;
	const char	*err;
	size_t		 i;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		if (load_t(a, &c, cases[i].yaml, &err) != 0)
			fail_msg("'%s': %s", cases[i].yaml, err);
		assert_int_equal(c.l.n, cases[i].n);
		if (cases[i].v0 != NULL)
			assert_string_equal(c.l.v[0], cases[i].v0);
		if (cases[i].v1 != NULL)
			assert_string_equal(c.l.v[1], cases[i].v1);
	}
}

/* Scalar values at and past their bounds. want_err NULL: it loads. */
static void
test_scalar_bounds(void **state)
{
	static const struct {
		const char	*yaml;
		const char	*want_err;
	} cases[] = {
		{ "u: 1\n", NULL },
		{ "u: 0\n",
		    "t.yaml:1: u: expected a whole number from 1 to 100, "
		    "got '0'" },
		{ "u: 100\n", NULL },
		{ "u: 101\n",
		    "t.yaml:1: u: expected a whole number from 1 to 100, "
		    "got '101'" },
		{ "u: -1\n", "t.yaml:1: u: expected a whole number" },
		{ "u: 1.5\n", "t.yaml:1: u: expected a whole number" },
		{ "u: 18446744073709551616\n",
		    "t.yaml:1: u: expected a whole number" },
		{ "u: \"\"\n", "t.yaml:1: u: expected a whole number" },
		{ "size: 1K\n", NULL },
		{ "size: 1023\n",
		    "t.yaml:1: size: expected a size from 1K to 1G (such as "
		    "512K, 50M, 2G), got '1023'" },
		{ "size: 1024M\n", NULL },
		{ "size: 1073741825\n",
		    "t.yaml:1: size: expected a size from 1K to 1G" },
		{ "size: 5X\n", "t.yaml:1: size: expected a size" },
		{ "size: 5 M\n", "t.yaml:1: size: expected a size" },
		{ "time: 1s\n", NULL },
		{ "time: 0\n",
		    "t.yaml:1: time: expected a duration from 1s to 1h "
		    "(such as 30s, 5m, 1h), got '0'" },
		{ "time: 60m\n", NULL },
		{ "time: 3601\n",
		    "t.yaml:1: time: expected a duration from 1s to 1h" },
		{ "time: 1w\n", "t.yaml:1: time: expected a duration" },
		{ "b: true\n", NULL },
		{ "b: off\n", NULL },
		{ "b: maybe\n",
		    "t.yaml:1: b: expected true or false, got 'maybe'" },
		{ "b: 1\n", "t.yaml:1: b: expected true or false, got '1'" },
		{ "mode: 0\n", NULL },
		{ "mode: 07777\n", NULL },
		{ "mode: 010000\n",
		    "t.yaml:1: mode: expected an octal mode such as 0660, "
		    "got '010000'" },
		{ "mode: 0668\n", "t.yaml:1: mode: expected an octal mode" },
		{ "mode: rw-r--r--\n",
		    "t.yaml:1: mode: expected an octal mode" },
		{ "mode: -1\n", "t.yaml:1: mode: expected an octal mode" },
		{ "mode: 0x1ff\n", "t.yaml:1: mode: expected an octal mode" },
		{ "sub:\n  port: 65535\n", NULL },
		{ "sub:\n  port: 65536\n",
		    "t.yaml:2: sub.port: expected a whole number from 1 to "
		    "65535, got '65536'" },
		/* A line number that is not the first. */
		{ "s: a\n\n# c\nu: 1\nsize: 2K\n\ntime: 2h\n",
		    "t.yaml:7: time: expected a duration" },
	};
	struct arena	*a = *state;
	struct t_cfg	 c;
	const char	*err;
	size_t		 i;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		int rc = load_t(a, &c, cases[i].yaml, &err);

		if (cases[i].want_err == NULL) {
			if (rc != 0)
				fail_msg("'%s': %s", cases[i].yaml, err);
			continue;
		}
		if (rc != -1 || err == NULL)
			fail_msg("'%s' loaded", cases[i].yaml);
		if (strncmp(err, cases[i].want_err,
		    strlen(cases[i].want_err)) != 0)
			fail_msg("'%s': got \"%s\", want \"%s...\"",
			    cases[i].yaml, err, cases[i].want_err);
	}
}

/* Structural errors: unknown and duplicate keys, node kinds, syntax. */
static void
test_errors(void **state)
{
	static const struct {
		const char	*yaml;
		const char	*want_err;
	} cases[] = {
		{ "x: 1\n", "t.yaml:1: unknown key 'x'" },
		{ "s: a\nsub:\n  name: x\n  y: 1\n",
		    "t.yaml:4: unknown key 'sub.y'" },
		{ "S: a\n", "t.yaml:1: unknown key 'S'" },	/* case */
		{ "u: 1\ns: a\nu: 2\n",
		    "t.yaml:3: u: key given twice (first on line 1)" },
		{ "sub:\n  port: 1\n  port: 2\n",
		    "t.yaml:3: sub.port: key given twice (first on line 2)" },
		{ "u:\n  a: 1\n", "t.yaml:2: u: expected a single value" },
		{ "s: [a, b]\n", "t.yaml:1: s: expected a single value" },
		{ "sub: 5\n",
		    "t.yaml:1: sub: expected a mapping (key: value lines)" },
		{ "sub: [a]\n", "t.yaml:1: sub: expected a mapping" },
		{ "l: {a: 1}\n", "t.yaml:1: l: expected a single value" },
		{ "l: [a, [b]]\n",
		    "t.yaml:1: l: list items must be plain values" },
		{ "u:\n", "t.yaml:1: u: a value is required" },
		{ "b: ~\n", "t.yaml:1: b: a value is required" },
		{ "- a\n- b\n", "t.yaml:1: the file must be a mapping" },
		{ "just text\n", "t.yaml:1: the file must be a mapping" },
		{ "? [a]\n: 1\n", "t.yaml:1: keys must be plain words" },
		{ "s: a\nu: [1, 2\nb: true\n",
		    "t.yaml:3: YAML syntax error: " },
		{ "s: a\nu: 1\n  bad: x\n", "t.yaml:3: YAML syntax error: " },
		{ "s: \"abc\n", "t.yaml:2: YAML syntax error: " },
		{ "\tu: 1\n", "t.yaml:1: YAML syntax error: " },
		{ "s: &x a\nu: *y\n",
		    "t.yaml:2: YAML syntax error: found undefined alias" },
		{ "s: a\n---\nu: 2\n",
		    "t.yaml:3: only one YAML document is allowed" },
		{ "s: a\n---\n[[[\n", "t.yaml:4: YAML syntax error: " },
		/* An alias is the node it names: here a mapping. */
		{ "sub: &m {name: x}\ns: *m\n",
		    "t.yaml:1: s: expected a single value" },
	};
	struct arena	*a = *state;
	struct t_cfg	 c;
	const char	*err;
	size_t		 i;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		if (load_t(a, &c, cases[i].yaml, &err) != -1 || err == NULL)
			fail_msg("'%s' loaded", cases[i].yaml);
		if (strncmp(err, cases[i].want_err,
		    strlen(cases[i].want_err)) != 0)
			fail_msg("'%s': got \"%s\", want \"%s...\"",
			    cases[i].yaml, err, cases[i].want_err);
	}
}

static void
test_required(void **state)
{
	static const struct {
		const char	*yaml;
		const char	*want_err;
	} cases[] = {
		{ "top: t\nsub:\n  host: h\n", NULL },
		{ "", "r.yaml:1: top: required key missing" },
		{ "opt: o\nsub:\n  host: h\n",
		    "r.yaml:1: top: required key missing" },
		{ "top:\n", "r.yaml:1: top: a value is required" },
		{ "top: \"\"\nsub:\n  host: h\n",	/* quoted: a value */
		    NULL },
		/* Inside a section: given empty, left out, or no section. */
		{ "top: t\nsub:\n  host:\n",
		    "r.yaml:3: sub.host: a value is required" },
		{ "top: t\nsub:\n  {}\n",
		    "r.yaml:3: sub.host: required key missing" },
		{ "top: t\nsub:\n",
		    "r.yaml:2: sub.host: required key missing" },
		{ "top: t\n", "r.yaml:1: sub.host: required key missing" },
	};
	struct arena	*a = *state;
	struct r_cfg	 c;
	const char	*err;
	size_t		 i;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		int rc;

		err = NULL;
		rc = conf_load_mem(r_table, &c, "r.yaml", cases[i].yaml,
		    strlen(cases[i].yaml), a, &err);
		if (cases[i].want_err == NULL) {
			if (rc != 0)
				fail_msg("'%s': %s", cases[i].yaml, err);
			assert_string_equal(c.sub.host, "h");
			assert_string_equal(c.opt, "");	/* NULL def. */
			continue;
		}
		if (rc != -1 || err == NULL)
			fail_msg("'%s' loaded", cases[i].yaml);
		if (strcmp(err, cases[i].want_err) != 0)
			fail_msg("'%s': got \"%s\", want \"%s\"",
			    cases[i].yaml, err, cases[i].want_err);
	}
}

/* conf_load reads a file; a missing one is an error naming it. */
static void
test_load_file(void **state)
{
	struct arena	*a = *state;
	struct t_cfg	 c;
	const char	*err = NULL;
	char		 path[64];
	FILE		*f;
	int		 fd;

	assert_int_equal(conf_load(t_table, &c, "/nonexistent/aviary.yaml", a,
	    &err), -1);
	assert_non_null(strstr(err, "/nonexistent/aviary.yaml: cannot open"));

	(void)snprintf(path, sizeof(path), "/tmp/aviary-test-conf.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd != -1);
	f = fdopen(fd, "w");
	assert_non_null(f);
	(void)fputs("s: from file\nu: 9\nx: 1\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(conf_load(t_table, &c, path, a, &err), -1);
	assert_non_null(strstr(err, ":3: unknown key 'x'"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	assert_int_equal(unlink(path), 0);
}

static int
load_aviary(struct arena *a, struct aviary_config *c, const char *yaml,
    const char **err)
{
	memset(c, 0, sizeof(*c));
	*err = NULL;
	return conf_load_mem(aviary_config_table, c, "aviary.yaml", yaml,
	    strlen(yaml), a, err);
}

static void
test_aviary_defaults(void **state)
{
	struct arena		*a = *state;
	struct aviary_config	 c;
	const char		*err;

	if (load_aviary(a, &c, "", &err) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.database.hosts.n, 1);
	assert_string_equal(c.database.hosts.v[0],
	    "unix:/run/mysqld/mysqld.sock");
	assert_string_equal(c.database.name, "aviary");
	assert_string_equal(c.database.user, "aviary_admin");
	assert_string_equal(c.database.password_file, "");
	assert_true(c.database.connect_timeout == 5);
	assert_string_equal(c.mail.root, "/var/mail/vhosts");
	assert_string_equal(c.mail.home, "%d/%n");
	assert_int_equal(c.mail.uid, 5000);
	assert_int_equal(c.mail.gid, 5000);
	assert_string_equal(c.passwords.scheme, "SHA512-CRYPT");
	assert_int_equal(c.passwords.rounds, 0);
	err = NULL;
	if (aviary_config_check(&c, "aviary.yaml", a, &err) != 0)
		fail_msg("defaults fail the check: %s", err);
}

/* The shipped conf/aviary.yaml, as of writing (kept here: hermetic). */
static void
test_aviary_sample(void **state)
{
	static const char yaml[] =
	    "database:\n"
	    "  hosts:\n"
	    "    - unix:/run/mysqld/mysqld.sock\n"
	    "    - db2.example.test:3307\n"
	    "  name: aviary\n"
	    "  user: aviary_admin\n"
	    "  password_file: /etc/aviary/db-admin.pass\n"
	    "  connect_timeout: 5s\n"
	    "\n"
	    "mail:\n"
	    "  root: /var/mail/vhosts\n"
	    "  home: \"%d/%n\"\n"
	    "  uid: 5000\n"
	    "  gid: 5000\n"
	    "\n"
	    "passwords:\n"
	    "  scheme: SHA512-CRYPT\n"
	    "  rounds: 0\n";
	struct arena		*a = *state;
	struct aviary_config	 c;
	const char		*err;

	if (load_aviary(a, &c, yaml, &err) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.database.hosts.n, 2);
	assert_string_equal(c.database.hosts.v[1], "db2.example.test:3307");
	assert_string_equal(c.database.password_file,
	    "/etc/aviary/db-admin.pass");
	if (aviary_config_check(&c, "aviary.yaml", a, &err) != 0)
		fail_msg("%s", err);
}

static void
test_aviary_errors(void **state)
{
	static const struct {
		const char	*yaml;
		const char	*want_err;	/* NULL: loads */
	} cases[] = {
		{ "database:\n  nmae: x\n",
		    "aviary.yaml:2: unknown key 'database.nmae'" },
		{ "mail:\n  root: /a\n\nmial:\n  uid: 1\n",
		    "aviary.yaml:4: unknown key 'mial'" },
		{ "mail:\n  uid: 1\n", NULL },
		{ "mail:\n  uid: 0\n",
		    "aviary.yaml:2: mail.uid: expected a whole number from "
		    "1 to 4294967294, got '0'" },
		{ "mail:\n  gid: 4294967294\n", NULL },
		{ "mail:\n  gid: 4294967295\n",
		    "aviary.yaml:2: mail.gid: expected a whole number from "
		    "1 to 4294967294" },
		{ "passwords:\n  rounds: 999999999\n", NULL },
		{ "passwords:\n  rounds: 1000000000\n",
		    "aviary.yaml:2: passwords.rounds: expected a whole "
		    "number from 0 to 999999999" },
		{ "database:\n  connect_timeout: 1s\n", NULL },
		{ "database:\n  connect_timeout: 0s\n",
		    "aviary.yaml:2: database.connect_timeout: expected a "
		    "duration from 1s to 5m" },
		{ "database:\n  connect_timeout: 5m\n", NULL },
		{ "database:\n  connect_timeout: 301\n",
		    "aviary.yaml:2: database.connect_timeout: expected a "
		    "duration" },
		{ "database:\n  hosts: {a: b}\n",
		    "aviary.yaml:2: database.hosts: expected a single value" },
		{ "database: x\n",
		    "aviary.yaml:1: database: expected a mapping" },
		{ "mail:\n  root:\n    - /a\n",
		    "aviary.yaml:3: mail.root: expected a single value" },
	};
	struct arena		*a = *state;
	struct aviary_config	 c;
	const char		*err;
	size_t			 i;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		int rc = load_aviary(a, &c, cases[i].yaml, &err);

		if (cases[i].want_err == NULL) {
			if (rc != 0)
				fail_msg("'%s': %s", cases[i].yaml, err);
			continue;
		}
		if (rc != -1 || err == NULL)
			fail_msg("'%s' loaded", cases[i].yaml);
		if (strncmp(err, cases[i].want_err,
		    strlen(cases[i].want_err)) != 0)
			fail_msg("'%s': got \"%s\", want \"%s...\"",
			    cases[i].yaml, err, cases[i].want_err);
	}
}

/* aviary_config_check: the rules that span keys. want_err is a
 * substring; NULL means the configuration passes. */
static void
test_aviary_check(void **state)
{
	static const struct {
		const char	*yaml;
		const char	*want_err;
	} cases[] = {
		{ "mail:\n  root: /srv/mail\n", NULL },
		/* Single values are refused while loading, with their line. */
		{ "mail:\n  root: srv/mail\n",
		    "aviary.yaml:2: mail.root: must be an absolute path" },
		{ "mail:\n  root: \"\"\n",
		    "aviary.yaml:2: mail.root: must be an absolute path" },
		{ "mail:\n  home: /abs/%n\n",
		    "mail.home: is relative to mail.root and may not contain "
		    "'..'" },
		{ "mail:\n  home: \"%d/../%n\"\n", "may not contain '..'" },
		{ "mail:\n  home: \"..%n\"\n", "may not contain '..'" },
		{ "mail:\n  home: \"%d/%x\"\n",
		    "aviary.yaml:2: mail.home: unknown variable (use %d, %n, %u "
		    "or %%)" },
		{ "mail:\n  home: \"%n/%\"\n", "mail.home: unknown variable" },
		{ "mail:\n  home: \"%D/%n\"\n", "unknown variable" },
		{ "mail:\n  home: \"%d\"\n",
		    "mail.home: must contain %n or %u" },
		{ "mail:\n  home: \"shared\"\n",
		    "mail.home: must contain %n or %u" },
		/* "%%n" is a literal "%n", not the local part. */
		{ "mail:\n  home: \"%d/%%n\"\n",
		    "mail.home: must contain %n or %u" },
		{ "mail:\n  home: \"%u\"\n", NULL },
		{ "mail:\n  home: \"%d/%%/%n\"\n", NULL },
		{ "mail:\n  home: \"%d/%n.d\"\n", NULL },
		/* What spans keys is checked afterwards, without a line. */
		{ "database:\n  hosts: []\n", "database.hosts lists no host" },
		{ "database:\n  hosts:\n", "database.hosts lists no host" },
		{ "database:\n  hosts: [a, \"\"]\n",
		    "aviary.yaml:2: database.hosts: empty host" },
		{ "database:\n  hosts: [\"unix:rel/sock\"]\n",
		    "unix: needs an absolute socket path" },
		{ "database:\n  hosts: db.example.test\n", NULL },
		{ "passwords:\n  scheme: FOO\n",
		    "aviary.yaml:2: passwords.scheme: unknown scheme" },
		{ "passwords:\n  scheme: MD5-CRYPT\n", "unknown scheme" },
		{ "passwords:\n  scheme: \"\"\n", "unknown scheme" },
		{ "passwords:\n  scheme: sha256-crypt\n", NULL },
		{ "passwords:\n  scheme: BLF-CRYPT\n", NULL },
		{ "passwords:\n  scheme: YESCRYPT\n", NULL },
		{ "auth:\n  trusted_networks: [\"10.0.0.0/8\", \"::1\"]\n", NULL },
		{ "auth:\n  trusted_networks: [\"10.0.0.0/33\"]\n",
		    "aviary.yaml:2: auth.trusted_networks: bad prefix length" },
		{ "auth:\n  trusted_networks: [nonsense]\n",
		    "auth.trusted_networks: not a network" },
		{ "auth:\n  mechanisms: [plain, LOGIN]\n", NULL },
		{ "auth:\n  mechanisms: [CRAM-MD5]\n",
		    "auth.mechanisms: unknown mechanism" },
		{ "auth:\n  failure_delay: 3s\n  penalty_max: 6s\n",
		    "must not exceed 8s" },
		{ "auth:\n  client_socket:\n    path: rel/auth\n",
		    "aviary.yaml:3: auth.client_socket.path: must be an absolute "
		    "path" },
	};
	struct arena		*a = *state;
	struct aviary_config	 c;
	const char		*err;
	size_t			 i;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		int rc;

		rc = load_aviary(a, &c, cases[i].yaml, &err);
		if (rc == 0) {
			err = NULL;
			rc = aviary_config_check(&c, "aviary.yaml", a, &err);
		}
		if (cases[i].want_err == NULL) {
			if (rc != 0)
				fail_msg("'%s': %s", cases[i].yaml, err);
			continue;
		}
		if (rc != -1 || err == NULL)
			fail_msg("'%s' was accepted", cases[i].yaml);
		if (strstr(err, cases[i].want_err) == NULL)
			fail_msg("'%s': got \"%s\", want \"%s\"",
			    cases[i].yaml, err, cases[i].want_err);
	}
}

/* aviary_mail_home: each expansion, with an output buffer of exactly the
 * needed size (N, works) and one byte less (fails, writes nothing past
 * outsz). */
static void
test_mail_home(void **state)
{
	static const struct {
		const char	*root, *home, *want;
	} cases[] = {
		{ "/r", "%d/%n", "/r/example.test/bob" },
		{ "/r", "%u", "/r/bob@example.test" },
		{ "/var/mail", "%d/%n/Maildir",
		    "/var/mail/example.test/bob/Maildir" },
		{ "/r", "100%%/%n", "/r/100%/bob" },
		{ "/r", "%%%n%%", "/r/%bob%" },
		{ "/r", "x", "/r/x" },
		{ "/r", "", "/r/" },
		{ "/", "%n", "//bob" },
	};
	struct aviary_mail_config	 m;
	char				 out[128];
	size_t				 i, need;

	(void)state;
	memset(&m, 0, sizeof(m));
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		m.root = (char *)(uintptr_t)cases[i].root;
		m.home = (char *)(uintptr_t)cases[i].home;
		need = strlen(cases[i].want) + 1;
		memset(out, 'Z', sizeof(out));
		assert_int_equal(aviary_mail_home(&m, "bob", "example.test",
		    out, need), 0);
		assert_string_equal(out, cases[i].want);
		memset(out, 'Z', sizeof(out));
		assert_int_equal(aviary_mail_home(&m, "bob", "example.test",
		    out, need - 1), -1);
		assert_int_equal(out[need - 1], 'Z');
		assert_int_equal(out[need], 'Z');
	}
	/* Unknown or cut-off variables fail even with room to spare. */
	m.root = (char *)(uintptr_t)"/r";
	m.home = (char *)(uintptr_t)"%d/%x";
	assert_int_equal(aviary_mail_home(&m, "b", "e.t", out, sizeof(out)),
	    -1);
	m.home = (char *)(uintptr_t)"%n/%";
	assert_int_equal(aviary_mail_home(&m, "b", "e.t", out, sizeof(out)),
	    -1);
	assert_int_equal(aviary_mail_home(&m, "b", "e.t", out, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults_on_empty,
		    setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_values, setup_arena,
		    teardown_arena),
		cmocka_unit_test_setup_teardown(test_lists, setup_arena,
		    teardown_arena),
		cmocka_unit_test_setup_teardown(test_scalar_bounds,
		    setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_errors, setup_arena,
		    teardown_arena),
		cmocka_unit_test_setup_teardown(test_required, setup_arena,
		    teardown_arena),
		cmocka_unit_test_setup_teardown(test_load_file, setup_arena,
		    teardown_arena),
		cmocka_unit_test_setup_teardown(test_aviary_defaults,
		    setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_aviary_sample,
		    setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_aviary_errors,
		    setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_aviary_check,
		    setup_arena, teardown_arena),
		cmocka_unit_test(test_mail_home),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
