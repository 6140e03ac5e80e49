// SPDX-License-Identifier: GPL-2.0
/*
 * libmnl plumbing for the kfw generic netlink family (see kmod/uapi/kfw.h).
 *
 * Requests are built with mnl_attr_put*() and answers read with mnl_cb_run2():
 * data messages go to a per-request callback that parses attributes with
 * mnl_attr_parse() against a small table of expected types, and NLMSG_ERROR
 * and NLMSG_DONE go to our own control callbacks, because libmnl's default
 * ones drop the extended ack that says *why* the kernel refused a request.
 *
 * The socket asks for extended acks (NETLINK_EXT_ACK) without the echoed
 * request (NETLINK_CAP_ACK): a refused 30 KiB chunk of rules would otherwise
 * come back whole in every error message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include "netlink.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The kernel sizes dump datagrams after our reads, up to 32 KiB; a buffer
 * at least that large means one recvmsg() per datagram and no truncation.
 */
#define RECV_BUF_SIZE	(128 << 10)
/* Room for any single request but the REPLACE_RULES batches. */
#define REQUEST_MAX	(16 << 10)	/* a rule with two lists of 64 IPv6 prefixes */
/* Socket buffers: big enough for the batches below and for fast dumps. */
#define SOCK_BUF_SIZE	(4 << 20)
/* The most REPLACE_RULES bytes sent in one sendmsg(). */
#define BATCH_MAX	(1 << 20)
/*
 * At most this many REPLACE_RULES messages per batch. The kernel goes on
 * with a batch after a refusal and answers every later message with an
 * error too; those answers must all fit in the receive buffer, or the
 * socket reports ENOBUFS before the first, telling error can be read.
 */
#define BATCH_MSGS_MAX	32
/*
 * A KFW_A_RULES nest may not exceed the 64 KiB that nla_len can express;
 * KFW_REPLACE_CHUNK_MAX large IPv6 rules would, so chunks are also cut by
 * size, with a wide margin.
 */
#define RULES_NEST_MAX	(32 << 10)
/* Restarts of a dump that a concurrent change keeps interrupting. */
#define DUMP_TRIES	5

struct fwnl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint16_t family;
	uint32_t seq;
	size_t sndbuf;		/* the kernel's send buffer limit, 0 if unknown */
	char *buf;		/* RECV_BUF_SIZE bytes */
};

/* The state of one exchange, handed to every callback of mnl_cb_run2(). */
struct reply {
	struct fwnl_error *e;
	mnl_cb_t data_cb;
	void *data;
	uint32_t ack_seq;	/* in a batch, the one message that asked for an ack */
	uint32_t err_seq;	/* the message the kernel refused */
	bool failed;		/* the kernel refused; e holds why */
};

/* Expected type of one attribute; MNL_TYPE_UNSPEC entries are skipped. */
struct attr_policy {
	enum mnl_attr_data_type type;
	size_t len;		/* exact payload length of MNL_TYPE_BINARY */
};

struct attr_table {
	const struct attr_policy *policy;
	unsigned int max;
	const struct nlattr **tb;
};

static const struct attr_policy top_policy[KFW_A_MAX + 1] = {
	[KFW_A_RULE]		= { MNL_TYPE_NESTED },
	[KFW_A_RULES]		= { MNL_TYPE_NESTED },
	[KFW_A_POSITION]	= { MNL_TYPE_U32 },
	[KFW_A_HANDLE]		= { MNL_TYPE_U64 },
	[KFW_A_DIR]		= { MNL_TYPE_U8 },
	[KFW_A_VERDICT]		= { MNL_TYPE_U8 },
	[KFW_A_POLICY_IN]	= { MNL_TYPE_U8 },
	[KFW_A_POLICY_OUT]	= { MNL_TYPE_U8 },
	[KFW_A_RULE_COUNT]	= { MNL_TYPE_U32 },
	[KFW_A_RULE_LIMIT]	= { MNL_TYPE_U32 },
	[KFW_A_GENERATION]	= { MNL_TYPE_U32 },
	[KFW_A_STATS]		= { MNL_TYPE_NESTED },
	[KFW_A_HOOK]		= { MNL_TYPE_NESTED },
	[KFW_A_LOG_SUPPRESSED]	= { MNL_TYPE_U64 },
	[KFW_A_PACKET]		= { MNL_TYPE_NESTED },
	[KFW_A_CHECK]		= { MNL_TYPE_FLAG },
	[KFW_A_CONFIRM]		= { MNL_TYPE_U32 },
	[KFW_A_CONFIRM_LEFT]	= { MNL_TYPE_U32 },
	[KFW_A_ZERO]		= { MNL_TYPE_FLAG },
};

static const struct attr_policy rule_policy[KFW_RULE_A_MAX + 1] = {
	[KFW_RULE_A_HANDLE]	= { MNL_TYPE_U64 },
	[KFW_RULE_A_DIR]	= { MNL_TYPE_U8 },
	[KFW_RULE_A_ACTION]	= { MNL_TYPE_U8 },
	[KFW_RULE_A_PROTO]	= { MNL_TYPE_U8 },
	[KFW_RULE_A_SRC_IP4]	= { MNL_TYPE_BINARY, 4 },
	[KFW_RULE_A_SRC_IP6]	= { MNL_TYPE_BINARY, 16 },
	[KFW_RULE_A_SRC_PREFIX]	= { MNL_TYPE_U8 },
	[KFW_RULE_A_DST_IP4]	= { MNL_TYPE_BINARY, 4 },
	[KFW_RULE_A_DST_IP6]	= { MNL_TYPE_BINARY, 16 },
	[KFW_RULE_A_DST_PREFIX]	= { MNL_TYPE_U8 },
	[KFW_RULE_A_SPORT_FIRST] = { MNL_TYPE_U16 },
	[KFW_RULE_A_SPORT_LAST]	= { MNL_TYPE_U16 },
	[KFW_RULE_A_DPORT_FIRST] = { MNL_TYPE_U16 },
	[KFW_RULE_A_DPORT_LAST]	= { MNL_TYPE_U16 },
	[KFW_RULE_A_IFACE]	= { MNL_TYPE_NUL_STRING },
	[KFW_RULE_A_PACKETS]	= { MNL_TYPE_U64 },
	[KFW_RULE_A_BYTES]	= { MNL_TYPE_U64 },
	[KFW_RULE_A_STATE]	= { MNL_TYPE_U8 },
	[KFW_RULE_A_ICMP_TYPE]	= { MNL_TYPE_U8 },
	[KFW_RULE_A_ICMP_CODE]	= { MNL_TYPE_U8 },
	[KFW_RULE_A_PAYLOAD]	= { MNL_TYPE_BINARY },	/* length checked in get_rule() */
	[KFW_RULE_A_PAYLOAD_WITHIN] = { MNL_TYPE_U16 },
	[KFW_RULE_A_LOG]	= { MNL_TYPE_FLAG },
	[KFW_RULE_A_LOG_RATE]	= { MNL_TYPE_U32 },
	[KFW_RULE_A_LOG_BURST]	= { MNL_TYPE_U32 },
	[KFW_RULE_A_COMMENT]	= { MNL_TYPE_NUL_STRING },
	[KFW_RULE_A_OVER_RATE]	= { MNL_TYPE_U32 },
	[KFW_RULE_A_OVER_PERIOD] = { MNL_TYPE_U32 },
	[KFW_RULE_A_OVER_BURST]	= { MNL_TYPE_U32 },
	[KFW_RULE_A_OVER_PER_SRC] = { MNL_TYPE_FLAG },
	[KFW_RULE_A_OVER_SOURCES] = { MNL_TYPE_U32 },
	[KFW_RULE_A_NEGATE]	= { MNL_TYPE_U8 },
	[KFW_RULE_A_SRC_LIST]	= { MNL_TYPE_NESTED },
	[KFW_RULE_A_DST_LIST]	= { MNL_TYPE_NESTED },
	[KFW_RULE_A_SPORT_LIST]	= { MNL_TYPE_NESTED },
	[KFW_RULE_A_DPORT_LIST]	= { MNL_TYPE_NESTED },
	[KFW_RULE_A_PROTO_LIST]	= { MNL_TYPE_NESTED },
	[KFW_RULE_A_UID_FIRST]	= { MNL_TYPE_U32 },
	[KFW_RULE_A_UID_LAST]	= { MNL_TYPE_U32 },
	[KFW_RULE_A_GID_FIRST]	= { MNL_TYPE_U32 },
	[KFW_RULE_A_GID_LAST]	= { MNL_TYPE_U32 },
	[KFW_RULE_A_TIMEOUT]	= { MNL_TYPE_U64 },
};

static const struct attr_policy elem_policy[KFW_ELEM_A_MAX + 1] = {
	[KFW_ELEM_A_IP4]	= { MNL_TYPE_BINARY, 4 },
	[KFW_ELEM_A_IP6]	= { MNL_TYPE_BINARY, 16 },
	[KFW_ELEM_A_PREFIX]	= { MNL_TYPE_U8 },
	[KFW_ELEM_A_FIRST]	= { MNL_TYPE_U16 },
	[KFW_ELEM_A_LAST]	= { MNL_TYPE_U16 },
	[KFW_ELEM_A_PROTO]	= { MNL_TYPE_U8 },
};

/* The list attribute of each field of struct rule_lists. */
static const uint16_t list_attrs[RULE_LISTS] = {
	[RULE_LIST_SRC]		= KFW_RULE_A_SRC_LIST,
	[RULE_LIST_DST]		= KFW_RULE_A_DST_LIST,
	[RULE_LIST_SPORT]	= KFW_RULE_A_SPORT_LIST,
	[RULE_LIST_DPORT]	= KFW_RULE_A_DPORT_LIST,
	[RULE_LIST_PROTO]	= KFW_RULE_A_PROTO_LIST,
};

static const struct attr_policy hook_policy[KFW_HOOK_A_MAX + 1] = {
	[KFW_HOOK_A_DIR]	= { MNL_TYPE_U8 },
	[KFW_HOOK_A_FAMILY]	= { MNL_TYPE_U8 },
	[KFW_HOOK_A_SEEN]	= { MNL_TYPE_U64 },
	[KFW_HOOK_A_ACCEPTED]	= { MNL_TYPE_U64 },
	[KFW_HOOK_A_DROPPED]	= { MNL_TYPE_U64 },
};

static int local_error(struct fwnl_error *e, int err)
{
	e->err = err;
	e->local = true;
	return -1;
}

static int malformed(struct reply *rp, const char *what)
{
	snprintf(rp->e->msg, sizeof(rp->e->msg),
		 "malformed reply from the kernel: %s", what);
	errno = EBADMSG;
	return MNL_CB_ERROR;
}

/**
 * fwnl_report() - print the generic message for a failed request
 * @e: the failure
 * @doing: what was being attempted, e.g. "adding the rule"
 *
 * The kernel's own explanation wins over a bare errno; EPERM always means
 * the same thing here, whatever the kernel adds to it.
 */
void fwnl_report(const struct fwnl_error *e, const char *doing)
{
	if (e->err == EPERM)
		fprintf(stderr, "fwctl: permission denied: changing rules needs CAP_NET_ADMIN\n");
	else if (!e->local && e->msg[0])
		fprintf(stderr, "fwctl: %s\n", e->msg);
	else if (e->msg[0])
		fprintf(stderr, "fwctl: %s: %s\n", doing, e->msg);
	else
		fprintf(stderr, "fwctl: %s: %s\n", doing, strerror(e->err));
}

/* Unknown attributes come from a newer kernel and are skipped. */
static int table_cb(const struct nlattr *attr, void *data)
{
	struct attr_table *t = data;
	uint16_t type = mnl_attr_get_type(attr);
	const struct attr_policy *p;
	int ret;

	if (type > t->max || t->policy[type].type == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;
	p = &t->policy[type];
	ret = p->len ? mnl_attr_validate2(attr, p->type, p->len) :
		       mnl_attr_validate(attr, p->type);
	if (ret < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	t->tb[type] = attr;
	return MNL_CB_OK;
}

static int parse_top(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	struct attr_table t = { top_policy, KFW_A_MAX, tb };

	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), table_cb, &t);
}

static int parse_nest(const struct nlattr *nest, const struct attr_policy *policy,
		      unsigned int max, const struct nlattr **tb)
{
	struct attr_table t = { policy, max, tb };

	return mnl_attr_parse_nested(nest, table_cb, &t);
}

static int extack_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		tb[type] = attr;
	else if (type == NLMSGERR_ATTR_OFFS &&
		 mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		tb[type] = attr;
	return MNL_CB_OK;
}

static void parse_extack(const struct nlmsghdr *nlh, size_t offset,
			 struct fwnl_error *e)
{
	const struct nlattr *tb[NLMSGERR_ATTR_OFFS + 1] = { NULL };

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    offset > mnl_nlmsg_get_payload_len(nlh))
		return;
	/* A damaged tail still leaves whatever was parsed before it. */
	mnl_attr_parse(nlh, (unsigned int)offset, extack_cb, tb);
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(e->msg, sizeof(e->msg), "%s",
			 mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]));
	if (tb[NLMSGERR_ATTR_OFFS]) {
		e->has_offset = true;
		e->offset = mnl_attr_get_u32(tb[NLMSGERR_ATTR_OFFS]);
	}
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct reply *rp = data;
	size_t offset;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!err->error) {
		if (rp->ack_seq && nlh->nlmsg_seq != rp->ack_seq)
			return MNL_CB_OK;
		return MNL_CB_STOP;
	}

	rp->failed = true;
	rp->err_seq = nlh->nlmsg_seq;
	rp->e->err = err->error < 0 ? -err->error : err->error;
	rp->e->local = false;
	/* Without NLM_F_CAPPED the refused request is echoed before the TLVs. */
	offset = sizeof(*err);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
	    err->msg.nlmsg_len > sizeof(struct nlmsghdr))
		offset = MNL_ALIGN(offset + err->msg.nlmsg_len -
				   sizeof(struct nlmsghdr));
	parse_extack(nlh, offset, rp->e);
	errno = rp->e->err;
	return MNL_CB_ERROR;
}

/* A dump ends with NLMSG_DONE, which carries the dump's own error code. */
static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reply *rp = data;
	int err;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(err))
		return MNL_CB_STOP;
	memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	if (err >= 0)
		return MNL_CB_STOP;

	rp->failed = true;
	rp->err_seq = nlh->nlmsg_seq;
	rp->e->err = -err;
	rp->e->local = false;
	parse_extack(nlh, sizeof(err), rp->e);
	errno = rp->e->err;
	return MNL_CB_ERROR;
}

static int noop_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

/* Not const: mnl_cb_run2() of libmnl 1.0.4 takes a plain pointer. */
static mnl_cb_t ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_NOOP]	= noop_cb,
	[NLMSG_ERROR]	= error_cb,
	[NLMSG_DONE]	= done_cb,
	[NLMSG_OVERRUN]	= noop_cb,
};

/*
 * Reads until the exchange is over: the ack of a doit request, NLMSG_DONE
 * of a dump, or the first error. With @seq 0 messages of any sequence
 * number are taken, as a batch carries many. An interrupted dump comes back
 * as a local EINTR: libmnl stops at the first NLM_F_DUMP_INTR message.
 */
static int receive(struct fwnl *nl, uint32_t seq, struct reply *rp)
{
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, RECV_BUF_SIZE);
		int ret;

		if (n < 0)
			return local_error(rp->e, errno);
		ret = mnl_cb_run2(nl->buf, (size_t)n, seq, nl->portid,
				  rp->data_cb, rp, ctl_cbs, ARRAY_SIZE(ctl_cbs));
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret < 0)
			return rp->failed ? -1 : local_error(rp->e, errno);
	}
}

static struct nlmsghdr *put_header(struct fwnl *nl, void *buf, uint16_t type,
				   uint8_t cmd, uint8_t version, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	/* 0 would switch off libmnl's sequence check. */
	if (++nl->seq == 0)
		nl->seq = 1;
	nlh->nlmsg_seq = nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

static struct nlmsghdr *put_kfw_header(struct fwnl *nl, void *buf, uint8_t cmd,
				       uint16_t flags)
{
	return put_header(nl, buf, nl->family, cmd, KFW_GENL_VERSION, flags);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/*
 * Sends one request and reads its answer, data messages going to @cb. With
 * FWCTL_TIMING set in the environment, the time from sending to the end of
 * the answer goes to stderr: what the kernel took, without the start-up of
 * fwctl itself (which dominates under emulation).
 */
static int request(struct fwnl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		   void *data, struct fwnl_error *e)
{
	struct reply rp = { .e = e, .data_cb = cb, .data = data };
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);
	unsigned int cmd = nlh->nlmsg_type == nl->family ? genl->cmd : 0;
	double start = now_us();
	int ret;

	memset(e, 0, sizeof(*e));
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return local_error(e, errno);
	ret = receive(nl, nlh->nlmsg_seq, &rp);
	if (getenv("FWCTL_TIMING"))
		fprintf(stderr, "fwctl: request %u took %.0f us\n", cmd,
			now_us() - start);
	return ret;
}

/* As root the FORCE variants ignore net.core.[rw]mem_max; else we take the cap. */
static void raise_buffer(int fd, int force_opt, int opt)
{
	int size = SOCK_BUF_SIZE;

	if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof(size)) == 0)
		return;
	setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
}

static int sock_open(struct fwnl *nl, struct fwnl_error *e)
{
	socklen_t len = sizeof(int);
	int one = 1;
	int size;
	int fd;

	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock)
		return local_error(e, errno);
	fd = mnl_socket_get_fd(nl->sock);
	raise_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
	raise_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
	/* Kernels without these still work; their errors just say less. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		local_error(e, errno);
		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return -1;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len) == 0 && size > 0)
		nl->sndbuf = (size_t)size;
	return 0;
}

static void sock_close(struct fwnl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

static int family_attr_cb(const struct nlattr *attr, void *data)
{
	uint16_t *family = data;

	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
		*family = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reply *rp = data;

	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb,
			      rp->data);
}

static int resolve_family(struct fwnl *nl, struct fwnl_error *e)
{
	char buf[REQUEST_MAX] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;

	nlh = put_header(nl, buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, NLM_F_ACK);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, KFW_GENL_NAME);
	nl->family = 0;
	if (request(nl, nlh, family_cb, &nl->family, e))
		return -1;
	if (!nl->family) {
		snprintf(e->msg, sizeof(e->msg), "no family id in the reply");
		return local_error(e, EBADMSG);
	}
	return 0;
}

/**
 * fwnl_open() - connect to the kfw module
 *
 * Prints its own error, "the kfw module is not loaded" when the generic
 * netlink family does not exist.
 *
 * Return: the connection, or NULL.
 */
struct fwnl *fwnl_open(void)
{
	struct fwnl_error e = { 0 };
	struct fwnl *nl;

	nl = calloc(1, sizeof(*nl));
	if (nl)
		nl->buf = malloc(RECV_BUF_SIZE);
	if (!nl || !nl->buf) {
		fprintf(stderr, "fwctl: %s\n", strerror(ENOMEM));
		goto err_free;
	}
	nl->seq = (uint32_t)time(NULL);

	if (sock_open(nl, &e)) {
		fwnl_report(&e, "opening a netlink socket");
		goto err_free;
	}
	if (resolve_family(nl, &e)) {
		if (!e.local && e.err == ENOENT)
			fprintf(stderr, "fwctl: the kfw module is not loaded\n");
		else
			fwnl_report(&e, "looking up the kfw netlink family");
		goto err_close;
	}
	return nl;

err_close:
	sock_close(nl);
err_free:
	if (nl)
		free(nl->buf);
	free(nl);
	return NULL;
}

/**
 * fwnl_close() - close the connection
 * @nl: the connection, or NULL
 *
 * Closing also discards a REPLACE transaction this socket left open.
 */
void fwnl_close(struct fwnl *nl)
{
	if (!nl)
		return;
	sock_close(nl);
	free(nl->buf);
	free(nl);
}

static int hook_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr *tb[KFW_HOOK_A_MAX + 1] = { NULL };
	struct reply *rp = data;
	struct fwnl_info *info = rp->data;
	struct fwnl_hook_stats *h;
	uint8_t dir, family;

	if (mnl_attr_get_type(attr) != KFW_A_HOOK)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0 ||
	    parse_nest(attr, hook_policy, KFW_HOOK_A_MAX, tb) < 0)
		return malformed(rp, "bad KFW_A_HOOK");
	if (!tb[KFW_HOOK_A_DIR] || !tb[KFW_HOOK_A_FAMILY])
		return malformed(rp, "KFW_A_HOOK without direction or family");
	dir = mnl_attr_get_u8(tb[KFW_HOOK_A_DIR]);
	family = mnl_attr_get_u8(tb[KFW_HOOK_A_FAMILY]);
	if (dir > KFW_DIR_MAX || family > KFW_FAMILY_MAX)
		return malformed(rp, "KFW_A_HOOK of unknown direction or family");

	h = &info->hook[dir][family];
	if (tb[KFW_HOOK_A_SEEN])
		h->seen = mnl_attr_get_u64(tb[KFW_HOOK_A_SEEN]);
	if (tb[KFW_HOOK_A_ACCEPTED])
		h->accepted = mnl_attr_get_u64(tb[KFW_HOOK_A_ACCEPTED]);
	if (tb[KFW_HOOK_A_DROPPED])
		h->dropped = mnl_attr_get_u64(tb[KFW_HOOK_A_DROPPED]);
	return MNL_CB_OK;
}

static int info_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KFW_A_MAX + 1] = { NULL };
	struct reply *rp = data;
	struct fwnl_info *info = rp->data;

	if (parse_top(nlh, tb) < 0)
		return malformed(rp, "bad attribute in KFW_CMD_GET_INFO");
	if (!tb[KFW_A_POLICY_IN] || !tb[KFW_A_POLICY_OUT] || !tb[KFW_A_RULE_COUNT])
		return malformed(rp, "KFW_CMD_GET_INFO without policies or rule count");
	info->policy[KFW_DIR_IN] = mnl_attr_get_u8(tb[KFW_A_POLICY_IN]);
	info->policy[KFW_DIR_OUT] = mnl_attr_get_u8(tb[KFW_A_POLICY_OUT]);
	if (info->policy[KFW_DIR_IN] > KFW_VERDICT_MAX ||
	    info->policy[KFW_DIR_OUT] > KFW_VERDICT_MAX)
		return malformed(rp, "unknown policy verdict");
	info->rule_count = mnl_attr_get_u32(tb[KFW_A_RULE_COUNT]);
	if (tb[KFW_A_RULE_LIMIT])
		info->rule_limit = mnl_attr_get_u32(tb[KFW_A_RULE_LIMIT]);
	if (tb[KFW_A_GENERATION])
		info->generation = mnl_attr_get_u32(tb[KFW_A_GENERATION]);
	if (tb[KFW_A_LOG_SUPPRESSED])
		info->log_suppressed = mnl_attr_get_u64(tb[KFW_A_LOG_SUPPRESSED]);
	if (tb[KFW_A_CONFIRM_LEFT])
		info->confirm_left_ms = mnl_attr_get_u32(tb[KFW_A_CONFIRM_LEFT]);
	if (tb[KFW_A_STATS] &&
	    mnl_attr_parse_nested(tb[KFW_A_STATS], hook_cb, rp) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

/**
 * fwnl_get_info() - read policies, rule count and limit, and hook counters
 * @nl: the connection
 * @info: filled in; counters the kernel does not send stay 0
 * @e: why it failed
 *
 * Return: 0 or -1.
 */
int fwnl_get_info(struct fwnl *nl, struct fwnl_info *info, struct fwnl_error *e)
{
	char buf[REQUEST_MAX] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = put_kfw_header(nl, buf, KFW_CMD_GET_INFO, NLM_F_ACK);

	memset(info, 0, sizeof(*info));
	return request(nl, nlh, info_cb, info, e);
}

static int get_addr(struct rule_addr *a, const struct nlattr *ip4,
		    const struct nlattr *ip6, const struct nlattr *prefix)
{
	unsigned int max;

	if (ip4 && ip6)
		return -1;
	if (ip4) {
		a->family = AF_INET;
		memcpy(a->raw, mnl_attr_get_payload(ip4), 4);
		max = 32;
	} else if (ip6) {
		a->family = AF_INET6;
		memcpy(a->raw, mnl_attr_get_payload(ip6), 16);
		max = 128;
	} else {
		return prefix ? -1 : 0;
	}
	a->prefix = prefix ? mnl_attr_get_u8(prefix) : (uint8_t)max;
	return a->prefix <= max ? 0 : -1;
}

static void get_ports(struct rule_ports *p, const struct nlattr *first,
		      const struct nlattr *last)
{
	if (!first)
		return;
	p->set = true;
	p->first = mnl_attr_get_u16(first);
	p->last = last ? mnl_attr_get_u16(last) : p->first;
}

static void get_owner(const struct nlattr *first, const struct nlattr *last,
		      bool *has, uint32_t *lo, uint32_t *hi)
{
	if (!first)
		return;
	*has = true;
	*lo = mnl_attr_get_u32(first);
	*hi = last ? mnl_attr_get_u32(last) : *lo;
}

/*
 * The elements of list @lf into @r's lists, element 0 also into the field
 * itself, as rule_parse() leaves them.
 */
static int get_list(struct reply *rp, const struct nlattr *list,
		    enum rule_list_field lf, struct rule *r)
{
	struct rule_lists *lists = rule_lists(r);
	const struct nlattr *elem;
	unsigned int n = 0;

	if (!lists) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	mnl_attr_for_each_nested(elem, list) {
		const struct nlattr *tb[KFW_ELEM_A_MAX + 1] = { NULL };

		if (n == KFW_LIST_MAX || mnl_attr_get_type(elem) != KFW_LIST_A_ELEM ||
		    parse_nest(elem, elem_policy, KFW_ELEM_A_MAX, tb) < 0)
			return malformed(rp, "bad list in KFW_A_RULE");
		switch (lf) {
		case RULE_LIST_SRC:
		case RULE_LIST_DST:
			if (get_addr(&lists->addr[lf][n], tb[KFW_ELEM_A_IP4],
				     tb[KFW_ELEM_A_IP6], tb[KFW_ELEM_A_PREFIX]) ||
			    !lists->addr[lf][n].family)
				return malformed(rp, "bad list address in KFW_A_RULE");
			break;
		case RULE_LIST_SPORT:
		case RULE_LIST_DPORT:
			if (!tb[KFW_ELEM_A_FIRST])
				return malformed(rp, "bad list port in KFW_A_RULE");
			get_ports(&lists->port[lf - RULE_LIST_SPORT][n],
				  tb[KFW_ELEM_A_FIRST], tb[KFW_ELEM_A_LAST]);
			break;
		default:
			if (!tb[KFW_ELEM_A_PROTO])
				return malformed(rp, "bad list protocol in KFW_A_RULE");
			lists->proto[n] = mnl_attr_get_u8(tb[KFW_ELEM_A_PROTO]);
		}
		n++;
	}
	if (!n)
		return malformed(rp, "empty list in KFW_A_RULE");
	lists->len[lf] = (uint8_t)n;
	switch (lf) {
	case RULE_LIST_SRC:
		r->src = lists->addr[lf][0];
		break;
	case RULE_LIST_DST:
		r->dst = lists->addr[lf][0];
		break;
	case RULE_LIST_SPORT:
		r->sport = lists->port[0][0];
		break;
	case RULE_LIST_DPORT:
		r->dport = lists->port[1][0];
		break;
	default:
		r->has_proto = true;
		r->proto = lists->proto[0];
	}
	return MNL_CB_OK;
}

static int get_rule(struct reply *rp, const struct nlattr *nest, struct rule *r)
{
	const struct nlattr *tb[KFW_RULE_A_MAX + 1] = { NULL };
	int lf;

	memset(r, 0, sizeof(*r));
	if (parse_nest(nest, rule_policy, KFW_RULE_A_MAX, tb) < 0)
		return malformed(rp, "bad attribute in KFW_A_RULE");
	if (!tb[KFW_RULE_A_HANDLE] || !tb[KFW_RULE_A_DIR] || !tb[KFW_RULE_A_ACTION])
		return malformed(rp, "KFW_A_RULE without handle, direction or action");

	r->handle = mnl_attr_get_u64(tb[KFW_RULE_A_HANDLE]);
	r->dir = mnl_attr_get_u8(tb[KFW_RULE_A_DIR]);
	r->action = mnl_attr_get_u8(tb[KFW_RULE_A_ACTION]);
	if (r->dir > KFW_DIR_MAX || r->action > KFW_VERDICT_MAX)
		return malformed(rp, "KFW_A_RULE of unknown direction or action");
	if (tb[KFW_RULE_A_PROTO]) {
		r->has_proto = true;
		r->proto = mnl_attr_get_u8(tb[KFW_RULE_A_PROTO]);
	}
	if (get_addr(&r->src, tb[KFW_RULE_A_SRC_IP4], tb[KFW_RULE_A_SRC_IP6],
		     tb[KFW_RULE_A_SRC_PREFIX]) ||
	    get_addr(&r->dst, tb[KFW_RULE_A_DST_IP4], tb[KFW_RULE_A_DST_IP6],
		     tb[KFW_RULE_A_DST_PREFIX]))
		return malformed(rp, "bad address in KFW_A_RULE");
	get_ports(&r->sport, tb[KFW_RULE_A_SPORT_FIRST], tb[KFW_RULE_A_SPORT_LAST]);
	get_ports(&r->dport, tb[KFW_RULE_A_DPORT_FIRST], tb[KFW_RULE_A_DPORT_LAST]);
	if (tb[KFW_RULE_A_IFACE]) {
		const char *name = mnl_attr_get_str(tb[KFW_RULE_A_IFACE]);

		if (strlen(name) >= sizeof(r->iface))
			return malformed(rp, "interface name too long");
		strcpy(r->iface, name);
	}
	if (tb[KFW_RULE_A_STATE])
		r->state = mnl_attr_get_u8(tb[KFW_RULE_A_STATE]);
	if (tb[KFW_RULE_A_ICMP_TYPE]) {
		r->has_icmp_type = true;
		r->icmp_type = mnl_attr_get_u8(tb[KFW_RULE_A_ICMP_TYPE]);
	}
	if (tb[KFW_RULE_A_ICMP_CODE]) {
		r->has_icmp_code = true;
		r->icmp_code = mnl_attr_get_u8(tb[KFW_RULE_A_ICMP_CODE]);
	}
	if (tb[KFW_RULE_A_PAYLOAD]) {
		uint16_t len = mnl_attr_get_payload_len(tb[KFW_RULE_A_PAYLOAD]);

		if (len == 0 || len > sizeof(r->payload))
			return malformed(rp, "bad payload length");
		memcpy(r->payload, mnl_attr_get_payload(tb[KFW_RULE_A_PAYLOAD]), len);
		r->payload_len = (uint8_t)len;
	}
	if (tb[KFW_RULE_A_PAYLOAD_WITHIN])
		r->payload_within = mnl_attr_get_u16(tb[KFW_RULE_A_PAYLOAD_WITHIN]);
	r->log = tb[KFW_RULE_A_LOG] != NULL;
	if (tb[KFW_RULE_A_LOG_RATE])
		r->log_rate = mnl_attr_get_u32(tb[KFW_RULE_A_LOG_RATE]);
	if (tb[KFW_RULE_A_LOG_BURST])
		r->log_burst = mnl_attr_get_u32(tb[KFW_RULE_A_LOG_BURST]);
	if (tb[KFW_RULE_A_COMMENT]) {
		const char *text = mnl_attr_get_str(tb[KFW_RULE_A_COMMENT]);

		if (strlen(text) >= sizeof(r->comment))
			return malformed(rp, "comment too long");
		strcpy(r->comment, text);
	}
	if (tb[KFW_RULE_A_OVER_RATE]) {
		r->over_rate = mnl_attr_get_u32(tb[KFW_RULE_A_OVER_RATE]);
		r->over_period = tb[KFW_RULE_A_OVER_PERIOD] ?
				 mnl_attr_get_u32(tb[KFW_RULE_A_OVER_PERIOD]) : 0;
		if (!r->over_rate || (r->over_period != 1 && r->over_period != 60 &&
				      r->over_period != 3600))
			return malformed(rp, "bad over rate in KFW_A_RULE");
		if (tb[KFW_RULE_A_OVER_BURST])
			r->over_burst = mnl_attr_get_u32(tb[KFW_RULE_A_OVER_BURST]);
		r->over_per_src = tb[KFW_RULE_A_OVER_PER_SRC] != NULL;
		if (tb[KFW_RULE_A_OVER_SOURCES])
			r->over_sources = mnl_attr_get_u32(tb[KFW_RULE_A_OVER_SOURCES]);
	}
	if (tb[KFW_RULE_A_TIMEOUT])
		r->timeout_ms = mnl_attr_get_u64(tb[KFW_RULE_A_TIMEOUT]);
	if (tb[KFW_RULE_A_PACKETS])
		r->packets = mnl_attr_get_u64(tb[KFW_RULE_A_PACKETS]);
	if (tb[KFW_RULE_A_BYTES])
		r->bytes = mnl_attr_get_u64(tb[KFW_RULE_A_BYTES]);
	if (tb[KFW_RULE_A_NEGATE])
		r->negate = mnl_attr_get_u8(tb[KFW_RULE_A_NEGATE]);
	for (lf = 0; lf < RULE_LISTS; lf++)
		if (tb[list_attrs[lf]] &&
		    get_list(rp, tb[list_attrs[lf]], (enum rule_list_field)lf, r) < 0)
			return MNL_CB_ERROR;
	get_owner(tb[KFW_RULE_A_UID_FIRST], tb[KFW_RULE_A_UID_LAST], &r->has_uid,
		  &r->uid_first, &r->uid_last);
	get_owner(tb[KFW_RULE_A_GID_FIRST], tb[KFW_RULE_A_GID_LAST], &r->has_gid,
		  &r->gid_first, &r->gid_last);
	return MNL_CB_OK;
}

struct rule_list {
	struct rule *rules;
	size_t count;
	size_t cap;
};

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KFW_A_MAX + 1] = { NULL };
	struct reply *rp = data;
	struct rule_list *list = rp->data;

	if (parse_top(nlh, tb) < 0 || !tb[KFW_A_RULE])
		return malformed(rp, "KFW_CMD_GET_RULES message without KFW_A_RULE");
	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 1024;
		struct rule *rules = reallocarray(list->rules, cap, sizeof(*rules));

		if (!rules) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		list->rules = rules;
		list->cap = cap;
	}
	if (get_rule(rp, tb[KFW_A_RULE], &list->rules[list->count]) < 0)
		return MNL_CB_ERROR;
	list->count++;
	return MNL_CB_OK;
}

/**
 * fwnl_get_rules() - read every rule, in list order
 * @nl: the connection
 * @rules: set to a malloc()ed array the caller frees
 * @count: set to the number of rules
 * @e: why it failed
 *
 * A dump that a concurrent change interrupts (NLM_F_DUMP_INTR) is thrown
 * away and started again on a fresh socket, which also drops whatever the
 * old dump still had queued, so the caller only ever sees one consistent
 * table.
 *
 * Return: 0 or -1.
 */
int fwnl_get_rules(struct fwnl *nl, struct rule **rules, size_t *count,
		   struct fwnl_error *e)
{
	char buf[REQUEST_MAX] __attribute__((aligned(8)));
	struct rule_list list = { NULL, 0, 0 };
	struct nlmsghdr *nlh;
	int try;

	for (try = 0; try < DUMP_TRIES; try++) {
		if (try > 0) {
			sock_close(nl);
			if (sock_open(nl, e))
				break;
		}
		rule_release_all(list.rules, list.count);
		list.count = 0;
		nlh = put_kfw_header(nl, buf, KFW_CMD_GET_RULES, NLM_F_DUMP);
		if (request(nl, nlh, rule_cb, &list, e) == 0) {
			*rules = list.rules;
			*count = list.count;
			return 0;
		}
		if (!e->local || e->err != EINTR)
			break;
	}
	if (e->local && e->err == EINTR)
		snprintf(e->msg, sizeof(e->msg),
			 "the table kept changing, gave up after %d tries",
			 DUMP_TRIES);
	rule_release_all(list.rules, list.count);
	free(list.rules);
	return -1;
}

static bool put_addr(struct nlmsghdr *nlh, size_t buflen,
		     const struct rule_addr *a, uint16_t ip4, uint16_t ip6,
		     uint16_t prefix)
{
	if (!a->family)
		return true;
	if (a->family == AF_INET) {
		if (!mnl_attr_put_check(nlh, buflen, ip4, 4, a->raw))
			return false;
	} else if (!mnl_attr_put_check(nlh, buflen, ip6, 16, a->raw)) {
		return false;
	}
	return mnl_attr_put_u8_check(nlh, buflen, prefix, a->prefix);
}

static bool put_ports(struct nlmsghdr *nlh, size_t buflen,
		      const struct rule_ports *p, uint16_t first, uint16_t last)
{
	if (!p->set)
		return true;
	return mnl_attr_put_u16_check(nlh, buflen, first, p->first) &&
	       mnl_attr_put_u16_check(nlh, buflen, last, p->last);
}

/* A rate's `over`; the burst only when the user gave one. */
static bool put_over(struct nlmsghdr *nlh, size_t buflen, const struct rule *r)
{
	if (!r->over_rate)
		return true;
	return mnl_attr_put_u32_check(nlh, buflen, KFW_RULE_A_OVER_RATE,
				      r->over_rate) &&
	       mnl_attr_put_u32_check(nlh, buflen, KFW_RULE_A_OVER_PERIOD,
				      r->over_period) &&
	       (!r->over_burst ||
		mnl_attr_put_u32_check(nlh, buflen, KFW_RULE_A_OVER_BURST,
				       r->over_burst)) &&
	       (!r->over_per_src ||
		mnl_attr_put_check(nlh, buflen, KFW_RULE_A_OVER_PER_SRC, 0, ""));
}

/*
 * The stateful and deep matches of put_rule(). Log rate and burst go out
 * only when the user gave them: the kernel owns the defaults.
 */
static bool put_rule_extra(struct nlmsghdr *nlh, size_t buflen,
			   const struct rule *r)
{
	return (!r->state ||
		mnl_attr_put_u8_check(nlh, buflen, KFW_RULE_A_STATE, r->state)) &&
	       (!r->has_icmp_type ||
		mnl_attr_put_u8_check(nlh, buflen, KFW_RULE_A_ICMP_TYPE,
				      r->icmp_type)) &&
	       (!r->has_icmp_code ||
		mnl_attr_put_u8_check(nlh, buflen, KFW_RULE_A_ICMP_CODE,
				      r->icmp_code)) &&
	       (!r->payload_len ||
		mnl_attr_put_check(nlh, buflen, KFW_RULE_A_PAYLOAD,
				   r->payload_len, r->payload)) &&
	       (!r->payload_within ||
		mnl_attr_put_u16_check(nlh, buflen, KFW_RULE_A_PAYLOAD_WITHIN,
				       r->payload_within)) &&
	       (!r->log ||
		mnl_attr_put_check(nlh, buflen, KFW_RULE_A_LOG, 0, "")) &&
	       (!r->log_rate ||
		mnl_attr_put_u32_check(nlh, buflen, KFW_RULE_A_LOG_RATE,
				       r->log_rate)) &&
	       (!r->log_burst ||
		mnl_attr_put_u32_check(nlh, buflen, KFW_RULE_A_LOG_BURST,
				       r->log_burst)) &&
	       (!r->comment[0] ||
		mnl_attr_put_strz_check(nlh, buflen, KFW_RULE_A_COMMENT,
					r->comment)) &&
	       (!r->timeout_ms ||
		mnl_attr_put_u64_check(nlh, buflen, KFW_RULE_A_TIMEOUT,
				       r->timeout_ms)) &&
	       put_over(nlh, buflen, r);
}

/* A field of more than one value, as its list attribute. */
static bool put_list(struct nlmsghdr *nlh, size_t buflen, const struct rule_lists *l,
		     enum rule_list_field lf)
{
	struct nlattr *list = mnl_attr_nest_start_check(nlh, buflen, list_attrs[lf]);
	unsigned int i;

	if (!list)
		return false;
	for (i = 0; i < l->len[lf]; i++) {
		struct nlattr *elem = mnl_attr_nest_start_check(nlh, buflen, KFW_LIST_A_ELEM);
		bool ok;

		if (!elem)
			return false;
		switch (lf) {
		case RULE_LIST_SRC:
		case RULE_LIST_DST:
			ok = put_addr(nlh, buflen, &l->addr[lf][i], KFW_ELEM_A_IP4,
				      KFW_ELEM_A_IP6, KFW_ELEM_A_PREFIX);
			break;
		case RULE_LIST_SPORT:
		case RULE_LIST_DPORT:
			ok = put_ports(nlh, buflen, &l->port[lf - RULE_LIST_SPORT][i],
				       KFW_ELEM_A_FIRST, KFW_ELEM_A_LAST);
			break;
		default:
			ok = mnl_attr_put_u8_check(nlh, buflen, KFW_ELEM_A_PROTO, l->proto[i]);
		}
		if (!ok)
			return false;
		mnl_attr_nest_end(nlh, elem);
	}
	mnl_attr_nest_end(nlh, list);
	return true;
}

static bool put_range(struct nlmsghdr *nlh, size_t buflen, bool has,
		      uint16_t first_attr, uint32_t first, uint16_t last_attr, uint32_t last)
{
	return !has || (mnl_attr_put_u32_check(nlh, buflen, first_attr, first) &&
			mnl_attr_put_u32_check(nlh, buflen, last_attr, last));
}

/* What lists, negations and owners add to put_rule(). */
static bool put_rule_more(struct nlmsghdr *nlh, size_t buflen, const struct rule *r)
{
	unsigned int lf;

	if (r->negate && !mnl_attr_put_u8_check(nlh, buflen, KFW_RULE_A_NEGATE, r->negate))
		return false;
	for (lf = 0; r->lists && lf < RULE_LISTS; lf++)
		if (r->lists->len[lf] > 1 &&
		    !put_list(nlh, buflen, r->lists, (enum rule_list_field)lf))
			return false;
	return put_range(nlh, buflen, r->has_uid, KFW_RULE_A_UID_FIRST, r->uid_first,
			 KFW_RULE_A_UID_LAST, r->uid_last) &&
	       put_range(nlh, buflen, r->has_gid, KFW_RULE_A_GID_FIRST, r->gid_first,
			 KFW_RULE_A_GID_LAST, r->gid_last);
}

/* Is field @lf of @r sent as a list rather than as its single value? */
static bool listed(const struct rule *r, enum rule_list_field lf)
{
	return r->lists && r->lists->len[lf] > 1;
}

/*
 * Appends @r as a nest of type @type, or leaves the message as it was and
 * returns false if the nest would end past @buflen bytes of message.
 */
static bool put_rule(struct nlmsghdr *nlh, size_t buflen, uint16_t type,
		     const struct rule *r)
{
	struct nlattr *nest = mnl_attr_nest_start_check(nlh, buflen, type);

	if (!nest)
		return false;
	if (!mnl_attr_put_u8_check(nlh, buflen, KFW_RULE_A_DIR, r->dir) ||
	    !mnl_attr_put_u8_check(nlh, buflen, KFW_RULE_A_ACTION, r->action) ||
	    (r->has_proto && !listed(r, RULE_LIST_PROTO) &&
	     !mnl_attr_put_u8_check(nlh, buflen, KFW_RULE_A_PROTO, r->proto)) ||
	    (!listed(r, RULE_LIST_SRC) &&
	     !put_addr(nlh, buflen, &r->src, KFW_RULE_A_SRC_IP4,
		       KFW_RULE_A_SRC_IP6, KFW_RULE_A_SRC_PREFIX)) ||
	    (!listed(r, RULE_LIST_DST) &&
	     !put_addr(nlh, buflen, &r->dst, KFW_RULE_A_DST_IP4,
		       KFW_RULE_A_DST_IP6, KFW_RULE_A_DST_PREFIX)) ||
	    (!listed(r, RULE_LIST_SPORT) &&
	     !put_ports(nlh, buflen, &r->sport, KFW_RULE_A_SPORT_FIRST,
			KFW_RULE_A_SPORT_LAST)) ||
	    (!listed(r, RULE_LIST_DPORT) &&
	     !put_ports(nlh, buflen, &r->dport, KFW_RULE_A_DPORT_FIRST,
			KFW_RULE_A_DPORT_LAST)) ||
	    (r->iface[0] &&
	     !mnl_attr_put_strz_check(nlh, buflen, KFW_RULE_A_IFACE, r->iface)) ||
	    !put_rule_more(nlh, buflen, r) ||
	    !put_rule_extra(nlh, buflen, r)) {
		mnl_attr_nest_cancel(nlh, nest);
		return false;
	}
	mnl_attr_nest_end(nlh, nest);
	return true;
}

static int handle_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KFW_A_MAX + 1] = { NULL };
	struct reply *rp = data;
	uint64_t *handle = rp->data;

	if (parse_top(nlh, tb) < 0)
		return malformed(rp, "bad attribute in KFW_CMD_ADD_RULE");
	if (tb[KFW_A_HANDLE] && handle)
		*handle = mnl_attr_get_u64(tb[KFW_A_HANDLE]);
	return MNL_CB_OK;
}

/**
 * fwnl_add_rule() - append or insert one rule
 * @nl: the connection
 * @r: the rule
 * @position: 1-based position in the whole list, or 0 to append
 * @handle: set to the new rule's handle if the kernel sends it; may be NULL
 * @e: why it failed
 *
 * Return: 0 or -1.
 */
int fwnl_add_rule(struct fwnl *nl, const struct rule *r, uint32_t position,
		  uint64_t *handle, struct fwnl_error *e)
{
	char buf[REQUEST_MAX] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = put_kfw_header(nl, buf, KFW_CMD_ADD_RULE, NLM_F_ACK);

	if (!put_rule(nlh, sizeof(buf), KFW_A_RULE, r) ||
	    (position &&
	     !mnl_attr_put_u32_check(nlh, sizeof(buf), KFW_A_POSITION, position))) {
		memset(e, 0, sizeof(*e));
		return local_error(e, EMSGSIZE);
	}
	return request(nl, nlh, handle_cb, handle, e);
}

/**
 * fwnl_del_rule() - delete the rule with a given handle
 * @nl: the connection
 * @handle: its handle
 * @e: why it failed; ENOENT if no rule has @handle
 *
 * Return: 0 or -1.
 */
int fwnl_del_rule(struct fwnl *nl, uint64_t handle, struct fwnl_error *e)
{
	char buf[REQUEST_MAX] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = put_kfw_header(nl, buf, KFW_CMD_DEL_RULE, NLM_F_ACK);

	mnl_attr_put_u64(nlh, KFW_A_HANDLE, handle);
	return request(nl, nlh, NULL, NULL, e);
}

static int simple_command(struct fwnl *nl, uint8_t cmd, struct fwnl_error *e)
{
	char buf[REQUEST_MAX] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = put_kfw_header(nl, buf, cmd, NLM_F_ACK);

	return request(nl, nlh, NULL, NULL, e);
}

/**
 * fwnl_flush() - delete every rule; policies and counters stay
 * @nl: the connection
 * @e: why it failed
 *
 * Return: 0 or -1.
 */
int fwnl_flush(struct fwnl *nl, struct fwnl_error *e)
{
	return simple_command(nl, KFW_CMD_FLUSH, e);
}

/**
 * fwnl_zero() - reset every rule and hook counter
 * @nl: the connection
 * @e: why it failed
 *
 * Return: 0 or -1.
 */
int fwnl_zero(struct fwnl *nl, struct fwnl_error *e)
{
	return simple_command(nl, KFW_CMD_ZERO, e);
}

/**
 * fwnl_confirm() - make a restore on trial final
 * @nl: the connection
 * @e: why it failed (ENOENT: none is on trial)
 *
 * Return: 0 or -1.
 */
int fwnl_confirm(struct fwnl *nl, struct fwnl_error *e)
{
	return simple_command(nl, KFW_CMD_CONFIRM, e);
}

/**
 * fwnl_set_policy() - set the default verdict of a direction
 * @nl: the connection
 * @dir: enum kfw_dir
 * @verdict: enum kfw_verdict
 * @e: why it failed
 *
 * Return: 0 or -1.
 */
int fwnl_set_policy(struct fwnl *nl, uint8_t dir, uint8_t verdict,
		    struct fwnl_error *e)
{
	char buf[REQUEST_MAX] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = put_kfw_header(nl, buf, KFW_CMD_SET_POLICY, NLM_F_ACK);

	mnl_attr_put_u8(nlh, KFW_A_DIR, dir);
	mnl_attr_put_u8(nlh, KFW_A_VERDICT, verdict);
	return request(nl, nlh, NULL, NULL, e);
}

static bool put_host(struct nlmsghdr *nlh, size_t buflen,
		     const struct rule_addr *a, uint16_t ip4, uint16_t ip6)
{
	if (!a->family)
		return true;
	if (a->family == AF_INET)
		return mnl_attr_put_check(nlh, buflen, ip4, 4, a->raw);
	return mnl_attr_put_check(nlh, buflen, ip6, 16, a->raw);
}

/* A packet is IPv6 when one of its addresses is, else IPv4. */
static bool put_packet(struct nlmsghdr *nlh, size_t buflen,
		       const struct rule_packet *p)
{
	struct nlattr *nest = mnl_attr_nest_start_check(nlh, buflen, KFW_A_PACKET);
	uint8_t family = p->src.family == AF_INET6 || p->dst.family == AF_INET6 ?
			 KFW_FAMILY_IPV6 : KFW_FAMILY_IPV4;

	if (!nest)
		return false;
	if (!mnl_attr_put_u8_check(nlh, buflen, KFW_PACKET_A_DIR, p->dir) ||
	    !mnl_attr_put_u8_check(nlh, buflen, KFW_PACKET_A_FAMILY, family) ||
	    (p->has_proto &&
	     !mnl_attr_put_u8_check(nlh, buflen, KFW_PACKET_A_PROTO, p->proto)) ||
	    !put_host(nlh, buflen, &p->src, KFW_PACKET_A_SRC_IP4,
		      KFW_PACKET_A_SRC_IP6) ||
	    !put_host(nlh, buflen, &p->dst, KFW_PACKET_A_DST_IP4,
		      KFW_PACKET_A_DST_IP6) ||
	    (p->has_sport &&
	     !mnl_attr_put_u16_check(nlh, buflen, KFW_PACKET_A_SPORT, p->sport)) ||
	    (p->has_dport &&
	     !mnl_attr_put_u16_check(nlh, buflen, KFW_PACKET_A_DPORT, p->dport)) ||
	    (p->iface[0] &&
	     !mnl_attr_put_strz_check(nlh, buflen, KFW_PACKET_A_IFACE, p->iface)) ||
	    (p->state &&
	     !mnl_attr_put_u8_check(nlh, buflen, KFW_PACKET_A_STATE, p->state)) ||
	    (p->has_icmp_type &&
	     !mnl_attr_put_u8_check(nlh, buflen, KFW_PACKET_A_ICMP_TYPE,
				    p->icmp_type)) ||
	    (p->has_icmp_code &&
	     !mnl_attr_put_u8_check(nlh, buflen, KFW_PACKET_A_ICMP_CODE,
				    p->icmp_code)) ||
	    (p->has_uid &&
	     !mnl_attr_put_u32_check(nlh, buflen, KFW_PACKET_A_UID, p->uid)) ||
	    (p->has_gid &&
	     !mnl_attr_put_u32_check(nlh, buflen, KFW_PACKET_A_GID, p->gid))) {
		mnl_attr_nest_cancel(nlh, nest);
		return false;
	}
	mnl_attr_nest_end(nlh, nest);
	return true;
}

static int test_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KFW_A_MAX + 1] = { NULL };
	struct reply *rp = data;
	struct fwnl_test_result *res = rp->data;

	if (parse_top(nlh, tb) < 0)
		return malformed(rp, "bad attribute in KFW_CMD_TEST");
	if (!tb[KFW_A_VERDICT])
		return malformed(rp, "KFW_CMD_TEST without verdict");
	res->verdict = mnl_attr_get_u8(tb[KFW_A_VERDICT]);
	if (res->verdict > KFW_VERDICT_MAX)
		return malformed(rp, "unknown verdict");
	if (tb[KFW_A_RULE]) {
		if (get_rule(rp, tb[KFW_A_RULE], &res->rule) < 0)
			return MNL_CB_ERROR;
		res->matched = true;
	}
	res->answered = true;
	return MNL_CB_OK;
}

/**
 * fwnl_test() - ask which rule a packet would hit
 * @nl: the connection
 * @p: the packet
 * @res: the verdict, and the rule if one matched
 * @e: why it failed
 *
 * Return: 0 or -1.
 */
int fwnl_test(struct fwnl *nl, const struct rule_packet *p,
	      struct fwnl_test_result *res, struct fwnl_error *e)
{
	char buf[REQUEST_MAX] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = put_kfw_header(nl, buf, KFW_CMD_TEST, NLM_F_ACK);

	memset(res, 0, sizeof(*res));
	if (!put_packet(nlh, sizeof(buf), p)) {
		memset(e, 0, sizeof(*e));
		return local_error(e, EMSGSIZE);
	}
	if (request(nl, nlh, test_cb, res, e))
		return -1;
	/* A bare ack would leave the verdict a guess. */
	if (!res->answered) {
		snprintf(e->msg, sizeof(e->msg), "no answer to KFW_CMD_TEST");
		return local_error(e, EBADMSG);
	}
	return 0;
}

/* One KFW_CMD_REPLACE_RULES message inside a batch. */
struct chunk {
	size_t offset;		/* of the message in the batch buffer */
	size_t first;		/* index of its first rule */
	uint32_t seq;
};

/*
 * Builds a REPLACE_RULES message at @at holding as many of @rules as fit in
 * KFW_REPLACE_CHUNK_MAX and in a KFW_A_RULES nest of @nest_max bytes.
 * Returns how many it took.
 */
static size_t put_chunk(struct fwnl *nl, void *at, size_t nest_max,
			const struct rule *rules, size_t count)
{
	struct nlmsghdr *nlh = put_kfw_header(nl, at, KFW_CMD_REPLACE_RULES, 0);
	size_t buflen = nlh->nlmsg_len + MNL_ATTR_HDRLEN + nest_max;
	struct nlattr *nest;
	size_t i;

	nest = mnl_attr_nest_start_check(nlh, buflen, KFW_A_RULES);
	if (!nest)
		return 0;
	for (i = 0; i < count && i < KFW_REPLACE_CHUNK_MAX; i++)
		if (!put_rule(nlh, buflen, KFW_A_RULE, &rules[i]))
			break;
	mnl_attr_nest_end(nlh, nest);
	return i;
}

/*
 * Which rule the kernel refused: the one whose nest holds the attribute the
 * extended ack points at, else any rule of the refused chunk.
 */
static void find_bad_rule(const char *batch, const struct chunk *chunks,
			  size_t nchunks, size_t next, uint32_t seq,
			  const struct fwnl_error *e, struct fwnl_blame *blame)
{
	const struct nlattr *attr, *rule;
	const struct nlmsghdr *nlh;
	size_t i, index;

	for (i = 0; i < nchunks; i++)
		if (chunks[i].seq == seq)
			break;
	if (i == nchunks)
		return;
	blame->first = chunks[i].first;
	blame->last = (i + 1 < nchunks ? chunks[i + 1].first : next) - 1;
	if (!e->has_offset)
		return;

	nlh = (const struct nlmsghdr *)(batch + chunks[i].offset);
	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(attr) != KFW_A_RULES)
			continue;
		index = 0;
		mnl_attr_for_each_nested(rule, attr) {
			size_t start = (size_t)((const char *)rule - (const char *)nlh);

			if (e->offset >= start && e->offset < start + rule->nla_len) {
				blame->first += index;
				blame->last = blame->first;
				return;
			}
			index++;
		}
	}
}

/* Best effort: closing the socket discards the transaction anyway. */
static void send_abort(struct fwnl *nl)
{
	char buf[REQUEST_MAX] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = put_kfw_header(nl, buf, KFW_CMD_REPLACE_ABORT, 0);

	mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len);
}

/**
 * fwnl_replace() - replace policies and rules atomically
 * @nl: the connection
 * @rs: the new policies and rules, as parsed from a restore file
 * @how: check only, install on trial, or drop the old counters
 * @blame: set to the rules of @rs the kernel refused, if it refused rules
 * @e: why it failed
 *
 * BEGIN, then the rules in REPLACE_RULES chunks, then COMMIT. Chunks travel
 * in batches of many messages per sendmsg(), and only the last message of a
 * batch asks for an ack: the kernel handles a batch in order before
 * sendmsg() returns and acks every refusal anyway, so reading up to that
 * one ack shows whether the batch went through, and only then is the next
 * one sent. COMMIT goes out only after every chunk was taken.
 *
 * Return: 0 or -1; on failure the kernel's table is untouched.
 */
int fwnl_replace(struct fwnl *nl, const struct restore *rs,
		 const struct fwnl_replace_how *how, struct fwnl_blame *blame,
		 struct fwnl_error *e)
{
	char buf[REQUEST_MAX] __attribute__((aligned(8)));
	struct chunk chunks[BATCH_MSGS_MAX];
	size_t batch_max = BATCH_MAX;
	size_t nest_max = RULES_NEST_MAX;
	struct nlmsghdr *nlh;
	size_t next = 0;
	char *batch;

	blame->first = SIZE_MAX;
	blame->last = SIZE_MAX;

	/* The kernel refuses a sendmsg() larger than its send buffer. */
	if (nl->sndbuf && nl->sndbuf / 2 < batch_max)
		batch_max = nl->sndbuf / 2 > 4096 ? nl->sndbuf / 2 : 4096;
	if (nest_max > batch_max - 256)
		nest_max = batch_max - 256;

	batch = malloc(batch_max);
	if (!batch) {
		memset(e, 0, sizeof(*e));
		return local_error(e, ENOMEM);
	}

	nlh = put_kfw_header(nl, buf, KFW_CMD_REPLACE_BEGIN, NLM_F_ACK);
	if (rs->has_policy[KFW_DIR_IN])
		mnl_attr_put_u8(nlh, KFW_A_POLICY_IN, rs->policy[KFW_DIR_IN]);
	if (rs->has_policy[KFW_DIR_OUT])
		mnl_attr_put_u8(nlh, KFW_A_POLICY_OUT, rs->policy[KFW_DIR_OUT]);
	if (request(nl, nlh, NULL, NULL, e))
		goto err_free;

	while (next < rs->count) {
		struct reply rp = { .e = e };
		size_t used = 0, nchunks = 0;

		while (next < rs->count && nchunks < BATCH_MSGS_MAX &&
		       batch_max - used >= nest_max + 256) {
			size_t took;

			nlh = (struct nlmsghdr *)(batch + used);
			took = put_chunk(nl, nlh, nest_max, rs->rules + next,
					 rs->count - next);
			if (!took) {
				memset(e, 0, sizeof(*e));
				local_error(e, EMSGSIZE);
				goto err_abort;
			}
			chunks[nchunks].offset = used;
			chunks[nchunks].first = next;
			chunks[nchunks].seq = nlh->nlmsg_seq;
			nchunks++;
			used += MNL_ALIGN(nlh->nlmsg_len);
			next += took;
		}
		nlh->nlmsg_flags |= NLM_F_ACK;
		rp.ack_seq = nlh->nlmsg_seq;

		memset(e, 0, sizeof(*e));
		if (mnl_socket_sendto(nl->sock, batch, used) < 0) {
			local_error(e, errno);
			goto err_abort;
		}
		if (receive(nl, 0, &rp)) {
			if (rp.failed)
				find_bad_rule(batch, chunks, nchunks, next,
					      rp.err_seq, e, blame);
			goto err_abort;
		}
	}

	nlh = put_kfw_header(nl, buf, KFW_CMD_REPLACE_COMMIT, NLM_F_ACK);
	if (how->check)
		mnl_attr_put(nlh, KFW_A_CHECK, 0, NULL);
	if (how->confirm_seconds)
		mnl_attr_put_u32(nlh, KFW_A_CONFIRM, how->confirm_seconds);
	if (how->zero)
		mnl_attr_put(nlh, KFW_A_ZERO, 0, NULL);
	if (request(nl, nlh, NULL, NULL, e))
		goto err_abort;
	free(batch);
	return 0;

err_abort:
	send_abort(nl);
err_free:
	free(batch);
	return -1;
}
