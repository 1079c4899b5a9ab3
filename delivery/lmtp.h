/* lmtp.h - private to aviary-lmtp: the server's state shared by the
 * connection code and main.c. */
#ifndef AVIARY_LMTP_H
#define AVIARY_LMTP_H

#include <stdint.h>
#include <sys/types.h>

#include "aviary/config.h"

struct ev;
struct userdb_client;

struct lmtpd {
	const struct aviary_config	*cfg;
	struct ev			*ev;
	struct userdb_client		*userdb;
	char				 hostname[256];
	const char *const		*folders;	/* cfg->lmtp.folders */
	size_t				 nfolders;
	uint64_t			 n_delivered, n_failed;
	/* closed connections, freed before the loop sleeps */
	void				**dead;
	size_t				  ndead, capdead;
	struct lconn			 *conns;
};

void	lmtp_conn_accept(struct lmtpd *d, int lfd);
void	lmtp_conn_close_all(struct lmtpd *d);
void	lmtp_reap(void *d);

#endif
