// bench/socket-floor.ts's C client: a client that only reads the bytes, the kernel's share alone.
// STREAMS keep-alive sockets (connected RAMP_UP_S apart in all), ROUNDS requests each, one at a
// time; epoll, one recv per ready socket. Each token event carries " tok" once. Prints
// {"lastByteAt": epoch ms of the last byte, "p99Gap": p99 gap between a stream's tokens, ms}.
//   epoll-floor HOST PORT STREAMS ROUNDS RAMP_UP_S REQUEST
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 7) return 2;
  const char *host = argv[1];
  int port = atoi(argv[2]), streams = atoi(argv[3]), rounds = atoi(argv[4]);
  double ramp_up_ms = atof(argv[5]) * 1000;
  const char *request = argv[6];
  size_t request_len = strlen(request);
  struct rlimit files = {streams + 64, streams + 64};
  setrlimit(RLIMIT_NOFILE, &files);

  int ep = epoll_create1(0);
  int *left = calloc(streams, sizeof(int));
  double *last_token_at = calloc(streams, sizeof(double));
  size_t gap_count = 0, gap_capacity = (size_t)streams * rounds * 256;
  double *gaps = malloc(gap_capacity * sizeof(double));
  struct sockaddr_in address = {0};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, host, &address.sin_addr);

  static char buffer[65536];
  struct epoll_event events[1024];
  double started = now_ms(CLOCK_MONOTONIC), last_byte_at = 0;
  int connected = 0, active = 0;
  while (connected < streams || active > 0) {
    while (connected < streams && now_ms(CLOCK_MONOTONIC) >= started + ramp_up_ms * connected / streams) {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) { perror("connect"); return 1; }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fcntl(fd, F_SETFL, O_NONBLOCK);
      left[connected] = rounds;
      last_token_at[connected] = -1;
      struct epoll_event ev = {.events = EPOLLIN};
      ev.data.u64 = ((unsigned long)fd << 32) | (unsigned)connected;
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      if (write(fd, request, request_len) != (ssize_t)request_len) return 1;
      connected++;
      active++;
    }
    int timeout = -1;
    if (connected < streams) {
      double wait = started + ramp_up_ms * connected / streams - now_ms(CLOCK_MONOTONIC);
      timeout = wait < 0 ? 0 : (int)wait + 1;
    }
    int n = epoll_wait(ep, events, 1024, timeout);
    for (int k = 0; k < n; k++) {
      int fd = events[k].data.u64 >> 32, i = events[k].data.u64 & 0xffffffff;
      ssize_t got = recv(fd, buffer, sizeof buffer, 0);
      if (got <= 0) continue;
      double at = now_ms(CLOCK_MONOTONIC);
      for (char *from = memmem(buffer, got, " tok", 4); from != NULL; from = memmem(from + 4, buffer + got - from - 4, " tok", 4)) {
        if (last_token_at[i] >= 0 && gap_count < gap_capacity) gaps[gap_count++] = at - last_token_at[i];
        last_token_at[i] = at;
      }
      if (got >= 5 && memcmp(buffer + got - 5, "0\r\n\r\n", 5) == 0) {
        last_byte_at = now_ms(CLOCK_REALTIME);
        last_token_at[i] = -1;
        if (--left[i] == 0) {
          close(fd);
          active--;
        } else if (write(fd, request, request_len) != (ssize_t)request_len) return 1;
      }
    }
  }
  qsort(gaps, gap_count, sizeof(double), by_value);
  size_t at = (size_t)(0.99 * gap_count);
  if (at >= gap_count && gap_count > 0) at = gap_count - 1;
  printf("{\"lastByteAt\":%.3f,\"p99Gap\":%s%.4f}\n", last_byte_at, "", gap_count == 0 ? 0.0 : gaps[at]);
  return 0;
}
