/*
 * upssim: a FunctionFS gadget that looks and behaves like the cheap UPS bridge 0665:5161
 * ("INNO TECH" / "USB to Serial"), so the flagship tests can wedge it on purpose and watch
 * usbrecover and NUT's nutdrv_qx bring it back.
 *
 *   upssim --ffs DIR --control FIFO --state FILE [--udc NAME] [--quiet]
 *
 * DIR is a mounted functionfs instance; FIFO takes control lines (created when missing):
 *   answer         healthy
 *   hang reset     stop answering until the host resets or reconfigures the device
 *   hang power     stop answering until the port's power is cycled; resets do not help
 *   storm K        hang now (a reset cures it); after every cure answer K commands, then hang
 * FILE is rewritten atomically at every change (key=value lines); it first appears once the
 * descriptors are written, which is when the gadget may be bound to its UDC. NAME is the UDC
 * (dummy_udc.N): with it, `hang power` can tell a power cycle from a reset (see host_identity).
 *
 * The wire protocol is the one NUT's nutdrv_qx uses for the Cypress bridge: the command arrives
 * in 8-byte HID SET_REPORT control transfers (0x21, 0x09, wValue 0x0200, interface 0), zero
 * padded; the reply leaves in 8-byte input reports on interrupt IN 0x81, which the host reads
 * until it has seen '\r'. Events go to stderr, one line each (the journal keeps them).
 *
 * Build: gcc -std=gnu11 -O2 -Wall -Wextra -Werror -pthread [-static] -o upssim upssim.c
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <linux/usb/ch9.h>
#include <linux/usb/functionfs.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REPORT_SIZE 8           /* the bridge's input and output reports, and wMaxPacketSize */
#define MAX_COMMAND 64          /* longer lines are garbage; real commands are a few bytes */
#define QUEUE_SIZE 1024         /* undelivered reply bytes; the host reads them in order */

/* The report descriptor: vendor page, one 8-byte input and one 8-byte output report, no IDs.
 * NUT never reads it; usbhid does, and refuses the interface without a valid one. */
static const uint8_t report_desc[] = {
	0x06, 0x00, 0xff,       /* Usage Page (vendor 0xff00) */
	0x09, 0x01,             /* Usage (1) */
	0xa1, 0x01,             /* Collection (application) */
	0x15, 0x00,             /*   Logical Minimum (0) */
	0x26, 0xff, 0x00,       /*   Logical Maximum (255) */
	0x75, 0x08,             /*   Report Size (8) */
	0x95, 0x08,             /*   Report Count (8) */
	0x09, 0x01,             /*   Usage (1) */
	0x81, 0x02,             /*   Input (data, variable, absolute) */
	0x09, 0x01,             /*   Usage (1) */
	0x91, 0x02,             /*   Output (data, variable, absolute) */
	0xc0,                   /* End Collection */
};

/* The HID class descriptor (HID 1.11, 6.2.1) with its one subordinate descriptor. */
struct hid_class_desc {
	uint8_t bLength;
	uint8_t bDescriptorType;
	uint16_t bcdHID;
	uint8_t bCountryCode;
	uint8_t bNumDescriptors;
	uint8_t bReportType;
	uint16_t wReportLength;
} __attribute__((packed));

struct speed_descs {
	struct usb_interface_descriptor intf;
	struct hid_class_desc hid;
	struct usb_endpoint_descriptor_no_audio ep;
} __attribute__((packed));

struct descriptor_blob {
	struct usb_functionfs_descs_head_v2 head;
	uint32_t fs_count;
	uint32_t hs_count;
	struct speed_descs fs, hs;
} __attribute__((packed));

#define HID_DT_HID 0x21
#define HID_DT_REPORT 0x22
#define HID_GET_REPORT 0x01
#define HID_GET_IDLE 0x02
#define HID_GET_PROTOCOL 0x03
#define HID_SET_REPORT 0x09
#define HID_SET_IDLE 0x0a
#define HID_SET_PROTOCOL 0x0b

enum mode { MODE_ANSWER, MODE_HANG_RESET, MODE_HANG_POWER, MODE_STORM };
enum cure { CURE_NONE, CURE_RESET, CURE_POWER };
static const char *const cure_names[] = { "none", "reset", "power" };
static const char *const mode_names[] = { "answer", "hang-reset", "hang-power", "storm" };

/* Everything below is shared by the main thread (ep0, control FIFO, signals) and the writer
 * thread (interrupt IN); `lock` guards all of it. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;

	const char *ffs_dir, *control_path, *state_path, *udc;
	bool quiet;
	int ep0, ep1;

	enum mode mode;
	bool hung;
	enum cure cure;
	enum cure last_cure; /* what the host did the last time a hang ended: reset or power */
	long storm_k, storm_left;

	bool enabled;
	bool disabled_while_hung;       /* a DISABLE came after the hang began */
	char host_at_hang[32];          /* busnum:devnum the host knew when the hang began */
	char host_now[32];
	double disabled_at, gap_ms;
	unsigned long answered, unanswered, commands, enables, disables, cures, dropped;
	unsigned long controls;          /* control lines taken: `ups-gadget.sh ctl` waits on it */
	char hung_at[24], cured_at[24];
	unsigned ep_address;

	char cmd[MAX_COMMAND];
	size_t cmd_len;
	bool cmd_overflow;

	uint8_t queue[QUEUE_SIZE];
	size_t queue_len;
	unsigned generation;            /* bumped at DISABLE: the writer drops what it holds */
} S = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.ep0 = -1,
	.ep1 = -1,
	.gap_ms = -1,
	.hung_at = "-",
	.cured_at = "-",
	.host_at_hang = "-",
	.host_now = "-",
};

static double uptime(void)
{
	struct timespec ts;
	/* CLOCK_BOOTTIME is what /proc/uptime shows; reading the clock avoids a file per event. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* One write per line, so lines from both threads never interleave. */
	dprintf(STDERR_FILENO, "upssim: [%.3f] %s\n", uptime(), line);
}

/* Writes the state file the tests read. Called with the lock held, at every change; the
 * rename makes a reader see either the old or the new file, never half of one. */
static void write_state(void)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s.tmp", S.state_path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		logmsg("cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	fprintf(f,
		"state=%s\ncure=%s\nmode=%s\nstorm_k=%ld\nstorm_left=%ld\n"
		"answered=%lu\nunanswered=%lu\ncommands=%lu\ndropped=%lu\n"
		"enables=%lu\ndisables=%lu\ncures=%lu\nenabled=%d\n"
		"controls=%lu\nlast_cure=%s\nhung_at=%s\ncured_at=%s\nhost=%s\nlast_gap_ms=%.0f\n"
		"endpoint=0x%02x\npid=%ld\n",
		S.hung ? "hung" : "ok", cure_names[S.hung ? S.cure : CURE_NONE], mode_names[S.mode],
		S.storm_k, S.storm_left, S.answered, S.unanswered, S.commands, S.dropped,
		S.enables, S.disables, S.cures, S.enabled, S.controls, cure_names[S.last_cure],
		S.hung_at, S.cured_at, S.host_now,
		S.gap_ms, S.ep_address, (long)getpid());
	if (fclose(f) != 0 || rename(tmp, S.state_path) != 0)
		logmsg("cannot replace %s: %s", S.state_path, strerror(errno));
}

static void stamp(char *dst, size_t n)
{
	snprintf(dst, n, "%.2f", uptime());
}

/* The identity of the device as the host enumerated it, "busnum:devnum", read from the host
 * side of the same dummy_hcd (dummy_udc.N pairs with dummy_hcd.N; its root port holds B-1).
 *
 * Why this is the signal for a power cycle: on dummy_hcd a bus reset and a power loss reach the
 * gadget through different callbacks (reset vs disconnect), but FunctionFS turns both into the
 * same DISABLE, the UDC's `state` attribute reads the same ("configured") by the time ENABLE
 * comes in either case, and the time spent disabled depends on how long someone held the power
 * off (a reset under load can take longer than a quick power cycle). What a real bridge loses
 * in a power cycle is its whole self, so the host has to enumerate a new device: a new devnum
 * (or a new bus after a controller rebind). A USBDEVFS_RESET, an authorized toggle or a
 * SET_CONFIGURATION keep the same usb_device and devnum. The host has assigned the new devnum
 * and registered the device before it sends SET_CONFIGURATION, so at ENABLE the answer is
 * already in sysfs: deterministic, no timing involved. */
static void host_identity(char *out, size_t n)
{
	snprintf(out, n, "-");
	if (!S.udc || strncmp(S.udc, "dummy_udc.", 10) != 0)
		return;
	char pattern[PATH_MAX];
	snprintf(pattern, sizeof pattern, "/sys/devices/platform/dummy_hcd.%s/usb*/*-1/devnum",
		 S.udc + 10);
	glob_t g;
	if (glob(pattern, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char path[PATH_MAX], bus[16] = "", dev[16] = "";
		snprintf(path, sizeof path, "%s", g.gl_pathv[i]);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(dev, sizeof dev, f))
			dev[0] = 0;
		fclose(f);
		char *slash = strrchr(path, '/');
		snprintf(slash, sizeof path - (size_t)(slash - path), "/busnum");
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(bus, sizeof bus, f))
			bus[0] = 0;
		fclose(f);
		bus[strcspn(bus, "\n")] = 0;
		dev[strcspn(dev, "\n")] = 0;
		if (bus[0] && dev[0]) {
			snprintf(out, n, "%s:%s", bus, dev);
			break;
		}
	}
	globfree(&g);
}

/* The UDC's own view (not attached, default, addressed, configured, ...), for the log only. */
static void udc_state(char *out, size_t n)
{
	snprintf(out, n, "?");
	if (!S.udc)
		return;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "/sys/class/udc/%s/state", S.udc);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(out, (int)n, f))
		out[strcspn(out, "\n")] = 0;
	fclose(f);
}

static void begin_hang(enum cure cure, const char *why)
{
	S.hung = true;
	S.cure = cure;
	S.disabled_while_hung = false;
	snprintf(S.host_at_hang, sizeof S.host_at_hang, "%s", S.host_now);
	stamp(S.hung_at, sizeof S.hung_at);
	/* A hung bridge sends nothing more: a reply still queued (its reader was killed between
	 * command and reply) must not answer the next program's command. At most the report the
	 * writer already holds goes out, and no reply fits in one. */
	S.queue_len = 0;
	S.generation++;
	logmsg("hung (%s), cured by %s", why, cure == CURE_POWER ? "a power cycle" : "a reset");
}

/* --- replies ------------------------------------------------------------------------------ */

static void queue_reply(const char *text)
{
	size_t len = strlen(text);
	if (S.queue_len + len > QUEUE_SIZE) {
		S.dropped++;
		logmsg("reply queue full (the host reads nothing): dropped a %zu-byte reply", len);
		return;
	}
	memcpy(S.queue + S.queue_len, text, len);
	S.queue_len += len;
	pthread_cond_signal(&S.wake);
}

/* What the bridge's UPS says to one command (without its '\r'). Unknown commands come back
 * as they went out: these UPSes echo what they do not understand, and nutdrv_qx's protocol
 * detection rules out the other Q* dialects on exactly that. */
static void reply_to(const char *cmd, char *out, size_t n)
{
	if (strcmp(cmd, "Q1") == 0)
		/* input, fault, output voltage, load %, frequency, battery V, temperature, status
		 * bits: utility ok, battery ok, no bypass, no fault, line-interactive, no test, no
		 * shutdown, beeper on. */
		snprintf(out, n, "(230.0 230.0 230.0 013 50.0 13.6 25.0 00001001\r");
	else if (strcmp(cmd, "I") == 0)
		/* company (15), model (10), version (10) */
		snprintf(out, n, "#%-15.15s %-10.10s %-10.10s\r", "INNO TECH", "UPSSIM", "1.0");
	else if (strcmp(cmd, "F") == 0)
		snprintf(out, n, "#230.0 004 12.00 50.0\r");
	else
		snprintf(out, n, "%s\r", cmd);
}

/* One complete command (its '\r' seen). Called with the lock held. */
static void handle_command(const char *cmd)
{
	S.commands++;
	if (!S.hung && S.mode == MODE_STORM && S.storm_left <= 0)
		begin_hang(CURE_RESET, "storm: answered its share since the last cure");
	if (S.hung) {
		S.unanswered++;
		logmsg("command '%s' unanswered (hung, %lu so far)", cmd, S.unanswered);
		write_state();
		return;
	}
	if (S.mode == MODE_STORM)
		S.storm_left--;
	char reply[128];
	reply_to(cmd, reply, sizeof reply);
	queue_reply(reply);
	if (!S.quiet)
		logmsg("command '%s' -> '%.*s'", cmd, (int)strcspn(reply, "\r"), reply);
	write_state();
}

/* SET_REPORT data: bytes up to '\r' make a command; the zero padding of each chunk is not
 * part of it. */
static void feed(const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = data[i];
		if (c == 0)
			continue;
		if (c == '\r') {
			if (!S.cmd_overflow) {
				S.cmd[S.cmd_len] = 0;
				handle_command(S.cmd);
			} else {
				logmsg("dropped a command longer than %d bytes", MAX_COMMAND - 1);
			}
			S.cmd_len = 0;
			S.cmd_overflow = false;
		} else if (S.cmd_len + 1 < MAX_COMMAND) {
			S.cmd[S.cmd_len++] = (char)c;
		} else {
			S.cmd_overflow = true;
		}
	}
}

/* The writer: interrupt IN writes block until the host reads (or the endpoint goes away), so
 * they live here and ep0 is never starved. ep1 is opened O_NONBLOCK so that a write while the
 * function is disabled fails at once (EAGAIN) instead of waiting for the next ENABLE and
 * sending a reply from before the reset. */
static void *writer(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&S.lock);
	for (;;) {
		while (!S.stopping && S.queue_len == 0)
			pthread_cond_wait(&S.wake, &S.lock);
		if (S.stopping)
			break;
		uint8_t report[REPORT_SIZE] = { 0 };
		size_t take = S.queue_len < REPORT_SIZE ? S.queue_len : REPORT_SIZE;
		memcpy(report, S.queue, take);
		unsigned gen = S.generation;
		pthread_mutex_unlock(&S.lock);

		/* Always a full report: the bridge's input report is 8 bytes, zero padded. */
		ssize_t w = write(S.ep1, report, sizeof report);
		int err = errno;

		pthread_mutex_lock(&S.lock);
		if (gen != S.generation)
			continue;       /* DISABLE came meanwhile and emptied the queue */
		if (w == (ssize_t)sizeof report) {
			unsigned ends = 0;
			for (size_t i = 0; i < take; i++)
				ends += report[i] == '\r';
			memmove(S.queue, S.queue + take, S.queue_len - take);
			S.queue_len -= take;
			if (ends) {
				S.answered += ends;
				write_state();
			}
			continue;
		}
		if (w < 0 && err == EINTR)
			continue;
		/* EAGAIN: not enabled; ESHUTDOWN/ECONNRESET: disabled under the transfer. The host
		 * will never ask for the rest, so the whole queue goes. */
		logmsg("interrupt IN write: %s; dropping %zu queued bytes",
		       w < 0 ? strerror(err) : "short write", S.queue_len);
		S.queue_len = 0;
		S.dropped++;
		write_state();
		if (w < 0 && err != EAGAIN && err != ESHUTDOWN && err != ECONNRESET) {
			/* Unknown trouble: do not spin on it. */
			pthread_mutex_unlock(&S.lock);
			usleep(100 * 1000);
			pthread_mutex_lock(&S.lock);
		}
	}
	pthread_mutex_unlock(&S.lock);
	return NULL;
}

/* --- ep0 ---------------------------------------------------------------------------------- */

static void ep0_stall(const struct usb_ctrlrequest *setup)
{
	/* FunctionFS stalls a pending request on an I/O in the wrong direction. */
	ssize_t r;
	if (setup->bRequestType & USB_DIR_IN)
		r = read(S.ep0, NULL, 0);
	else
		r = write(S.ep0, NULL, 0);
	(void)r;
}

static void ep0_send(const void *data, size_t len, uint16_t wlength)
{
	if (len > wlength)
		len = wlength;
	if (write(S.ep0, data, len) < 0 && errno != EIDRM)
		logmsg("ep0 reply: %s", strerror(errno));
}

static void handle_setup(const struct usb_ctrlrequest *setup)
{
	uint8_t type = setup->bRequestType, req = setup->bRequest;
	uint16_t value = le16toh(setup->wValue), length = le16toh(setup->wLength);

	if (type == (USB_DIR_OUT | USB_TYPE_CLASS | USB_RECIP_INTERFACE) && req == HID_SET_REPORT) {
		uint8_t buf[512];
		size_t want = length < sizeof buf ? length : sizeof buf;
		ssize_t n = read(S.ep0, buf, want);
		if (n < 0) {
			/* EIDRM: the host gave up on the transfer (a reset came). */
			logmsg("SET_REPORT data: %s", strerror(errno));
			return;
		}
		pthread_mutex_lock(&S.lock);
		feed(buf, (size_t)n);
		pthread_mutex_unlock(&S.lock);
		return;
	}
	if (type == (USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_INTERFACE) &&
	    req == USB_REQ_GET_DESCRIPTOR) {
		if (value >> 8 == HID_DT_REPORT) {
			ep0_send(report_desc, sizeof report_desc, length);
			return;
		}
		if (value >> 8 == HID_DT_HID) {
			struct hid_class_desc hid = {
				.bLength = 9, .bDescriptorType = HID_DT_HID, .bcdHID = htole16(0x0110),
				.bNumDescriptors = 1, .bReportType = HID_DT_REPORT,
				.wReportLength = htole16(sizeof report_desc),
			};
			ep0_send(&hid, sizeof hid, length);
			return;
		}
	}
	if (type == (USB_DIR_OUT | USB_TYPE_CLASS | USB_RECIP_INTERFACE) &&
	    (req == HID_SET_IDLE || req == HID_SET_PROTOCOL) && length == 0) {
		/* Acknowledged; there is nothing to idle and only one protocol. */
		if (read(S.ep0, NULL, 0) < 0 && errno != EIDRM)
			logmsg("ep0 ack: %s", strerror(errno));
		return;
	}
	if (type == (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)) {
		static const uint8_t zeros[REPORT_SIZE];
		if (req == HID_GET_REPORT) {
			ep0_send(zeros, sizeof zeros, length);
			return;
		}
		if (req == HID_GET_IDLE || req == HID_GET_PROTOCOL) {
			/* idle 0 (report only on change); protocol 1 (report) */
			uint8_t b = req == HID_GET_PROTOCOL;
			ep0_send(&b, 1, length);
			return;
		}
	}
	logmsg("stalling request %02x %02x %04x %04x %u", type, req, value,
	       le16toh(setup->wIndex), length);
	ep0_stall(setup);
}

/* Called with the lock held. */
static void disable_locked(const char *what)
{
	char udc[32];
	udc_state(udc, sizeof udc);
	if (S.enabled)
		S.disabled_at = uptime();      /* the gap is timed from the end of a session */
	S.enabled = false;
	S.disables++;
	if (S.hung)
		S.disabled_while_hung = true;
	/* A half-received command and an unread reply belong to the session that just ended. */
	size_t queued = S.queue_len;
	S.queue_len = 0;
	S.cmd_len = 0;
	S.cmd_overflow = false;
	S.generation++;
	logmsg("%s #%lu%s (dropped %zu queued reply bytes; udc %s)", what, S.disables,
	       S.hung ? " while hung" : "", queued, udc);
	write_state();
}

static void handle_disable(void)
{
	pthread_mutex_lock(&S.lock);
	disable_locked("DISABLE");
	pthread_mutex_unlock(&S.lock);
}

static void handle_enable(void)
{
	char host[32];
	host_identity(host, sizeof host);
	struct usb_endpoint_descriptor desc;
	unsigned address = 0;
	if (ioctl(S.ep1, FUNCTIONFS_ENDPOINT_DESC, &desc) == 0)
		address = desc.bEndpointAddress;

	char udc[32];
	udc_state(udc, sizeof udc);

	pthread_mutex_lock(&S.lock);
	/* FunctionFS keeps at most one of BIND/UNBIND/ENABLE/DISABLE queued: a new one discards
	 * the unread one before it. An ENABLE while enabled means a DISABLE was lost that way
	 * (we were slow to read ep0), and the host did reset or reconfigure the device. */
	if (S.enabled)
		disable_locked("DISABLE (implied: ENABLE while enabled)");
	S.enabled = true;
	S.enables++;
	S.ep_address = address;
	snprintf(S.host_now, sizeof S.host_now, "%s", host);
	S.gap_ms = S.disabled_at > 0 ? (uptime() - S.disabled_at) * 1000.0 : -1;
	const char *verdict = "";
	if (S.hung && S.disabled_while_hung) {
		bool cured = true;
		if (S.cure == CURE_POWER) {
			/* Without a view of the host ("-"), only `answer` ends a power hang. */
			cured = strcmp(host, "-") != 0 && strcmp(host, S.host_at_hang) != 0;
			if (!cured)
				verdict = ": same device on the host (a reset, not a power cycle), still hung";
		}
		if (cured) {
			S.hung = false;
			S.cures++;
			S.last_cure = strcmp(host, "-") != 0 && strcmp(host, S.host_at_hang) != 0
					      ? CURE_POWER
					      : CURE_RESET;
			stamp(S.cured_at, sizeof S.cured_at);
			if (S.mode == MODE_STORM)
				S.storm_left = S.storm_k;
			else
				S.mode = MODE_ANSWER;
			verdict = S.cure == CURE_POWER ? ": cured (new device on the host: power cycle)"
						       : ": cured (reset)";
			S.cure = CURE_NONE;
		}
	}
	if (S.hung && !S.disabled_while_hung)
		snprintf(S.host_at_hang, sizeof S.host_at_hang, "%s", host);
	logmsg("ENABLE #%lu: endpoint 0x%02x, host device %s, %.0f ms after DISABLE, udc %s%s",
	       S.enables, address, host, S.gap_ms, udc, verdict);
	write_state();
	pthread_mutex_unlock(&S.lock);
}

static void handle_ep0(void)
{
	struct usb_functionfs_event ev[4];
	ssize_t n = read(S.ep0, ev, sizeof ev);
	if (n < 0) {
		if (errno != EINTR && errno != EAGAIN && errno != EIDRM)
			logmsg("ep0 read: %s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < (size_t)n / sizeof ev[0]; i++) {
		switch (ev[i].type) {
		case FUNCTIONFS_BIND:
			logmsg("BIND");
			break;
		case FUNCTIONFS_UNBIND:
			/* It may have swallowed the DISABLE before it (see handle_enable). */
			pthread_mutex_lock(&S.lock);
			if (S.enabled)
				disable_locked("DISABLE (implied by UNBIND)");
			pthread_mutex_unlock(&S.lock);
			logmsg("UNBIND");
			break;
		case FUNCTIONFS_ENABLE:
			handle_enable();
			break;
		case FUNCTIONFS_DISABLE:
			handle_disable();
			break;
		case FUNCTIONFS_SETUP:
			handle_setup(&ev[i].u.setup);
			break;
		case FUNCTIONFS_SUSPEND:
			logmsg("SUSPEND");
			break;
		case FUNCTIONFS_RESUME:
			logmsg("RESUME");
			break;
		default:
			logmsg("unknown event %u", ev[i].type);
		}
	}
}

/* --- control ------------------------------------------------------------------------------ */

static void control_line(char *line)
{
	line[strcspn(line, "\r\n")] = 0;
	char *word = strtok(line, " \t"), *arg = strtok(NULL, " \t");
	if (!word)
		return;
	pthread_mutex_lock(&S.lock);
	if (strcmp(word, "answer") == 0 && !arg) {
		S.mode = MODE_ANSWER;
		if (S.hung)
			logmsg("control: answer (hang lifted without a cure)");
		else
			logmsg("control: answer");
		S.hung = false;
		S.cure = CURE_NONE;
	} else if (strcmp(word, "hang") == 0 && arg &&
		   (strcmp(arg, "reset") == 0 || strcmp(arg, "power") == 0)) {
		bool power = strcmp(arg, "power") == 0;
		S.mode = power ? MODE_HANG_POWER : MODE_HANG_RESET;
		begin_hang(power ? CURE_POWER : CURE_RESET, power ? "control: hang power"
								  : "control: hang reset");
	} else if (strcmp(word, "storm") == 0 && arg) {
		char *end;
		long k = strtol(arg, &end, 10);
		if (*end || k < 0) {
			logmsg("control: storm wants a count >= 0, got '%s'", arg);
			pthread_mutex_unlock(&S.lock);
			return;
		}
		S.mode = MODE_STORM;
		S.storm_k = k;
		S.storm_left = 0;
		begin_hang(CURE_RESET, "control: storm");
	} else {
		logmsg("control: unknown line '%s%s%s' (answer, hang reset, hang power, storm K)",
		       word, arg ? " " : "", arg ? arg : "");
		pthread_mutex_unlock(&S.lock);
		return;
	}
	S.controls++;
	write_state();
	pthread_mutex_unlock(&S.lock);
}

static void handle_control(int fd)
{
	static char buf[256];
	static size_t len;
	ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
	if (n <= 0)
		return;
	len += (size_t)n;
	buf[len] = 0;
	char *nl;
	while ((nl = memchr(buf, '\n', len))) {
		*nl = 0;
		control_line(buf);
		size_t used = (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, len - used);
		len -= used;
		buf[len] = 0;
	}
	if (len == sizeof buf - 1)
		len = 0;        /* a line that long is not a control line */
}

/* --- setup -------------------------------------------------------------------------------- */

static void fill_speed(struct speed_descs *d, uint8_t interval)
{
	d->intf = (struct usb_interface_descriptor){
		.bLength = USB_DT_INTERFACE_SIZE, .bDescriptorType = USB_DT_INTERFACE,
		.bInterfaceNumber = 0, .bNumEndpoints = 1, .bInterfaceClass = USB_CLASS_HID,
		.bInterfaceSubClass = 0, .bInterfaceProtocol = 0, .iInterface = 0,
	};
	d->hid = (struct hid_class_desc){
		.bLength = sizeof d->hid, .bDescriptorType = HID_DT_HID, .bcdHID = htole16(0x0110),
		.bCountryCode = 0, .bNumDescriptors = 1, .bReportType = HID_DT_REPORT,
		.wReportLength = htole16(sizeof report_desc),
	};
	/* 0x81 asks for endpoint 1; the kernel's autoconfig picks the real one and the host sees
	 * that. NUT reads 0x81 whatever the descriptor says, so the ENABLE log shows the result. */
	d->ep = (struct usb_endpoint_descriptor_no_audio){
		.bLength = USB_DT_ENDPOINT_SIZE, .bDescriptorType = USB_DT_ENDPOINT,
		.bEndpointAddress = USB_DIR_IN | 1, .bmAttributes = USB_ENDPOINT_XFER_INT,
		.wMaxPacketSize = htole16(REPORT_SIZE), .bInterval = interval,
	};
}

static int write_descriptors(void)
{
	struct descriptor_blob d;
	memset(&d, 0, sizeof d);
	d.head.magic = htole32(FUNCTIONFS_DESCRIPTORS_MAGIC_V2);
	d.head.length = htole32(sizeof d);
	d.head.flags = htole32(FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC);
	d.fs_count = htole32(3);
	d.hs_count = htole32(3);
	fill_speed(&d.fs, 10);  /* 10 ms, in frames */
	fill_speed(&d.hs, 7);   /* 2^(7-1) microframes = 8 ms */
	if (write(S.ep0, &d, sizeof d) != (ssize_t)sizeof d) {
		logmsg("writing descriptors to ep0: %s", strerror(errno));
		return -1;
	}
	/* No string descriptors of the function's own; the gadget's come from configfs. */
	struct usb_functionfs_strings_head s = {
		.magic = htole32(FUNCTIONFS_STRINGS_MAGIC), .length = htole32(sizeof s),
		.str_count = 0, .lang_count = 0,
	};
	if (write(S.ep0, &s, sizeof s) != (ssize_t)sizeof s) {
		logmsg("writing strings to ep0: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: upssim --ffs DIR --control FIFO --state FILE [--udc NAME] [--quiet]\n");
	exit(64);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		if (strcmp(a, "--ffs") == 0)
			slot = &S.ffs_dir;
		else if (strcmp(a, "--control") == 0)
			slot = &S.control_path;
		else if (strcmp(a, "--state") == 0)
			slot = &S.state_path;
		else if (strcmp(a, "--udc") == 0)
			slot = &S.udc;
		else if (strcmp(a, "--quiet") == 0)
			S.quiet = true;
		else
			usage();
		if (slot) {
			if (++i >= argc)
				usage();
			*slot = argv[i];
		}
	}
	if (!S.ffs_dir || !S.control_path || !S.state_path)
		usage();

	/* Signals: SIGTERM/SIGINT end the main loop through a signalfd; every thread blocks them
	 * (the writer inherits the mask), so no write is cut short by them. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		logmsg("signalfd: %s", strerror(errno));
		return 1;
	}

	if (mkfifo(S.control_path, 0600) != 0 && errno != EEXIST) {
		logmsg("mkfifo %s: %s", S.control_path, strerror(errno));
		return 1;
	}
	/* Read-write, so the FIFO never reports end-of-file when a writer closes it. */
	int ctl = open(S.control_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (ctl < 0) {
		logmsg("open %s: %s", S.control_path, strerror(errno));
		return 1;
	}

	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/ep0", S.ffs_dir);
	S.ep0 = open(path, O_RDWR | O_CLOEXEC);
	if (S.ep0 < 0) {
		logmsg("open %s: %s", path, strerror(errno));
		return 1;
	}
	if (write_descriptors() != 0)
		return 1;
	snprintf(path, sizeof path, "%s/ep1", S.ffs_dir);
	S.ep1 = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (S.ep1 < 0) {
		logmsg("open %s: %s", path, strerror(errno));
		return 1;
	}

	pthread_t wt;
	if (pthread_create(&wt, NULL, writer, NULL) != 0) {
		logmsg("cannot start the writer thread");
		return 1;
	}

	pthread_mutex_lock(&S.lock);
	write_state();  /* its appearance says: descriptors written, bind the UDC now */
	pthread_mutex_unlock(&S.lock);
	logmsg("ready: %s, control %s, state %s, udc %s", S.ffs_dir, S.control_path,
	       S.state_path, S.udc ? S.udc : "(not given: power hangs end only by 'answer')");

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = S.ep0, .events = POLLIN },
			{ .fd = ctl, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			logmsg("poll: %s", strerror(errno));
			sleep(1);
			continue;
		}
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
				if (si.ssi_signo == SIGHUP) {
					logmsg("SIGHUP ignored");
				} else {
					logmsg("signal %u: exiting", si.ssi_signo);
					break;
				}
			}
		}
		if (p[0].revents & (POLLIN | POLLERR | POLLHUP))
			handle_ep0();
		if (p[1].revents & POLLIN)
			handle_control(ctl);
	}

	pthread_mutex_lock(&S.lock);
	S.stopping = true;
	pthread_cond_signal(&S.wake);
	pthread_mutex_unlock(&S.lock);
	/* A write blocked on the host only ends with the process, so the writer is not joined;
	 * it holds nothing that needs cleaning up. */
	pthread_mutex_lock(&S.lock);
	write_state();
	pthread_mutex_unlock(&S.lock);
	return 0;
}
