// SPDX-License-Identifier: GPL-2.0
/*
 * kfwprobe: the traffic generator of the kfw VM tests.
 *
 * Busybox's nc cannot bind a source port, tell a refusal from a timeout or
 * count datagrams, so the tests drive real TCP and UDP through this small
 * static program instead. Every client gives a one-word verdict on stdout
 * and an exit status the shell can assert on:
 *
 *   kfwprobe tcp-listen ADDR PORT
 *	Listen, then go to the background and print the server's pid. Each
 *	connection is greeted with "kfwprobe\n", gets back whatever it sends,
 *	and is reset once the client closes, so no TIME_WAIT is left behind to
 *	trouble a later connection from the same source port.
 *   kfwprobe tcp-connect ADDR PORT [from ADDR] [sport PORT] [timeout MS] [send TEXT]
 *	Connect and read the greeting: prints "connected" (exit 0), or
 *	"refused", "timeout" or "error: REASON" (exit 1). With send, TEXT then
 *	goes to the server in one write, and "echoed" (exit 0) means it came
 *	back whole; "timeout" that it did not.
 *   kfwprobe udp-echo ADDR PORT
 *	Like tcp-listen, for a UDP server that sends every datagram back.
 *   kfwprobe udp-send ADDR PORT COUNT [from ADDR] [sport PORT] [timeout MS] [size BYTES]
 *		[pattern TEXT | pattern-hex HEX] [at OFFSET] [split BYTES]
 *	Send COUNT datagrams of BYTES payload (default 32), then wait up to MS
 *	(default 1000) for their echoes: prints "sent N received M", exit 0
 *	when every datagram came back. A datagram is "kfwprobe SEQ " padded
 *	with 'x'; pattern writes TEXT (or the bytes HEX) into each at payload
 *	offset OFFSET (default 16, never over the sequence number). split
 *	sends each datagram in two calls, the first BYTES with MSG_MORE: the
 *	stack appends the second part in page fragments, so the datagram
 *	leaves as a paged skb split at that offset.
 *   kfwprobe udp-ask ADDR PORT [from ADDR] [sport PORT] [timeout MS]
 *	Send one datagram on a connected socket and say what came back:
 *	"echoed" (exit 0); "refused icmp TYPE CODE" or "refused icmpv6 TYPE
 *	CODE" when the receive failed with ECONNREFUSED, with the ICMP error
 *	behind it; another "error icmp..." line, or "timeout" (exit 1).
 *   kfwprobe ping ADDR [timeout MS]
 *	One ICMP or ICMPv6 echo request from a ping socket (the namespace's
 *	net.ipv4.ping_group_range must admit the caller): prints "reply" (exit
 *	0), the ICMP error that came back instead as for udp-ask, or "timeout".
 *   kfwprobe udp-flood ADDR PORT MS [from ADDR] [sport PORT] [size BYTES]
 *	Send datagrams as fast as possible for MS milliseconds, ignoring
 *	errors: prints "sent N received M", exit 0 when anything was sent.
 *   kfwprobe udp-rr ADDR PORT COUNT [from ADDR] [sport PORT] [timeout MS] [size BYTES]
 *		[budget MS]
 *	The benchmark's probe: after 10 untimed ones, COUNT round trips of
 *	one datagram each to a udp-echo server, one at a time, timed with
 *	CLOCK_MONOTONIC; with budget, no more after MS milliseconds (but at
 *	least 10). A datagram not echoed within the timeout is lost and the
 *	next one goes. Prints "round_trips N lost L mean_ns X", X the mean
 *	time of the echoed round trips, the lost ones' waits included; exit 0
 *	when at least one came back and none was lost.
 *   kfwprobe as-uid UID[:GID] COMMAND [ARG...]
 *	Drop every group and capability, become UID, and run COMMAND.
 *   kfwprobe time COMMAND [ARG...]
 *	Run COMMAND with its output thrown away and print "elapsed_ns N",
 *	its wall time; exit with its status.
 *   kfwprobe load-module FILE
 *	Open FILE, wait for a line on stdin, then load FILE with one
 *	finit_module(2): prints "loaded" (exit 0) or "error: REASON" (exit
 *	1). Busybox's modprobe and insmod retry with init_module(2) after any
 *	failure, so a first load that failed half-way may not show; and the
 *	wait lets a test mark the task for fault injection once it blocks.
 *   kfwprobe json
 *	Check that stdin is one valid JSON value and print it without
 *	insignificant whitespace (exit 0), or say where it is broken (exit 1).
 *
 * Addresses are numeric IPv4 or IPv6; the default timeout is 1000 ms.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GREETING	"kfwprobe\n"
#define MAX_PAYLOAD	8192

static const char *prog = "kfwprobe";

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
		"Usage: kfwprobe tcp-listen ADDR PORT\n"
		"       kfwprobe tcp-connect ADDR PORT [from ADDR] [sport PORT] [timeout MS] [send TEXT]\n"
		"       kfwprobe udp-echo ADDR PORT\n"
		"       kfwprobe udp-send ADDR PORT COUNT [from ADDR] [sport PORT] [timeout MS] [size BYTES]\n"
		"                [pattern TEXT | pattern-hex HEX] [at OFFSET] [split BYTES]\n"
		"       kfwprobe udp-ask ADDR PORT [from ADDR] [sport PORT] [timeout MS]\n"
		"       kfwprobe ping ADDR [timeout MS]\n"
		"       kfwprobe udp-flood ADDR PORT MS [from ADDR] [sport PORT] [size BYTES]\n"
		"       kfwprobe udp-rr ADDR PORT COUNT [from ADDR] [sport PORT] [timeout MS] [size BYTES]\n"
		"                [budget MS]\n"
		"       kfwprobe as-uid UID[:GID] COMMAND [ARG...]\n"
		"       kfwprobe time COMMAND [ARG...]\n"
		"       kfwprobe load-module FILE\n"
		"       kfwprobe json < FILE\n");
	exit(2);
}

static long number(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("invalid %s '%s'", what, s);
	return v;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t now_ms(void)
{
	return now_ns() / 1000000;
}

/* A numeric IPv4 or IPv6 address and a port, as a sockaddr. */
struct endpoint {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
};

static void endpoint(struct endpoint *ep, const char *addr, long port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ep->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ep->ss;

	memset(ep, 0, sizeof(*ep));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		ep->len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		ep->len = sizeof(*sin6);
	} else {
		die("invalid address '%s'", addr);
	}
	ep->family = ep->ss.ss_family;
}

/* Which of the optional arguments a client takes. */
enum {
	OPT_TIMEOUT	= 1 << 0,
	OPT_SIZE	= 1 << 1,
	OPT_SEND	= 1 << 2,
	OPT_PATTERN	= 1 << 3,
	OPT_BUDGET	= 1 << 4,
};

/*
 * The optional "from ADDR sport PORT timeout MS size BYTES send TEXT
 * pattern TEXT pattern-hex HEX at OFFSET split BYTES" of a client.
 */
struct client_opts {
	const char *from;
	long sport;
	long timeout_ms;
	long size;
	const char *send;
	char pattern[MAX_PAYLOAD];
	size_t pattern_len;
	long at;
	long split;
	long budget_ms;
};

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t hex_bytes(char *out, const char *hex)
{
	size_t n = 0;

	if (!*hex || strlen(hex) % 2 || strlen(hex) / 2 > MAX_PAYLOAD)
		die("invalid hex '%s'", hex);
	for (; *hex; hex += 2) {
		int hi = hex_digit(hex[0]), lo = hex_digit(hex[1]);

		if (hi < 0 || lo < 0)
			die("invalid hex '%s'", hex);
		out[n++] = (char)(hi << 4 | lo);
	}
	return n;
}

static void client_opts(struct client_opts *o, char **argv, unsigned int allowed)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = 1000;
	o->size = 32;
	o->at = 16;
	for (; *argv; argv += 2) {
		if (!argv[1])
			die("missing value for '%s'", argv[0]);
		if (!strcmp(argv[0], "from"))
			o->from = argv[1];
		else if (!strcmp(argv[0], "sport"))
			o->sport = number(argv[1], 1, 65535, "port");
		else if ((allowed & OPT_TIMEOUT) && !strcmp(argv[0], "timeout"))
			o->timeout_ms = number(argv[1], 1, 3600000, "timeout");
		else if ((allowed & OPT_SIZE) && !strcmp(argv[0], "size"))
			o->size = number(argv[1], 16, MAX_PAYLOAD, "size");
		else if ((allowed & OPT_SEND) && !strcmp(argv[0], "send"))
			o->send = argv[1];
		else if ((allowed & OPT_PATTERN) && !strcmp(argv[0], "pattern")) {
			o->pattern_len = strlen(argv[1]);
			if (!o->pattern_len || o->pattern_len > MAX_PAYLOAD)
				die("invalid pattern '%s'", argv[1]);
			memcpy(o->pattern, argv[1], o->pattern_len);
		} else if ((allowed & OPT_PATTERN) && !strcmp(argv[0], "pattern-hex"))
			o->pattern_len = hex_bytes(o->pattern, argv[1]);
		else if ((allowed & OPT_PATTERN) && !strcmp(argv[0], "at"))
			o->at = number(argv[1], 0, MAX_PAYLOAD, "offset");
		else if ((allowed & OPT_PATTERN) && !strcmp(argv[0], "split"))
			o->split = number(argv[1], 1, MAX_PAYLOAD, "split");
		else if ((allowed & OPT_BUDGET) && !strcmp(argv[0], "budget"))
			o->budget_ms = number(argv[1], 1, 3600000, "budget");
		else
			die("unknown option '%s'", argv[0]);
	}
	if (o->pattern_len && (size_t)o->at + o->pattern_len > (size_t)o->size)
		die("the pattern does not fit in %ld bytes at offset %ld", o->size, o->at);
	if (o->split >= o->size)
		die("split %ld is not inside the datagram of %ld bytes", o->split, o->size);
}

/* A socket towards @peer, bound to the client's source address and port. */
static int client_socket(const struct endpoint *peer, const struct client_opts *o, int type)
{
	int fd, one = 1;

	fd = socket(peer->family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (o->from || o->sport) {
		struct endpoint local;

		if (o->from) {
			endpoint(&local, o->from, o->sport);
			if (local.family != peer->family)
				die("'from %s' is not of the family of the destination", o->from);
		} else {
			endpoint(&local, peer->family == AF_INET ? "0.0.0.0" : "::", o->sport);
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&local.ss, local.len) < 0)
			die("bind: %s", strerror(errno));
	}
	return fd;
}

/* A bound server socket; for IPv6 it takes IPv6 alone, even on "::". */
static int server_socket(const char *addr, const char *port, int type)
{
	struct endpoint ep;
	int fd, one = 1;

	endpoint(&ep, addr, number(port, 1, 65535, "port"));
	fd = socket(ep.family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ep.family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ep.ss, ep.len) < 0)
		die("bind %s port %s: %s", addr, port, strerror(errno));
	return fd;
}

/*
 * Go to the background once the server socket is ready, so that the shell
 * that started us may connect as soon as we return. The parent prints the
 * server's pid; the server keeps stderr and lets go of stdout, so that a
 * command substitution reading that pid does not wait for the server.
 */
static void background(void)
{
	pid_t pid;
	int null;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid > 0) {
		printf("%d\n", (int)pid);
		exit(0);
	}
	setsid();
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
}

static void reset_on_close(int fd)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
}

static int tcp_listen(char **argv)
{
	int fd;

	if (!argv[0] || !argv[1] || argv[2])
		usage();
	fd = server_socket(argv[0], argv[1], SOCK_STREAM);
	if (listen(fd, 64) < 0)
		die("listen: %s", strerror(errno));
	signal(SIGCHLD, SIG_IGN);
	background();
	for (;;) {
		struct timeval tv = { .tv_sec = 3 };
		char buf[256];
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept: %s", strerror(errno));
		}
		if (fork() == 0) {
			close(fd);
			setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			if (write(c, GREETING, strlen(GREETING)) < 0)
				_exit(1);
			for (;;) {
				ssize_t n = read(c, buf, sizeof(buf));

				if (n <= 0 || write(c, buf, n) != n)
					break;
			}
			reset_on_close(c);
			close(c);
			_exit(0);
		}
		close(c);
	}
}

/* Wait up to the deadline for @events on @fd: 1 ready, 0 timed out. */
static int wait_for(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		int64_t left = deadline - now_ms();
		int n;

		if (left < 0)
			left = 0;
		n = poll(&pfd, 1, (int)left);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			die("poll: %s", strerror(errno));
	}
}

static int verdict(const char *word, int status)
{
	printf("%s\n", word);
	return status;
}

static int failed(int err)
{
	if (err == ECONNREFUSED)
		return verdict("refused", 1);
	if (err == ETIMEDOUT)
		return verdict("timeout", 1);
	printf("error: %s\n", strerror(err));
	return 1;
}

/* Send @text in one write on a connected socket and wait for its echo. */
static int tcp_send(int fd, const char *text, int64_t deadline)
{
	static char back[MAX_PAYLOAD];
	size_t len = strlen(text), got = 0;

	if (len > sizeof(back))
		die("send: text longer than %zu bytes", sizeof(back));
	if (write(fd, text, len) != (ssize_t)len)
		return failed(errno);
	while (got < len) {
		ssize_t n;

		if (!wait_for(fd, POLLIN, deadline))
			return verdict("timeout", 1);
		n = read(fd, back + got, len - got);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return failed(errno);
		if (n == 0)
			return verdict("error: the server closed the connection", 1);
		got += n;
	}
	if (memcmp(back, text, len))
		return verdict("error: the echo differs", 1);
	reset_on_close(fd);
	close(fd);
	return verdict("echoed", 0);
}

static int tcp_connect(char **argv)
{
	struct client_opts o;
	struct endpoint peer;
	char buf[sizeof(GREETING)];
	size_t got = 0;
	int64_t deadline;
	socklen_t len;
	int fd, err;

	if (!argv[0] || !argv[1])
		usage();
	endpoint(&peer, argv[0], number(argv[1], 1, 65535, "port"));
	client_opts(&o, argv + 2, OPT_TIMEOUT | OPT_SEND);
	deadline = now_ms() + o.timeout_ms;

	fd = client_socket(&peer, &o, SOCK_STREAM | SOCK_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&peer.ss, peer.len) < 0 && errno != EINPROGRESS)
		return failed(errno);
	if (!wait_for(fd, POLLOUT, deadline))
		return verdict("timeout", 1);
	len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		die("getsockopt: %s", strerror(errno));
	if (err)
		return failed(err);

	/* The handshake is done; the greeting proves data flows both ways. */
	while (got < strlen(GREETING)) {
		ssize_t n;

		if (!wait_for(fd, POLLIN, deadline))
			return verdict("timeout", 1);
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return failed(errno);
		if (n == 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	if (strcmp(buf, GREETING))
		return verdict("error: no greeting from the server", 1);
	if (o.send)
		return tcp_send(fd, o.send, deadline);
	reset_on_close(fd);
	close(fd);
	return verdict("connected", 0);
}

/*
 * The echo goes back from the address the datagram was sent to, as a UDP
 * server on a wildcard address should: with several addresses on the
 * interface, the kernel's own choice of source could be another one, which
 * the client's connected socket would not accept.
 */
static int udp_echo(char **argv)
{
	static char buf[65536];
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} control;
	int fd, one = 1;

	if (!argv[0] || !argv[1] || argv[2])
		usage();
	fd = server_socket(argv[0], argv[1], SOCK_DGRAM);
	setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	background();
	for (;;) {
		struct sockaddr_storage from;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
		};
		struct cmsghdr *cmsg;
		ssize_t n = recvmsg(fd, &msg, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recvmsg: %s", strerror(errno));
		}
		/* Keep only the destination address: reply from it, on any interface. */
		for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
			if (cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(cmsg);

				pi->ipi_spec_dst = pi->ipi_addr;
				pi->ipi_ifindex = 0;
			} else if (cmsg->cmsg_level == IPPROTO_IPV6 && cmsg->cmsg_type == IPV6_PKTINFO) {
				((struct in6_pktinfo *)CMSG_DATA(cmsg))->ipi6_ifindex = 0;
			}
		}
		iov.iov_len = n;
		sendmsg(fd, &msg, 0);
	}
}

/* Datagram number @seq: its number in text, padded to @size bytes. */
static void datagram(char *buf, long size, unsigned long seq)
{
	int n = snprintf(buf, size, "kfwprobe %lu ", seq);

	memset(buf + n, 'x', size - n);
}

/* The same with the client's pattern, if any, written in at its offset. */
static void datagram_with(char *buf, const struct client_opts *o, unsigned long seq)
{
	int n;

	datagram(buf, o->size, seq);
	if (!o->pattern_len)
		return;
	n = snprintf(NULL, 0, "kfwprobe %lu ", seq);
	if (o->at < n)
		die("the pattern at offset %ld would overwrite the sequence number", o->at);
	memcpy(buf + o->at, o->pattern, o->pattern_len);
}

/* One datagram, in one send or, split, in two, the first with MSG_MORE. */
static bool send_datagram(int fd, const char *buf, const struct client_opts *o)
{
	if (!o->split)
		return send(fd, buf, o->size, 0) == o->size;
	if (send(fd, buf, o->split, MSG_MORE) != o->split)
		return false;
	return send(fd, buf + o->split, o->size - o->split, 0) == o->size - o->split;
}

static int udp_send(char **argv)
{
	static char buf[MAX_PAYLOAD], in[MAX_PAYLOAD + 1];
	static bool echoed[100000];
	unsigned long sent = 0, received = 0, seq;
	long count;
	struct client_opts o;
	struct endpoint peer;
	int64_t deadline;
	int fd, first_err = 0;

	if (!argv[0] || !argv[1] || !argv[2])
		usage();
	endpoint(&peer, argv[0], number(argv[1], 1, 65535, "port"));
	count = number(argv[2], 1, sizeof(echoed) / sizeof(echoed[0]), "count");
	client_opts(&o, argv + 3, OPT_TIMEOUT | OPT_SIZE | OPT_PATTERN);

	fd = client_socket(&peer, &o, SOCK_DGRAM | SOCK_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&peer.ss, peer.len) < 0)
		die("connect: %s", strerror(errno));
	for (seq = 0; seq < (unsigned long)count; seq++) {
		datagram_with(buf, &o, seq);
		if (send_datagram(fd, buf, &o))
			sent++;
		else if (!first_err)
			first_err = errno;
	}
	if (first_err)
		fprintf(stderr, "%s: send: %s\n", prog, strerror(first_err));

	deadline = now_ms() + o.timeout_ms;
	while (received < sent && wait_for(fd, POLLIN, deadline)) {
		ssize_t n = recv(fd, in, sizeof(in) - 1, 0);

		if (n < 0)
			continue;	/* EAGAIN, or an ICMP error */
		in[n] = '\0';
		if (n != o.size || sscanf(in, "kfwprobe %lu ", &seq) != 1 ||
		    seq >= (unsigned long)count || echoed[seq])
			continue;
		datagram_with(buf, &o, seq);
		if (memcmp(buf, in, n))
			continue;
		echoed[seq] = true;
		received++;
	}
	printf("sent %lu received %lu\n", sent, received);
	return received == (unsigned long)count ? 0 : 1;
}

#define RR_WARMUP	10

/* One round trip of datagram @seq on connected @fd: true when it came back. */
static bool round_trip(int fd, const struct client_opts *o, unsigned long seq)
{
	static char buf[MAX_PAYLOAD], in[MAX_PAYLOAD];
	int64_t deadline = now_ms() + o->timeout_ms;

	datagram(buf, o->size, seq);
	if (send(fd, buf, o->size, 0) != o->size)
		die("send: %s", strerror(errno));
	while (wait_for(fd, POLLIN, deadline)) {
		ssize_t n = recv(fd, in, sizeof(in), MSG_DONTWAIT);

		/* An echo of an earlier, lost datagram is read and passed over. */
		if (n == o->size && !memcmp(in, buf, n))
			return true;
	}
	return false;
}

static int udp_rr(char **argv)
{
	unsigned long done = 0, lost = 0, seq;
	struct client_opts o;
	struct endpoint peer;
	int64_t start, end;
	long count;
	int fd;

	if (!argv[0] || !argv[1] || !argv[2])
		usage();
	endpoint(&peer, argv[0], number(argv[1], 1, 65535, "port"));
	count = number(argv[2], 1, 100000000, "count");
	client_opts(&o, argv + 3, OPT_TIMEOUT | OPT_SIZE | OPT_BUDGET);

	fd = client_socket(&peer, &o, SOCK_DGRAM);
	if (connect(fd, (struct sockaddr *)&peer.ss, peer.len) < 0)
		die("connect: %s", strerror(errno));
	for (seq = 0; seq < RR_WARMUP; seq++)
		round_trip(fd, &o, seq);
	start = now_ns();
	end = start + (int64_t)o.budget_ms * 1000000;
	for (; done + lost < (unsigned long)count; seq++) {
		if (round_trip(fd, &o, seq))
			done++;
		else
			lost++;
		if (o.budget_ms && done + lost >= RR_WARMUP && now_ns() >= end)
			break;
	}
	printf("round_trips %lu lost %lu mean_ns %lld\n", done, lost,
	       done ? (long long)((now_ns() - start) / (int64_t)done) : 0LL);
	return done && !lost ? 0 : 1;
}

/*
 * Ask for ICMP errors on the error queue of @fd, as well as in sk_err, so
 * that the type and code behind an errno can be told.
 */
static void want_icmp_errors(int fd, int family)
{
	int one = 1;

	if (family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
}

/*
 * Report the ICMP error queued on @fd, if there is one: "refused icmp 3 3"
 * for a port unreachable, "error icmpv6 1 1" for another error. Returns
 * false when the queue is empty.
 */
static bool icmp_error(int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
				    sizeof(struct sockaddr_in6))];
		struct cmsghdr align;
	} control;
	char data[MAX_PAYLOAD];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;

	if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return false;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		const struct sock_extended_err *ee = (const void *)CMSG_DATA(cmsg);
		const char *origin;

		if (!((cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_RECVERR) ||
		      (cmsg->cmsg_level == IPPROTO_IPV6 && cmsg->cmsg_type == IPV6_RECVERR)))
			continue;
		if (ee->ee_origin == SO_EE_ORIGIN_ICMP)
			origin = "icmp";
		else if (ee->ee_origin == SO_EE_ORIGIN_ICMP6)
			origin = "icmpv6";
		else
			origin = "local";
		printf("%s %s %u %u\n", ee->ee_errno == ECONNREFUSED ? "refused" : "error",
		       origin, ee->ee_type, ee->ee_code);
		return true;
	}
	printf("error: an error without its origin\n");
	return true;
}

static int udp_ask(char **argv)
{
	static char buf[MAX_PAYLOAD], in[MAX_PAYLOAD];
	struct client_opts o;
	struct endpoint peer;
	int64_t deadline;
	int fd;

	if (!argv[0] || !argv[1])
		usage();
	endpoint(&peer, argv[0], number(argv[1], 1, 65535, "port"));
	client_opts(&o, argv + 2, OPT_TIMEOUT);

	fd = client_socket(&peer, &o, SOCK_DGRAM | SOCK_NONBLOCK);
	want_icmp_errors(fd, peer.family);
	if (connect(fd, (struct sockaddr *)&peer.ss, peer.len) < 0)
		die("connect: %s", strerror(errno));
	datagram(buf, o.size, 0);
	deadline = now_ms() + o.timeout_ms;
	if (send(fd, buf, o.size, 0) != o.size)
		return failed(errno);
	while (wait_for(fd, POLLIN, deadline)) {
		ssize_t n;

		if (icmp_error(fd))
			return 1;
		n = recv(fd, in, sizeof(in), 0);
		if (n < 0 && errno == ECONNREFUSED)
			return verdict("refused", 1);
		if (n == o.size && !memcmp(in, buf, n))
			return verdict("echoed", 0);
	}
	return verdict("timeout", 1);
}

/* One echo request from a ping socket; the kernel fills in id and checksum. */
static int ping(char **argv)
{
	struct endpoint peer;
	struct client_opts o;
	unsigned char out[64], in[1024];
	int64_t deadline;
	int fd;

	if (!argv[0])
		usage();
	endpoint(&peer, argv[0], 0);
	client_opts(&o, argv + 1, OPT_TIMEOUT);
	if (o.from || o.sport)
		die("ping takes no from or sport");

	fd = socket(peer.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    peer.family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	if (fd < 0)
		die("ping socket: %s (is net.ipv4.ping_group_range set?)", strerror(errno));
	want_icmp_errors(fd, peer.family);
	if (connect(fd, (struct sockaddr *)&peer.ss, peer.len) < 0)
		die("connect: %s", strerror(errno));
	memset(out, 'p', sizeof(out));
	out[0] = peer.family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	out[1] = 0;
	memset(out + 2, 0, 6);	/* checksum, id, sequence */
	deadline = now_ms() + o.timeout_ms;
	if (send(fd, out, sizeof(out), 0) != sizeof(out))
		return failed(errno);
	while (wait_for(fd, POLLIN, deadline)) {
		ssize_t n;

		if (icmp_error(fd))
			return 1;
		n = recv(fd, in, sizeof(in), 0);
		if (n < 0 && errno == ECONNREFUSED)
			return verdict("refused", 1);
		if (n >= 8 && in[0] == (peer.family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY))
			return verdict("reply", 0);
	}
	return verdict("timeout", 1);
}

static int udp_flood(char **argv)
{
	static char buf[MAX_PAYLOAD], in[MAX_PAYLOAD];
	unsigned long sent = 0, received = 0, seq = 0;
	struct client_opts o;
	struct endpoint peer;
	int64_t end;
	int fd;

	if (!argv[0] || !argv[1] || !argv[2])
		usage();
	endpoint(&peer, argv[0], number(argv[1], 1, 65535, "port"));
	end = now_ms() + number(argv[2], 1, 600000, "duration");
	client_opts(&o, argv + 3, OPT_SIZE);

	fd = client_socket(&peer, &o, SOCK_DGRAM | SOCK_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&peer.ss, peer.len) < 0)
		die("connect: %s", strerror(errno));
	while (now_ms() < end) {
		datagram(buf, o.size, seq++);
		if (send(fd, buf, o.size, 0) == o.size)
			sent++;
		while (recv(fd, in, sizeof(in), 0) > 0)
			received++;
		if (seq % 64 == 0)
			usleep(1000);	/* let the receiver breathe */
	}
	printf("sent %lu received %lu\n", sent, received);
	return sent ? 0 : 1;
}

static int as_uid(char **argv)
{
	char *colon;
	long uid, gid;

	if (!argv[0] || !argv[1])
		usage();
	colon = strchr(argv[0], ':');
	if (colon)
		*colon = '\0';
	uid = number(argv[0], 1, 65534, "uid");
	gid = colon ? number(colon + 1, 1, 65534, "gid") : uid;
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		die("cannot become uid %ld: %s", uid, strerror(errno));
	execvp(argv[1], argv + 1);
	die("%s: %s", argv[1], strerror(errno));
	return 2;
}

static int load_module(char **argv)
{
	char go[16];
	int fd;

	if (!argv[0] || argv[1])
		usage();
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s", argv[0], strerror(errno));
	if (!fgets(go, sizeof(go), stdin))
		die("no line on stdin to go ahead");
	if (syscall(SYS_finit_module, fd, "", 0)) {
		printf("error: %s\n", strerror(errno));
		return 1;
	}
	printf("loaded\n");
	return 0;
}

static int time_command(char **argv)
{
	int64_t start;
	int status;
	pid_t pid;

	if (!argv[0])
		usage();
	start = now_ns();
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
			die("/dev/null: %s", strerror(errno));
		execvp(argv[0], argv);
		die("%s: %s", argv[0], strerror(errno));
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid: %s", strerror(errno));
	printf("elapsed_ns %lld\n", (long long)(now_ns() - start));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * A strict JSON reader (RFC 8259) that writes what it reads back out without
 * the whitespace between tokens. Recursion is bounded by MAX_DEPTH.
 */
#define MAX_DEPTH 64

struct json {
	const char *s;
	size_t pos;
	const char *error;
};

static void json_space(struct json *j)
{
	while (strchr(" \t\r\n", j->s[j->pos]) && j->s[j->pos])
		j->pos++;
}

static bool json_fail(struct json *j, const char *what)
{
	if (!j->error)
		j->error = what;
	return false;
}

static bool json_literal(struct json *j, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(j->s + j->pos, word, n))
		return json_fail(j, "unknown literal");
	fputs(word, stdout);
	j->pos += n;
	return true;
}

static bool json_string(struct json *j)
{
	size_t start = j->pos++;

	for (;;) {
		unsigned char c = j->s[j->pos];

		if (c == '"')
			break;
		if (c < 0x20)
			return json_fail(j, c ? "control character in a string" : "unterminated string");
		if (c == '\\') {
			c = j->s[++j->pos];
			if (c == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", j->s[j->pos + i]) ||
					    !j->s[j->pos + i])
						return json_fail(j, "bad \\u escape");
				j->pos += 4;
			} else if (!c || !strchr("\"\\/bfnrt", c)) {
				return json_fail(j, "bad escape");
			}
		}
		j->pos++;
	}
	j->pos++;
	fwrite(j->s + start, 1, j->pos - start, stdout);
	return true;
}

static bool json_digits(struct json *j)
{
	size_t start = j->pos;

	while (j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
		j->pos++;
	return j->pos > start;
}

static bool json_number(struct json *j)
{
	size_t start = j->pos;

	if (j->s[j->pos] == '-')
		j->pos++;
	if (j->s[j->pos] == '0')
		j->pos++;
	else if (!json_digits(j))
		return json_fail(j, "bad number");
	if (j->s[j->pos] == '.') {
		j->pos++;
		if (!json_digits(j))
			return json_fail(j, "bad fraction");
	}
	if (j->s[j->pos] == 'e' || j->s[j->pos] == 'E') {
		j->pos++;
		if (j->s[j->pos] == '+' || j->s[j->pos] == '-')
			j->pos++;
		if (!json_digits(j))
			return json_fail(j, "bad exponent");
	}
	fwrite(j->s + start, 1, j->pos - start, stdout);
	return true;
}

static bool json_value(struct json *j, int depth);

/* An array or an object: @open, then members separated by ',', then @close. */
static bool json_container(struct json *j, int depth, char open, char close)
{
	bool first = true;

	if (depth >= MAX_DEPTH)
		return json_fail(j, "nested too deeply");
	putchar(open);
	j->pos++;
	json_space(j);
	if (j->s[j->pos] == close)
		goto done;
	for (;;) {
		if (!first) {
			if (j->s[j->pos] == close)
				goto done;
			if (j->s[j->pos] != ',')
				return json_fail(j, "expected ',' or a closing bracket");
			putchar(',');
			j->pos++;
			json_space(j);
		}
		first = false;
		if (open == '{') {
			if (j->s[j->pos] != '"')
				return json_fail(j, "expected a member name");
			if (!json_string(j))
				return false;
			json_space(j);
			if (j->s[j->pos] != ':')
				return json_fail(j, "expected ':'");
			putchar(':');
			j->pos++;
			json_space(j);
		}
		if (!json_value(j, depth + 1))
			return false;
		json_space(j);
	}
done:
	putchar(close);
	j->pos++;
	return true;
}

static bool json_value(struct json *j, int depth)
{
	switch (j->s[j->pos]) {
	case '{':
		return json_container(j, depth, '{', '}');
	case '[':
		return json_container(j, depth, '[', ']');
	case '"':
		return json_string(j);
	case 't':
		return json_literal(j, "true");
	case 'f':
		return json_literal(j, "false");
	case 'n':
		return json_literal(j, "null");
	case '-':
	case '0' ... '9':
		return json_number(j);
	case '\0':
		return json_fail(j, "unexpected end of input");
	default:
		return json_fail(j, "unexpected character");
	}
}

static int json(char **argv)
{
	static char text[1 << 22];
	struct json j = { .s = text };
	size_t len = 0;
	ssize_t n;

	if (argv[0])
		usage();
	while ((n = read(STDIN_FILENO, text + len, sizeof(text) - 1 - len)) > 0)
		len += n;
	if (n < 0)
		die("read: %s", strerror(errno));
	if (len == sizeof(text) - 1)
		die("input too large");
	if (memchr(text, '\0', len))
		die("NUL byte in the input");
	json_space(&j);
	if (json_value(&j, 0)) {
		json_space(&j);
		if (j.pos != len)
			json_fail(&j, "text after the value");
	}
	putchar('\n');
	fflush(stdout);
	if (j.error) {
		fprintf(stderr, "%s: invalid JSON at offset %zu: %s\n", prog, j.pos, j.error);
		return 1;
	}
	return 0;
}

static const struct {
	const char *name;
	int (*run)(char **argv);
} commands[] = {
	{ "tcp-listen", tcp_listen },
	{ "tcp-connect", tcp_connect },
	{ "udp-echo", udp_echo },
	{ "udp-send", udp_send },
	{ "udp-ask", udp_ask },
	{ "ping", ping },
	{ "udp-flood", udp_flood },
	{ "udp-rr", udp_rr },
	{ "as-uid", as_uid },
	{ "time", time_command },
	{ "load-module", load_module },
	{ "json", json },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argv + 2);
	usage();
	return 2;
}
