/* test_authd.c - the pure parts of auth-sql/authd.c: the penalty curve
 * and its cap, IP and CIDR parsing (prefix limits at N and N+1),
 * loopback and trusted-network matching at prefix boundaries, the
 * password fingerprint (an HMAC-SHA256 vector computed with Python's
 * hmac module), and, over real lru maps, the penalty bookkeeping and
 * the cache flush. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "authd.h"
#include "aviary/compat.h"
#include "aviary/lru.h"
#include "aviary/str.h"

static void
test_penalty_for(void **state)
{
	static const struct {
		unsigned	 failures;
		uint64_t	 max, want;
	} cases[] = {
		{ 0, 30000, 0 },
		{ 1, 30000, 250 },
		{ 2, 30000, 500 },
		{ 3, 30000, 1000 },
		{ 4, 30000, 2000 },
		{ 7, 30000, 16000 },
		{ 8, 30000, 30000 },		/* 32000, capped */
		{ 9, 30000, 30000 },
		{ 3, 1000, 1000 },		/* exactly the cap */
		{ 3, 999, 999 },
		{ 4, 1000, 1000 },
		{ 1, 0, 0 },			/* no penalty configured */
		{ 1000, 0, 0 },
		{ 0, 0, 0 },
		/* The shift stops at 20; past it the cap is the answer, so
		 * nothing overflows however many failures are counted. */
		{ 20, UINT64_MAX, 250ULL << 19 },
		{ 21, UINT64_MAX, UINT64_MAX },
		{ 64, 30000, 30000 },
		{ 65, 30000, 30000 },
		{ 1000, 30000, 30000 },
		{ UINT32_MAX, 30000, 30000 },
		{ UINT32_MAX, UINT64_MAX, UINT64_MAX },
	};
	uint64_t	 prev = 0;
	unsigned	 n;
	size_t		 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		uint64_t got = authd_penalty_for(cases[i].failures,
		    cases[i].max);

		if (got != cases[i].want)
			fail_msg("authd_penalty_for(%u, %llu) = %llu, "
			    "want %llu", cases[i].failures,
			    (unsigned long long)cases[i].max,
			    (unsigned long long)got,
			    (unsigned long long)cases[i].want);
	}
	/* Never decreasing, never above the cap. */
	for (n = 0; n < 2000; n++) {
		uint64_t d = authd_penalty_for(n, 8000);

		assert_true(d >= prev);
		assert_true(d <= 8000);
		prev = d;
	}
}

static void
test_parse_ip(void **state)
{
	static const struct {
		const char	*in;
		bool		 ok;
		int		 family;
	} cases[] = {
		{ "127.0.0.1", true, AF_INET },
		{ "0.0.0.0", true, AF_INET },
		{ "255.255.255.255", true, AF_INET },
		{ "192.0.2.1", true, AF_INET },
		{ "::1", true, AF_INET6 },
		{ "::", true, AF_INET6 },
		{ "2001:db8::1", true, AF_INET6 },
		{ "::ffff:192.0.2.1", true, AF_INET6 },
		/* The longest IPv6 text form: 45 bytes. */
		{ "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", true,
		    AF_INET6 },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555", false, 0 },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255xx", false, 0 },
		{ "", false, 0 },
		{ "256.0.0.1", false, 0 },
		{ "1.2.3", false, 0 },
		{ "1.2.3.4.5", false, 0 },
		{ " 1.2.3.4", false, 0 },
		{ "1.2.3.4 ", false, 0 },
		{ "1.2.3.4/32", false, 0 },
		{ "[::1]", false, 0 },
		{ "::1%lo", false, 0 },
		{ "localhost", false, 0 },
		{ "example.test", false, 0 },
		{ "unknown", false, 0 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct net	 ip;
		bool		 ok = net_parse_ip(str_from_cstr(cases[i].in),
				    &ip);

		if (ok != cases[i].ok)
			fail_msg("net_parse_ip(\"%s\") = %d", cases[i].in,
			    ok);
		if (ok) {
			assert_int_equal(ip.family, cases[i].family);
			assert_int_equal(ip.prefix,
			    ip.family == AF_INET ? 32 : 128);
		}
	}
	/* A slice: the bytes after len are not part of it. */
	{
		struct net	 ip;
		char		 big[200];

		assert_true(net_parse_ip((struct str){ "10.1.2.3garbage", 8 },
		    &ip));
		assert_int_equal(ip.family, AF_INET);
		assert_memory_equal(ip.addr, "\x0a\x01\x02\x03", 4);
		memset(big, '1', sizeof(big));
		assert_false(net_parse_ip((struct str){ big, sizeof(big) },
		    &ip));
	}
}

struct cidr_case {
	const char	*in;
	int		 want_rc;
	int		 family;
	unsigned	 prefix;
};

static void
test_parse_cidr(void **state)
{
	static const struct cidr_case cases[] = {
		{ "127.0.0.0/8", 0, AF_INET, 8 },
		{ "192.168.0.0/16", 0, AF_INET, 16 },
		{ "10.1.2.3", 0, AF_INET, 32 },
		{ "10.1.2.3/32", 0, AF_INET, 32 },		/* N */
		{ "10.1.2.3/33", -1, 0, 0 },			/* N+1 */
		{ "0.0.0.0/0", 0, AF_INET, 0 },
		{ "::1", 0, AF_INET6, 128 },
		{ "::1/128", 0, AF_INET6, 128 },		/* N */
		{ "::1/129", -1, 0, 0 },			/* N+1 */
		{ "2001:db8::/32", 0, AF_INET6, 32 },
		{ "::/0", 0, AF_INET6, 0 },
		{ "::ffff:10.0.0.0/104", 0, AF_INET6, 104 },
		{ "10.0.0.0/08", 0, AF_INET, 8 },	/* decimal, not octal */
		{ "10.0.0.0/", -1, 0, 0 },
		{ "10.0.0.0/x", -1, 0, 0 },
		{ "10.0.0.0/-1", -1, 0, 0 },
		{ "10.0.0.0/+8", -1, 0, 0 },
		{ "10.0.0.0/ 8", -1, 0, 0 },
		{ "10.0.0.0/8 ", -1, 0, 0 },
		{ "10.0.0.0/8/8", -1, 0, 0 },
		{ "10.0.0.0/18446744073709551616", -1, 0, 0 },
		{ "10.0.0.0/4294967328", -1, 0, 0 },	/* 2^32 + 32 */
		{ "/8", -1, 0, 0 },
		{ "", -1, 0, 0 },
		{ "/", -1, 0, 0 },
		{ "10.0.0/8", -1, 0, 0 },
		{ "garbage", -1, 0, 0 },
		{ "localhost/8", -1, 0, 0 },
		{ "10.0.0.0\t/8", -1, 0, 0 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct net	 n;
		int		 rc = net_parse_cidr(cases[i].in, &n);

		if (rc != cases[i].want_rc)
			fail_msg("net_parse_cidr(\"%s\") = %d", cases[i].in,
			    rc);
		if (rc != 0)
			continue;
		assert_int_equal(n.family, cases[i].family);
		assert_int_equal(n.prefix, cases[i].prefix);
	}
}

static struct net
ip(const char *s)
{
	struct net	 n;

	if (!net_parse_ip(str_from_cstr(s), &n))
		fail_msg("bad test address %s", s);
	return n;
}

static void
test_is_loopback(void **state)
{
	static const struct {
		const char	*in;
		bool		 want;
	} cases[] = {
		{ "127.0.0.1", true },
		{ "127.255.1.2", true },
		{ "127.0.0.0", true },
		{ "::1", true },
		{ "10.0.0.1", false },
		{ "128.0.0.1", false },
		{ "126.255.255.255", false },
		{ "0.0.0.0", false },
		{ "::2", false },
		{ "::", false },
		{ "1::1", false },
		/* IPv4 loopback seen through an IPv6 socket. */
		{ "::ffff:127.0.0.1", true },
		{ "::ffff:127.255.1.2", true },
		{ "::ffff:10.0.0.1", false },
		{ "::fffe:127.0.0.1", false },
		{ "::127.0.0.1", false },		/* not mapped */
		{ "1::ffff:127.0.0.1", false },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct net	 n = ip(cases[i].in);

		if (net_is_loopback(&n) != cases[i].want)
			fail_msg("net_is_loopback(%s) wrong", cases[i].in);
	}
	/* A struct net that never parsed (family 0) is not loopback. */
	{
		struct net	 z;

		memset(&z, 0, sizeof(z));
		z.addr[0] = 127;
		assert_false(net_is_loopback(&z));
	}
}

static void
trust(struct authd *d, const char *const *cidrs, size_t n)
{
	size_t	 i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < n; i++)
		if (net_parse_cidr(cidrs[i], &d->trusted[d->ntrusted++]) != 0)
			fail_msg("bad test network %s", cidrs[i]);
}

struct trust_case {
	const char	*ip;
	bool		 want;
};

static void
check_trust(const struct authd *d, const struct trust_case *cases,
    size_t n, const char *what)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		struct net	 a = ip(cases[i].ip);

		if (authd_is_trusted(d, &a) != cases[i].want)
			fail_msg("%s: authd_is_trusted(%s) != %d", what,
			    cases[i].ip, cases[i].want);
	}
}

static void
test_is_trusted(void **state)
{
	static const char *const nets[] = {
		"192.168.0.0/16", "10.0.0.128/25", "2001:db8::/32",
		"198.51.100.7/32", "2001:db8:ffff::/128", "172.16.0.0/12",
	};
	static const struct trust_case cases[] = {
		{ "192.168.5.5", true },
		{ "192.168.0.0", true },
		{ "192.168.255.255", true },
		{ "192.169.0.1", false },
		{ "192.167.255.255", false },
		/* /25: .128 .. .255 */
		{ "10.0.0.127", false },
		{ "10.0.0.128", true },
		{ "10.0.0.200", true },
		{ "10.0.0.255", true },
		{ "10.0.1.128", false },
		{ "10.0.0.0", false },
		/* /12 (a prefix that is not a multiple of 8) */
		{ "172.16.0.1", true },
		{ "172.31.255.255", true },
		{ "172.32.0.0", false },
		{ "172.15.255.255", false },
		/* /32 */
		{ "198.51.100.7", true },
		{ "198.51.100.6", false },
		{ "198.51.100.8", false },
		/* IPv6 */
		{ "2001:db8::1", true },
		{ "2001:db8:ffff:ffff::", true },
		{ "2001:db9::1", false },
		{ "2001:db7:ffff::1", false },
		/* v4-mapped addresses are IPv6: no match against v4 nets */
		{ "::ffff:192.168.5.5", false },
		{ "127.0.0.1", false },
		{ "::1", false },
	};
	static const char *const all4[] = { "0.0.0.0/0" };
	static const struct trust_case all4_cases[] = {
		{ "0.0.0.0", true },
		{ "255.255.255.255", true },
		{ "203.0.113.9", true },
		{ "::", false },
		{ "::ffff:1.2.3.4", false },
	};
	static const char *const all6[] = { "::/0" };
	static const struct trust_case all6_cases[] = {
		{ "::", true },
		{ "ffff::1", true },
		{ "::ffff:1.2.3.4", true },
		{ "1.2.3.4", false },
	};
	static const char *const half[] = { "128.0.0.0/1", "::1/128" };
	static const struct trust_case half_cases[] = {
		{ "128.0.0.0", true },
		{ "200.1.1.1", true },
		{ "127.255.255.255", false },
		{ "::1", true },
		{ "::", false },
		{ "::3", false },
	};
	struct authd	 d;
	struct net	 a;

	(void)state;
	trust(&d, nets, N_ELEMENTS(nets));
	check_trust(&d, cases, N_ELEMENTS(cases), "nets");
	trust(&d, all4, N_ELEMENTS(all4));
	check_trust(&d, all4_cases, N_ELEMENTS(all4_cases), "0.0.0.0/0");
	trust(&d, all6, N_ELEMENTS(all6));
	check_trust(&d, all6_cases, N_ELEMENTS(all6_cases), "::/0");
	trust(&d, half, N_ELEMENTS(half));
	check_trust(&d, half_cases, N_ELEMENTS(half_cases), "/1");
	/* No trusted networks: nothing is trusted, loopback included. */
	trust(&d, NULL, 0);
	a = ip("127.0.0.1");
	assert_false(authd_is_trusted(&d, &a));
	/* Host bits set in the network are ignored (10.9.8.7/8 = 10/8). */
	{
		static const char *const hostbits[] = { "10.9.8.7/8" };

		trust(&d, hostbits, 1);
		a = ip("10.200.0.1");
		assert_true(authd_is_trusted(&d, &a));
	}
}

static void
fp_hex(const unsigned char *fp, char *out)
{
	size_t	 i;

	for (i = 0; i < AUTH_FP_LEN; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", fp[i]);
}

static void
test_fingerprint(void **state)
{
	static struct authd	 d, d2;
	static char		 user[ADDR_MAX + 1], pw[PASSWORD_MAX];
	unsigned char		 a[AUTH_FP_LEN], b[AUTH_FP_LEN];
	char			 hex[2 * AUTH_FP_LEN + 1];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(d.fp_key); i++)
		d.fp_key[i] = (unsigned char)i;
	d2 = d;
	d2.fp_key[31] ^= 1;

	/* HMAC-SHA256(key 00..1f, "demo@example.test" NUL "secret"). */
	authd_fingerprint(&d, "demo@example.test", "secret", a);
	fp_hex(a, hex);
	assert_string_equal(hex, "2405988a6ff0e480ca2979d9d5b4ce56"
	    "60e87e8bb74e1e2854a18aa8821f8ce3");
	authd_fingerprint(&d, "demo@example.test", "secret", b);
	assert_memory_equal(a, b, AUTH_FP_LEN);		/* deterministic */

	authd_fingerprint(&d, "demo@example.test", "secreT", b);
	assert_memory_not_equal(a, b, AUTH_FP_LEN);
	authd_fingerprint(&d, "demo@example.tesT", "secret", b);
	assert_memory_not_equal(a, b, AUTH_FP_LEN);
	authd_fingerprint(&d, "other@example.test", "secret", b);
	assert_memory_not_equal(a, b, AUTH_FP_LEN);
	authd_fingerprint(&d2, "demo@example.test", "secret", b);
	assert_memory_not_equal(a, b, AUTH_FP_LEN);	/* the key counts */
	/* The separator: "ab"+"c" is not "a"+"bc". */
	authd_fingerprint(&d, "ab", "c", a);
	authd_fingerprint(&d, "a", "bc", b);
	assert_memory_not_equal(a, b, AUTH_FP_LEN);
	authd_fingerprint(&d, "", "", a);
	authd_fingerprint(&d, "", "x", b);
	assert_memory_not_equal(a, b, AUTH_FP_LEN);

	/* The longest login and password fill the message buffer exactly
	 * (ASan checks); the last byte of each still counts. */
	memset(user, 'u', ADDR_MAX);
	memset(pw, 'p', PASSWORD_MAX - 1);
	authd_fingerprint(&d, user, pw, a);
	pw[PASSWORD_MAX - 2] = 'q';
	authd_fingerprint(&d, user, pw, b);
	assert_memory_not_equal(a, b, AUTH_FP_LEN);
	user[ADDR_MAX - 1] = 'v';
	authd_fingerprint(&d, user, pw, a);
	assert_memory_not_equal(a, b, AUTH_FP_LEN);
}

/* The bookkeeping behind the curve: failures counted per IP and per
 * user, the larger wins, a repeated wrong password (one of the last
 * four) does not count again, a success clears both. */
static void
test_penalty_table(void **state)
{
	static struct authd		 d;
	static struct aviary_config	 cfg;
	unsigned char			 fp[6][AUTH_FP_LEN];
	size_t				 i;

	(void)state;
	memset(fp, 0, sizeof(fp));
	for (i = 0; i < 6; i++)
		fp[i][0] = (unsigned char)(i + 1);
	cfg.auth.penalty_max = 8;		/* s */
	cfg.auth.penalty_window = 3600;
	d.cfg = &cfg;
	d.penalty = lru_create(100, sizeof(struct penalty_entry));

	assert_int_equal(authd_penalty_delay(&d, "ip:192.0.2.1", "demo"), 0);
	authd_penalty_fail(&d, "ip:192.0.2.1", "demo", fp[0]);
	assert_int_equal(authd_penalty_delay(&d, "ip:192.0.2.1", "demo"), 250);
	authd_penalty_fail(&d, "ip:192.0.2.1", "demo", fp[0]);	/* again */
	assert_int_equal(authd_penalty_delay(&d, "ip:192.0.2.1", "demo"), 250);
	authd_penalty_fail(&d, "ip:192.0.2.1", "demo", fp[1]);
	authd_penalty_fail(&d, "ip:192.0.2.1", "demo", fp[2]);
	authd_penalty_fail(&d, "ip:192.0.2.1", "demo", fp[3]);
	assert_int_equal(authd_penalty_delay(&d, "ip:192.0.2.1", "demo"),
	    2000);
	authd_penalty_fail(&d, "ip:192.0.2.1", "demo", fp[0]);	/* in the 4 */
	assert_int_equal(authd_penalty_delay(&d, "ip:192.0.2.1", "demo"),
	    2000);
	authd_penalty_fail(&d, "ip:192.0.2.1", "demo", fp[4]);	/* drops fp0 */
	assert_int_equal(authd_penalty_delay(&d, "ip:192.0.2.1", "demo"),
	    4000);
	authd_penalty_fail(&d, "ip:192.0.2.1", "demo", fp[0]);	/* counts */
	assert_int_equal(authd_penalty_delay(&d, "ip:192.0.2.1", "demo"),
	    8000);
	authd_penalty_fail(&d, "ip:192.0.2.1", "demo", fp[5]);	/* capped */
	assert_int_equal(authd_penalty_delay(&d, "ip:192.0.2.1", "demo"),
	    8000);

	/* The same IP for another user, another IP for the same user. */
	assert_int_equal(authd_penalty_delay(&d, "ip:192.0.2.1", "other"),
	    8000);
	assert_int_equal(authd_penalty_delay(&d, "ip:192.0.2.2", "demo"),
	    8000);
	assert_int_equal(authd_penalty_delay(&d, "ip:192.0.2.2", "other"), 0);
	assert_int_equal(authd_penalty_delay(&d, NULL, "other"), 0);
	assert_int_equal(authd_penalty_delay(&d, NULL, "demo"), 8000);

	/* Without an IP only the user counts. */
	authd_penalty_fail(&d, NULL, "other", fp[0]);
	assert_int_equal(authd_penalty_delay(&d, "ip:192.0.2.2", "other"),
	    250);

	/* A success clears the IP and the user. */
	authd_penalty_clear(&d, "ip:192.0.2.1", "demo");
	assert_int_equal(authd_penalty_delay(&d, "ip:192.0.2.1", "demo"), 0);
	assert_int_equal(authd_penalty_delay(&d, "ip:192.0.2.2", "other"),
	    250);
	authd_penalty_clear(&d, NULL, "other");
	assert_int_equal(lru_count(d.penalty), 0);
	lru_destroy(&d.penalty);
}

static void
cache_add(struct authd *d, const char *login, const char *user)
{
	struct cache_entry	*e = lru_put(d->cache, login, NULL);

	assert_non_null(e);
	(void)snprintf(e->user, sizeof(e->user), "%s", user);
}

static void
test_cache_flush(void **state)
{
	static struct authd	 d;

	(void)state;
	d.cache = lru_create(100, sizeof(struct cache_entry));
	cache_add(&d, "demo@example.test", "demo@example.test");
	cache_add(&d, "demo@alias.test", "demo@example.test");
	cache_add(&d, "Demo@example.test", "demo@example.test");
	cache_add(&d, "other@example.test", "other@example.test");
	cache_add(&d, "x@y.z", "x@y.z");
	/* By login and by the mailbox logins resolved to. */
	assert_int_equal(authd_cache_flush(&d, "demo@example.test"), 3);
	assert_int_equal(lru_count(d.cache), 2);
	assert_null(lru_get(d.cache, "demo@alias.test"));
	assert_int_equal(authd_cache_flush(&d, "demo@example.test"), 0);
	assert_int_equal(authd_cache_flush(&d, "nobody@example.test"), 0);
	assert_int_equal(authd_cache_flush(&d, "x@y.z"), 1);
	assert_non_null(lru_get(d.cache, "other@example.test"));
	/* NULL: everything. */
	cache_add(&d, "a@b.c", "a@b.c");
	assert_int_equal(authd_cache_flush(&d, NULL), 2);
	assert_int_equal(lru_count(d.cache), 0);
	lru_destroy(&d.cache);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_penalty_for),
		cmocka_unit_test(test_parse_ip),
		cmocka_unit_test(test_parse_cidr),
		cmocka_unit_test(test_is_loopback),
		cmocka_unit_test(test_is_trusted),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_penalty_table),
		cmocka_unit_test(test_cache_flush),
	};

	return cmocka_run_group_tests_name("authd", tests, NULL, NULL);
}
