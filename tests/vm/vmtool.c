// SPDX-License-Identifier: MIT
// vmtool: the VM test bed's own small instrument, built statically by tests/vm/run and run
// inside the VM. It reads hub descriptors and port status, switches port power with hub class
// requests, waits for a device to be back (uevents, not sleeps) and times a command until the
// device is back, and ends the VM through qemu's isa-debug-exit port. It never trusts the
// program it times: "back" is read from sysfs here.
//
//   vmtool exit CODE
//   vmtool hubdesc HUB                      HUB: sysfs name ("1-1", "usb1") or /dev/bus/usb node
//   vmtool portstatus HUB PORT
//   vmtool port-power HUB PORT on|off
//   vmtool port-feature HUB PORT set|clear FEATURE   any hub class port feature (28 = BH_PORT_RESET)
//   vmtool wait DEV [--devnum-not N] [--gone] [--timeout MS]
//   vmtool measure DEV [--new-devnum] [--timeout MS] -- COMMAND [ARG...]
//   vmtool kill-when FILE VALUE [--timeout MS] -- COMMAND [ARG...]   (ptrace: SIGKILL right after
//                                           COMMAND's write of VALUE to FILE returned)
//
// DEV is a device's sysfs name ("1-1.2"). `wait` and `measure` print one line of key=value.

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/usbdevice_fs.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/io.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SYS_USB "/sys/bus/usb/devices"

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("vmtool: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(2);
}

static long parse_long(const char *s);

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// Reads a small sysfs attribute into buf (trailing newline removed); returns 0 or -1.
static int read_attr(const char *dev, const char *attr, char *buf, size_t len) {
  char path[512];
  snprintf(path, sizeof path, SYS_USB "/%s/%s", dev, attr);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, len - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
  return 0;
}

static long read_num(const char *dev, const char *attr) {
  char buf[64];
  if (read_attr(dev, attr, buf, sizeof buf) < 0) return -1;
  return strtol(buf, NULL, 10);
}

// Opens the usbfs node of a hub given by sysfs name or by node path.
static int open_node(const char *hub) {
  char node[64];
  if (hub[0] == '/') {
    snprintf(node, sizeof node, "%s", hub);
  } else {
    long bus = read_num(hub, "busnum"), dev = read_num(hub, "devnum");
    if (bus < 0 || dev < 0) die("no USB device '%s' in " SYS_USB, hub);
    snprintf(node, sizeof node, "/dev/bus/usb/%03ld/%03ld", bus, dev);
  }
  int fd = open(node, O_RDWR | O_CLOEXEC);
  if (fd < 0) die("cannot open '%s': %s", node, strerror(errno));
  return fd;
}

static int control(int fd, unsigned type, unsigned req, unsigned value, unsigned index,
                   void *data, unsigned len) {
  struct usbdevfs_ctrltransfer c = {
      .bRequestType = type, .bRequest = req, .wValue = value, .wIndex = index,
      .wLength = len, .timeout = 5000, .data = data};
  return ioctl(fd, USBDEVFS_CONTROL, &c);
}

static int cmd_hubdesc(int argc, char **argv) {
  if (argc != 1) die("usage: vmtool hubdesc HUB");
  int fd = open_node(argv[0]);
  unsigned char d[64] = {0};
  // A USB 2 hub answers descriptor type 0x29; a SuperSpeed hub 0x2a.
  int n = control(fd, 0xa0, 6, 0x2900, 0, d, sizeof d);
  const char *kind = "usb2";
  if (n < 7) {
    n = control(fd, 0xa0, 6, 0x2a00, 0, d, sizeof d);
    kind = "usb3";
  }
  if (n < 7) die("cannot read the hub descriptor of '%s': %s", argv[0], strerror(errno));
  unsigned chars = d[3] | (d[4] << 8);
  const char *sw = (chars & 3) == 0 ? "ganged" : (chars & 3) == 1 ? "per-port" : "none";
  printf("kind=%s nports=%u characteristics=0x%04x switching=%s pwron2good_ms=%u\n", kind,
         d[2], chars, sw, d[5] * 2u);
  return 0;
}

static int port_status(int fd, unsigned port, unsigned *status, unsigned *change) {
  unsigned char s[4];
  if (control(fd, 0xa3, 0, 0, port, s, 4) != 4) return -1;
  *status = s[0] | (s[1] << 8);
  *change = s[2] | (s[3] << 8);
  return 0;
}

static int cmd_portstatus(int argc, char **argv) {
  if (argc != 2) die("usage: vmtool portstatus HUB PORT");
  int fd = open_node(argv[0]);
  unsigned st, ch;
  if (port_status(fd, atoi(argv[1]), &st, &ch) < 0)
    die("GET_STATUS port %s of '%s': %s", argv[1], argv[0], strerror(errno));
  // Bit 8 is PORT_POWER on a USB 2 hub, bit 9 on a SuperSpeed hub; callers know which.
  printf("status=0x%04x change=0x%04x connect=%u enable=%u power2=%u power3=%u\n", st, ch,
         st & 1, (st >> 1) & 1, (st >> 8) & 1, (st >> 9) & 1);
  return 0;
}

static int cmd_port_power(int argc, char **argv) {
  if (argc != 3) die("usage: vmtool port-power HUB PORT on|off");
  int fd = open_node(argv[0]);
  int on = strcmp(argv[2], "on") == 0;
  if (!on && strcmp(argv[2], "off") != 0) die("expected on or off, got '%s'", argv[2]);
  // SET_FEATURE (3) / CLEAR_FEATURE (1), feature PORT_POWER (8), recipient "other" (a port).
  if (control(fd, 0x23, on ? 3 : 1, 8, atoi(argv[1]), NULL, 0) < 0)
    die("%s PORT_POWER on port %s of '%s': %s", on ? "SetPortFeature" : "ClearPortFeature",
        argv[1], argv[0], strerror(errno));
  return 0;
}

static int cmd_port_feature(int argc, char **argv) {
  if (argc != 4) die("usage: vmtool port-feature HUB PORT set|clear FEATURE");
  int fd = open_node(argv[0]);
  int set = strcmp(argv[2], "set") == 0;
  if (!set && strcmp(argv[2], "clear") != 0) die("expected set or clear, got '%s'", argv[2]);
  long feature = parse_long(argv[3]);
  if (control(fd, 0x23, set ? 3 : 1, (unsigned)feature, atoi(argv[1]), NULL, 0) < 0)
    die("%s(%ld) on port %s of '%s': %s", set ? "SetPortFeature" : "ClearPortFeature", feature,
        argv[1], argv[0], strerror(errno));
  return 0;
}

// A uevent socket wakes the waits below; sysfs is re-read after each event, and at least every
// 20 ms in case an event was missed.
static int uevent_socket(void) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
  if (fd < 0) return -1;
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void wait_event(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (fd < 0 || poll(&p, 1, 20) <= 0) return;
  char buf[8192];
  while (recv(fd, buf, sizeof buf, 0) > 0) {
  }
}

// The device is back: present, authorized, and each of its interfaces has a driver.
static int is_back(const char *dev, long devnum_not) {
  long devnum = read_num(dev, "devnum");
  if (devnum < 0 || devnum == devnum_not) return 0;
  if (read_num(dev, "authorized") != 1) return 0;
  char path[512];
  snprintf(path, sizeof path, SYS_USB "/%s", dev);
  DIR *d = opendir(path);
  if (!d) return 0;
  size_t len = strlen(dev);
  int ifaces = 0, bound = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, dev, len) != 0 || e->d_name[len] != ':') continue;
    ifaces++;
    char drv[1024];
    struct stat st;
    snprintf(drv, sizeof drv, "%s/%s/driver", path, e->d_name);
    if (stat(drv, &st) == 0) bound++;
  }
  closedir(d);
  long nifaces = read_num(dev, "bNumInterfaces");
  return ifaces > 0 && bound == ifaces && (nifaces < 0 || ifaces >= nifaces);
}

static int is_gone(const char *dev) { return read_num(dev, "devnum") < 0; }

static long parse_long(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0') die("not a number: '%s'", s);
  return v;
}

static int cmd_wait(int argc, char **argv) {
  if (argc < 1) die("usage: vmtool wait DEV [--devnum-not N] [--gone] [--timeout MS]");
  const char *dev = argv[0];
  long devnum_not = -2, timeout = 10000;
  int gone = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--gone")) gone = 1;
    else if (!strcmp(argv[i], "--devnum-not") && i + 1 < argc) devnum_not = parse_long(argv[++i]);
    else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout = parse_long(argv[++i]);
    else die("wait: unknown argument '%s'", argv[i]);
  }
  int fd = uevent_socket();
  double t0 = now_ms();
  for (;;) {
    int ok = gone ? is_gone(dev) : is_back(dev, devnum_not);
    double el = now_ms() - t0;
    if (ok) {
      printf("ok=1 ms=%.1f devnum=%ld\n", el, read_num(dev, "devnum"));
      return 0;
    }
    if (el > timeout) {
      printf("ok=0 ms=%.1f devnum=%ld\n", el, read_num(dev, "devnum"));
      return 1;
    }
    wait_event(fd);
  }
}

static int cmd_measure(int argc, char **argv) {
  if (argc < 3) die("usage: vmtool measure DEV [--new-devnum] [--timeout MS] -- COMMAND...");
  const char *dev = argv[0];
  int new_devnum = 0, i;
  long timeout = 20000;
  for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
    if (!strcmp(argv[i], "--new-devnum")) new_devnum = 1;
    else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout = parse_long(argv[++i]);
    else die("measure: unknown argument '%s'", argv[i]);
  }
  if (i + 1 >= argc) die("measure: no command after --");
  char **cmd = argv + i + 1;
  long before = read_num(dev, "devnum");
  if (before < 0) die("measure: no device '%s'", dev);
  int fd = uevent_socket();
  double t0 = now_ms();
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 1);
    execvp(cmd[0], cmd);
    fprintf(stderr, "vmtool: cannot run '%s': %s\n", cmd[0], strerror(errno));
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  double t_exit = now_ms() - t0;
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  for (;;) {
    double el = now_ms() - t0;
    if (is_back(dev, new_devnum ? before : -2)) {
      printf("ok=1 ms=%.1f exit_ms=%.1f rc=%d devnum=%ld->%ld\n", el, t_exit, rc, before,
             read_num(dev, "devnum"));
      return rc == 0 ? 0 : 1;
    }
    if (el > timeout) {
      printf("ok=0 ms=%.1f exit_ms=%.1f rc=%d devnum=%ld->%ld\n", el, t_exit, rc, before,
             read_num(dev, "devnum"));
      return 1;
    }
    wait_event(fd);
  }
}

// Runs COMMAND and SIGKILLs it the moment FILE reads VALUE ("absent": FILE does not exist), to
// interrupt a recovery half-way. Polls every 0.2 ms: a shell loop is too slow for that window.
static int file_is(const char *file, const char *value) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return strcmp(value, "absent") == 0;
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) return 0;
  buf[n] = '\0';
  while (n > 0 && buf[n - 1] == '\n') buf[--n] = '\0';
  return strcmp(buf, value) == 0;
}

// Whether the write(2) a traced thread is entering puts VALUE (an optional newline after it)
// into FILE (a resolved path): the fd's /proc link names the file, the buffer is read from the
// thread's memory.
static int write_matches(pid_t tid, const struct user_regs_struct *r, const char *file,
                         const char *value) {
  char link[64], target[PATH_MAX];
  snprintf(link, sizeof link, "/proc/%d/fd/%llu", tid, (unsigned long long)r->rdi);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) return 0;
  target[n] = '\0';
  if (strcmp(target, file)) return 0;
  size_t want = strlen(value), len = r->rdx;
  if (len != want && !(len == want + 1)) return 0;
  char buf[256];
  if (len >= sizeof buf) return 0;
  struct iovec local = {buf, len}, remote = {(void *)r->rsi, len};
  if (process_vm_readv(tid, &local, 1, &remote, 1, 0) != (ssize_t)len) return 0;
  if (len == want + 1 && buf[want] != '\n') return 0;
  return memcmp(buf, value, want) == 0;
}

// Runs COMMAND under ptrace and SIGKILLs it the moment a write(2) of VALUE to FILE has
// returned successfully: no polling window to miss, however short the state lasts. A seccomp
// filter stops the command at write(2) only, so everything else runs at full speed. Then it
// checks that FILE still reads VALUE.
static int cmd_kill_when(int argc, char **argv) {
  if (argc < 4) die("usage: vmtool kill-when FILE VALUE [--timeout MS] -- COMMAND...");
  const char *value = argv[1];
  char file[PATH_MAX];
  if (!realpath(argv[0], file)) die("kill-when: %s: %s", argv[0], strerror(errno));
  long timeout = 20000;
  int i;
  for (i = 2; i < argc && strcmp(argv[i], "--"); i++) {
    if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout = parse_long(argv[++i]);
    else die("kill-when: unknown argument '%s'", argv[i]);
  }
  if (i + 1 >= argc) die("kill-when: no command after --");
  double t0 = now_ms();
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof code / sizeof code[0], code};
    setpgid(0, 0);  // its own group: the kill reaches every process it started
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) _exit(126);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
      _exit(126);
    raise(SIGSTOP);
    execvp(argv[i + 1], argv + i + 1);
    _exit(127);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) die("kill-when: child did not stop");
  if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
             (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACESECCOMP |
                            PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                            PTRACE_O_TRACEEXEC)) < 0)
    die("kill-when: PTRACE_SETOPTIONS: %s", strerror(errno));
  ptrace(PTRACE_CONT, pid, NULL, NULL);
  for (;;) {
    if (now_ms() - t0 > timeout) {
      kill(-pid, SIGKILL);
      while (waitpid(-1, &status, __WALL) > 0) {}
      printf("killed=1 ms=%.1f on=timeout\n", now_ms() - t0);
      return 1;
    }
    pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);
    if (tid == 0) {
      usleep(200);
      continue;
    }
    if (tid < 0) die("kill-when: waitpid: %s", strerror(errno));
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (tid == pid) {
        printf("killed=0 ms=%.1f rc=%d\n", now_ms() - t0,
               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return 1;
      }
      continue;
    }
    struct user_regs_struct r;
    if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))) {
      // At the write's entry: when it is the one, stop again at its exit.
      if (ptrace(PTRACE_GETREGS, tid, NULL, &r) == 0 && write_matches(tid, &r, file, value)) {
        ptrace(PTRACE_SYSCALL, tid, NULL, NULL);
        continue;
      }
    } else if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
      // The exit of a matching write.
      if (ptrace(PTRACE_GETREGS, tid, NULL, &r) == 0 && (long long)r.rax > 0) {
        kill(-pid, SIGKILL);
        while (waitpid(-1, &status, __WALL) > 0) {}
        int hit = file_is(file, value);
        printf("killed=1 ms=%.1f on=%s\n", now_ms() - t0, hit ? "value" : "changed");
        return hit ? 0 : 1;
      }
    } else if (!(WSTOPSIG(status) == SIGTRAP && status >> 16) && WSTOPSIG(status) != SIGSTOP) {
      ptrace(PTRACE_CONT, tid, NULL, (void *)(long)WSTOPSIG(status));  // a signal: deliver it
      continue;
    }
    ptrace(PTRACE_CONT, tid, NULL, NULL);  // events and a new task's first stop deliver nothing
  }
}

static int cmd_exit(int argc, char **argv) {
  if (argc != 1) die("usage: vmtool exit CODE");
  // qemu's isa-debug-exit at 0xf4 ends qemu with status (CODE << 1) | 1.
  if (ioperm(0xf4, 4, 1) < 0) die("ioperm: %s", strerror(errno));
  outl((unsigned)atoi(argv[0]), 0xf4);
  return 1;  // only reached without the device
}

int main(int argc, char **argv) {
  if (argc < 2) die("usage: vmtool exit|hubdesc|portstatus|port-power|port-feature|wait|measure|kill-when ...");
  const char *c = argv[1];
  argc -= 2;
  argv += 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!strcmp(c, "exit")) return cmd_exit(argc, argv);
  if (!strcmp(c, "hubdesc")) return cmd_hubdesc(argc, argv);
  if (!strcmp(c, "portstatus")) return cmd_portstatus(argc, argv);
  if (!strcmp(c, "port-power")) return cmd_port_power(argc, argv);
  if (!strcmp(c, "port-feature")) return cmd_port_feature(argc, argv);
  if (!strcmp(c, "wait")) return cmd_wait(argc, argv);
  if (!strcmp(c, "measure")) return cmd_measure(argc, argv);
  if (!strcmp(c, "kill-when")) return cmd_kill_when(argc, argv);
  die("unknown command '%s'", c);
}
