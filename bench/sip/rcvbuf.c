/*
 * bench_rcvbuf.so: preloaded into the SIPp business line of bench/sip, it
 * sets SO_RCVBUF to $RT_BENCH_RCVBUF bytes on every UDP socket the process
 * opens (the kernel caps it at net.core.rmem_max).
 *
 * Why: SIPp 3.6.1 echoes RTP (-rtp_echo) from one socket for every call,
 * with the kernel's default receive buffer (212 KB: 256 packets of G.711
 * on loopback), and its rtp_stream sends every stream of a run in the same
 * millisecond, every 20 ms: at 1200 calls the line's socket overflows
 * whoever relays the calls, ringtrail or nobody.  Its -rtp_buffsize option
 * is parsed but never applied to those sockets.  A bigger buffer makes the
 * line a measuring instrument rather than the bottleneck; the bench reads
 * what it still drops from /proc/net/udp.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>

int socket(int domain, int type, int protocol)
{
	static int (*real)(int, int, int);
	const char *v = getenv("RT_BENCH_RCVBUF");
	int fd;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "socket");
	if (!real)
		return -1;
	fd = real(domain, type, protocol);
	if (fd >= 0 && v && (type & 0xff) == SOCK_DGRAM) {
		int n = (int)strtol(v, NULL, 10);

		/* Best effort: the default buffer is what SIPp had anyway. */
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n));
	}
	return fd;
}
