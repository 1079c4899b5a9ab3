/* net.c - IP addresses and networks; see aviary/net.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "aviary/net.h"

bool
net_parse_ip(struct str s, struct net *ip_r)
{
	char	 tmp[INET6_ADDRSTRLEN + 1];

	memset(ip_r, 0, sizeof(*ip_r));
	if (s.len == 0 || s.len >= sizeof(tmp))
		return false;
	memcpy(tmp, s.p, s.len);
	tmp[s.len] = '\0';
	if (inet_pton(AF_INET, tmp, ip_r->addr) == 1) {
		ip_r->family = AF_INET;
		ip_r->prefix = 32;
		return true;
	}
	if (inet_pton(AF_INET6, tmp, ip_r->addr) == 1) {
		ip_r->family = AF_INET6;
		ip_r->prefix = 128;
		return true;
	}
	memset(ip_r, 0, sizeof(*ip_r));
	return false;
}

int
net_parse_cidr(const char *s, struct net *n_r)
{
	const char	*slash = strchr(s, '/');
	struct str	 addr = slash ? (struct str){ s, (size_t)(slash - s) } :
			    str_from_cstr(s);
	uint64_t	 prefix;

	if (!net_parse_ip(addr, n_r))
		return -1;
	if (slash != NULL) {
		if (str_to_u64(str_from_cstr(slash + 1), &prefix) == -1 ||
		    prefix > (n_r->family == AF_INET ? 32 : 128))
			return -1;
		n_r->prefix = (unsigned)prefix;
	}
	return 0;
}

bool
net_contains(const struct net *n, const struct net *ip)
{
	unsigned	 full = n->prefix / 8, rest = n->prefix % 8;

	if (n->family != ip->family || n->family == 0)
		return false;
	if (memcmp(n->addr, ip->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((n->addr[full] ^ ip->addr[full]) &
	    (unsigned char)(0xff << (8 - rest))) == 0;
}

bool
net_is_loopback(const struct net *ip)
{
	static const unsigned char v6lo[16] = { [15] = 1 };
	static const unsigned char v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (ip->family == AF_INET)
		return ip->addr[0] == 127;
	if (ip->family != AF_INET6)
		return false;
	return memcmp(ip->addr, v6lo, 16) == 0 ||
	    (memcmp(ip->addr, v4mapped, 12) == 0 && ip->addr[12] == 127);
}

bool
net_sockaddr(const struct sockaddr *sa, struct net *ip_r,
    char text[NET_ADDR_TEXT], uint16_t *port_r)
{
	static const unsigned char v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(ip_r, 0, sizeof(*ip_r));
	text[0] = '\0';
	*port_r = 0;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in	 sin;

		memcpy(&sin, sa, sizeof(sin));
		ip_r->family = AF_INET;
		ip_r->prefix = 32;
		memcpy(ip_r->addr, &sin.sin_addr, 4);
		*port_r = ntohs(sin.sin_port);
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6	 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		*port_r = ntohs(sin6.sin6_port);
		if (memcmp(&sin6.sin6_addr, v4mapped, 12) == 0) {
			ip_r->family = AF_INET;
			ip_r->prefix = 32;
			memcpy(ip_r->addr, (const unsigned char *)
			    &sin6.sin6_addr + 12, 4);
		} else {
			ip_r->family = AF_INET6;
			ip_r->prefix = 128;
			memcpy(ip_r->addr, &sin6.sin6_addr, 16);
		}
	} else
		return false;
	if (inet_ntop(ip_r->family, ip_r->addr, text, NET_ADDR_TEXT) == NULL) {
		text[0] = '\0';
		return false;
	}
	return true;
}
