/* aviary/net.h - IP addresses and networks: parsing "192.0.2.1",
 * "2001:db8::1", "10.0.0.0/8", and asking whether an address is in a
 * network or on the loopback. For access decisions (trusted networks,
 * plaintext logins); no name resolution anywhere.
 */
#ifndef AVIARY_NET_H
#define AVIARY_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aviary/compat.h"
#include "aviary/str.h"

struct sockaddr;

/* The longest text net_sockaddr writes, with its NUL ("[v6]" is not
 * used: the address alone). */
#define NET_ADDR_TEXT	46

struct net {
	int		 family;	/* AF_INET or AF_INET6; 0: none */
	unsigned char	 addr[16];
	unsigned	 prefix;	/* 32 or 128 for a single address */
};

/* A numeric address (no prefix). false, with *ip_r zeroed, otherwise. */
bool	net_parse_ip(struct str s, struct net *ip_r);
/* "addr" or "addr/prefix". 0, or -1. */
int	net_parse_cidr(const char *s, struct net *n_r) AV_WARN_UNUSED;
/* ip (a single address) lies in n; different families never match. */
bool	net_contains(const struct net *n, const struct net *ip);
/* 127.0.0.0/8, ::1, or ::ffff:127.x.y.z (IPv4 loopback through an IPv6
 * socket). */
bool	net_is_loopback(const struct net *ip);
/* From an accepted or bound socket address: the address (IPv4-mapped
 * IPv6 addresses are reported as IPv4), its text into text[NET_ADDR_TEXT]
 * and the port. AF_UNIX and others: false, text "" and port 0. */
bool	net_sockaddr(const struct sockaddr *sa, struct net *ip_r,
	    char text[NET_ADDR_TEXT], uint16_t *port_r);

#endif
