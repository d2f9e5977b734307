/*
 * enumsim: a USB device of our own behind vhci_hcd (USB/IP's virtual host controller) that
 * fails enumeration the way a wedged device does, and is cured only when its port's power has
 * been off for longer than the kernel's own power cycle. The flagship test's scenario for
 * `usbrecover watch` (tests/flagship/scenarios/10-enumeration-failure.sh).
 *
 *   enumsim --state FILE [--port N] [--wedged] [--hold-up MS] [--quiet]
 *
 * N is the vhci_hcd port to attach to (default 0: the first port of vhci_hcd.0's USB 2.0 root
 * hub); FILE is rewritten atomically at every change (key=value lines) and first appears once
 * the device is attached. SIGTERM or SIGINT detach it and end the program.
 *
 * What is real: everything the kernel does. enumsim is the far end of a USB/IP connection, the
 * part usbip-host plays on a server: it writes "<port> <fd> <devid> <speed>" to vhci_hcd's
 * `attach` itself (the kernel looks the socket up in the writing process) and answers
 * USBIP_CMD_SUBMIT and USBIP_CMD_UNLINK (Documentation/usb/usbip_protocol.rst: 48-byte
 * big-endian headers, the setup packet of a control transfer inside the header). The hub
 * driver enumerates the port as any other, logs its own errors, retries, power-cycles the port
 * itself half way through and finally gives up ("unable to enumerate USB device"), and
 * usbrecover's power cycle goes through the port's `disable` attribute to vhci_hcd's root hub.
 *
 * The device: 1209:0001 (pid.codes' test PID, for tests and never a product; no kernel driver
 * claims it), high speed (vhci_hcd's root hub sets the port's speed bits for high and low
 * speed only, and logs "vhci_device speed not set" at every reset of a full-speed one), one
 * configuration with one vendor-specific interface and no endpoint
 * besides ep0, strings "usbrecover tests" / "enumsim" / serial "enumsim-1". Healthy, it answers
 * what enumeration and configuration ask (GET_DESCRIPTOR device, configuration, string;
 * SET_CONFIGURATION, GET_STATUS, ...) and stalls the rest. Wedged, it answers every transfer
 * with -EPROTO (-71), which is what a host controller reports for a device that does not
 * answer a token properly (CRC, bit stuffing, no handshake): "device descriptor read/64, error
 * -71". vhci_hcd answers SET_ADDRESS itself, so only descriptor reads reach a device that has
 * no address yet.
 *
 * What is emulated: what power does to the device. Its supply holds up for --hold-up MS
 * (default 1000): a shorter power cut leaves it running, and a wedged device stays wedged; a
 * longer one drains it, and when power comes back it connects anew and answers (the disconnect
 * and connect a real device makes). The port's power is read from the root hub requests
 * themselves, ClearPortFeature(PORT_POWER) and SetPortFeature(PORT_POWER) on the port, as
 * usbmon shows them (/sys/kernel/debug/usb/usbmon/<bus>u) with the kernel's own timestamps:
 * the kernel's own cycle and usbrecover's alike. vhci_hcd's root hub advertises per-port power
 * switching, but its PORT_POWER requests only flip a status bit: the port stays connected, and
 * no connect change follows. So enumsim detaches itself (vhci_hcd's `detach`) once power is
 * back after a drain, and attaches again with a fresh socket: the disconnect and connect of a
 * real device, made at power-on. Not at power-off: the hub driver switches an unpowered,
 * disconnected port's power back on when it handles a connect change (hub_port_connect()), so
 * a disconnect while usbrecover holds the port off would end the off time early.
 *
 * State file keys: state (wedged, healthy, stopped, lost), bus and port_path (the root hub's
 * bus and the port's path, "5-1"), vhci_port, attaches, requests, failed (answered -EPROTO),
 * answered, stalled, unlinks, power_offs (complete power cuts seen), offs_ms (their lengths,
 * oldest first, at most 16), cures, cured_by_off_ms, cured_at, wedged_at, configured, pid.
 * Times are uptimes (CLOCK_BOOTTIME, as /proc/uptime). Events go to stderr, one line each.
 *
 * Build: gcc -std=gnu11 -O2 -Wall -Wextra -Werror -pthread -o enumsim enumsim.c
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <linux/usb/ch11.h>
#include <linux/usb/ch9.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VHCI "/sys/devices/platform/vhci_hcd.0"
#define DEBUGFS "/sys/kernel/debug"
#define VENDOR 0x1209
#define PRODUCT 0x0001
#define SPEED_HIGH 3            /* enum usb_device_speed: USB_SPEED_HIGH */
#define MAX_OFFS 16
#define USBMON_WRAP_US (4096ULL * 1000000ULL)  /* usbmon's stamp: seconds mod 4096, in us */

/* Descriptors are little-endian; the static ones below are written for a little-endian host
 * (the test VM is x86-64). */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "enumsim's static descriptors assume a little-endian host"
#endif
#define LE16(x) ((uint16_t)(x))

/* USB/IP (Documentation/usb/usbip_protocol.rst): every PDU starts with this 48-byte header,
 * all fields big-endian except the setup packet, which is as on the wire. */
#define USBIP_CMD_SUBMIT 1
#define USBIP_CMD_UNLINK 2
#define USBIP_RET_SUBMIT 3
#define USBIP_RET_UNLINK 4
#define USBIP_DIR_OUT 0
#define USBIP_DIR_IN 1

struct usbip_header {
	uint32_t command;
	uint32_t seqnum;
	uint32_t devid;
	uint32_t direction;
	uint32_t ep;
	union {
		struct {
			uint32_t transfer_flags;
			int32_t transfer_buffer_length;
			int32_t start_frame;
			int32_t number_of_packets;
			int32_t interval;
			uint8_t setup[8];
		} __attribute__((packed)) submit;
		struct {
			int32_t status;
			int32_t actual_length;
			int32_t start_frame;
			int32_t number_of_packets;
			int32_t error_count;
			uint8_t padding[8];
		} __attribute__((packed)) ret_submit;
		struct {
			uint32_t seqnum;
			uint8_t padding[24];
		} __attribute__((packed)) unlink;
		struct {
			int32_t status;
			uint8_t padding[24];
		} __attribute__((packed)) ret_unlink;
	} u;
} __attribute__((packed));
_Static_assert(sizeof(struct usbip_header) == 48, "USB/IP headers are 48 bytes");

static const struct usb_device_descriptor device_desc = {
	.bLength = USB_DT_DEVICE_SIZE,
	.bDescriptorType = USB_DT_DEVICE,
	.bcdUSB = LE16(0x0200),
	.bDeviceClass = 0,
	.bDeviceSubClass = 0,
	.bDeviceProtocol = 0,
	.bMaxPacketSize0 = 64,
	.idVendor = LE16(VENDOR),
	.idProduct = LE16(PRODUCT),
	.bcdDevice = LE16(0x0100),
	.iManufacturer = 1,
	.iProduct = 2,
	.iSerialNumber = 3,
	.bNumConfigurations = 1,
};

static const struct {
	struct usb_config_descriptor config;
	struct usb_interface_descriptor intf;
} __attribute__((packed)) config_desc = {
	.config = {
		.bLength = USB_DT_CONFIG_SIZE,
		.bDescriptorType = USB_DT_CONFIG,
		.wTotalLength = LE16(USB_DT_CONFIG_SIZE + USB_DT_INTERFACE_SIZE),
		.bNumInterfaces = 1,
		.bConfigurationValue = 1,
		.iConfiguration = 0,
		.bmAttributes = USB_CONFIG_ATT_ONE,
		.bMaxPower = 50,        /* 100 mA */
	},
	.intf = {
		.bLength = USB_DT_INTERFACE_SIZE,
		.bDescriptorType = USB_DT_INTERFACE,
		.bInterfaceNumber = 0,
		.bAlternateSetting = 0,
		.bNumEndpoints = 0,
		.bInterfaceClass = USB_CLASS_VENDOR_SPEC,
		.bInterfaceSubClass = 0,
		.bInterfaceProtocol = 0,
		.iInterface = 0,
	},
};

static const char *const strings[] = { NULL, "usbrecover tests", "enumsim", "enumsim-1" };

/* Shared by the main thread (the USB/IP connection, signals) and the usbmon reader; `lock`
 * guards all of it. */
static struct {
	pthread_mutex_t lock;
	const char *state_path;
	bool quiet;
	unsigned vhci_port;     /* the number vhci_hcd's attach and detach take */
	unsigned rhport;        /* the root hub's port (1-based), as hub requests name it */
	int bus;                /* the USB 2.0 root hub's bus number */
	long hold_up_ms;

	bool wedged, stopped, lost;
	bool configured;
	unsigned long attaches, requests, failed, answered, stalled, unlinks;
	unsigned long power_offs, cures;
	long offs_ms[MAX_OFFS];
	unsigned noffs;
	long cured_by_off_ms;
	char cured_at[24], wedged_at[24];

	bool off_seen;          /* a ClearPortFeature(PORT_POWER) without its SetPortFeature yet */
	unsigned long long off_stamp;
	bool drained;           /* power came back after a cut longer than the hold-up time */
	long drained_off_ms;
	int wake[2];            /* the usbmon reader wakes the main thread here */
} S = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.hold_up_ms = 1000,
	.cured_by_off_ms = -1,
	.cured_at = "-",
	.wedged_at = "-",
	.wake = { -1, -1 },
};

static double uptime(void)
{
	struct timespec ts;
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
	dprintf(STDERR_FILENO, "enumsim: [%.3f] %s\n", uptime(), line);
}

static void stamp(char *dst, size_t n)
{
	snprintf(dst, n, "%.2f", uptime());
}

/* Rewrites the state file; called with the lock held. */
static void write_state(void)
{
	char tmp[PATH_MAX], offs[MAX_OFFS * 12 + 1] = "";
	size_t used = 0;
	for (unsigned i = 0; i < S.noffs; i++)
		used += (size_t)snprintf(offs + used, sizeof offs - used, "%s%ld", i ? " " : "",
					 S.offs_ms[i]);
	snprintf(tmp, sizeof tmp, "%s.tmp", S.state_path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		logmsg("cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	const char *state = S.lost ? "lost" : S.stopped ? "stopped" : S.wedged ? "wedged" : "healthy";
	fprintf(f,
		"state=%s\nbus=%d\nport_path=%d-%u\nvhci_port=%u\nattaches=%lu\nrequests=%lu\n"
		"failed=%lu\nanswered=%lu\nstalled=%lu\nunlinks=%lu\npower_offs=%lu\noffs_ms=%s\n"
		"cures=%lu\ncured_by_off_ms=%ld\ncured_at=%s\nwedged_at=%s\nconfigured=%d\n"
		"hold_up_ms=%ld\npid=%ld\n",
		state, S.bus, S.bus, S.rhport, S.vhci_port, S.attaches, S.requests, S.failed,
		S.answered, S.stalled, S.unlinks, S.power_offs, offs, S.cures, S.cured_by_off_ms,
		S.cured_at, S.wedged_at, S.configured, S.hold_up_ms, (long)getpid());
	if (fclose(f) != 0 || rename(tmp, S.state_path) != 0)
		logmsg("cannot replace %s: %s", S.state_path, strerror(errno));
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	int err = n < 0 ? errno : 0;
	close(fd);
	return n < 0 ? -err : 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -errno;
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* --- the root hub ---------------------------------------------------------------------------- */

/* vhci_hcd.0 has a USB 2.0 root hub (its primary HCD, ports 0..n-1 of `attach`) and a
 * SuperSpeed one; a high-speed device goes on the USB 2.0 one. Its bus number is whatever the
 * kernel gave it when the module loaded. */
static int find_bus(void)
{
	glob_t g;
	int bus = -1;
	if (glob(VHCI "/usb*/speed", 0, NULL, &g) != 0)
		return -1;
	for (size_t i = 0; i < g.gl_pathc && bus < 0; i++) {
		char speed[16] = "";
		FILE *f = fopen(g.gl_pathv[i], "r");
		if (!f)
			continue;
		if (!fgets(speed, sizeof speed, f))
			speed[0] = 0;
		fclose(f);
		if (strcmp(speed, "480\n") != 0)
			continue;
		const char *name = strstr(g.gl_pathv[i], "/usb") + 4;
		bus = atoi(name);
	}
	globfree(&g);
	return bus;
}

/* The port's status in vhci_hcd's `status` ("hs  0000 004 ..."): 4 is VDEV_ST_NULL, free. */
static int port_status(void)
{
	FILE *f = fopen(VHCI "/status", "r");
	if (!f)
		return -1;
	char line[256], hub[8];
	unsigned port, sta;
	int found = -1;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%7s %u %u", hub, &port, &sta) == 3 && port == S.vhci_port) {
			found = (int)sta;
			break;
		}
	}
	fclose(f);
	return found;
}

static bool wait_port_free(int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		if (port_status() == 4)
			return true;
		usleep(20 * 1000);
	}
	return false;
}

/* --- usbmon: the port's power, as the root hub is asked to switch it -------------------------- */

static void power_event(bool on, unsigned long long stamp_us)
{
	pthread_mutex_lock(&S.lock);
	if (!on) {
		if (!S.off_seen) {
			S.off_seen = true;
			S.off_stamp = stamp_us;
			if (!S.quiet)
				logmsg("port %d-%u: power off", S.bus, S.rhport);
		}
		pthread_mutex_unlock(&S.lock);
		return;
	}
	if (!S.off_seen) {
		pthread_mutex_unlock(&S.lock);
		return;         /* powered on while on: the hub driver's start-up, or a repeat */
	}
	S.off_seen = false;
	long ms = (long)(((stamp_us + USBMON_WRAP_US - S.off_stamp) % USBMON_WRAP_US) / 1000);
	S.power_offs++;
	if (S.noffs == MAX_OFFS) {
		memmove(S.offs_ms, S.offs_ms + 1, sizeof S.offs_ms[0] * (MAX_OFFS - 1));
		S.noffs--;
	}
	S.offs_ms[S.noffs++] = ms;
	bool drained = ms >= S.hold_up_ms;
	logmsg("port %d-%u: power on after %ld ms off: %s", S.bus, S.rhport, ms,
	       drained ? "longer than the hold-up time, the device drained"
		       : S.wedged ? "the device rode it out, still wedged" : "the device rode it out");
	if (drained) {
		S.drained = true;
		S.drained_off_ms = ms;
		char c = 'w';
		if (write(S.wake[1], &c, 1) < 0)
			logmsg("cannot wake the main thread: %s", strerror(errno));
	}
	write_state();
	pthread_mutex_unlock(&S.lock);
}

/* One usbmon text line ("u" format, Documentation/usb/usbmon.rst):
 *   TAG STAMP S Co:BUS:001:0 s 23 01 0008 0001 0000 0
 * A submission (S) of a control transfer out (Co) to the root hub (device 1, endpoint 0) with
 * bmRequestType 0x23 (class, other: a port), CLEAR_FEATURE (1) or SET_FEATURE (3), feature
 * PORT_POWER (8), wIndex the port. Root hub requests complete at once, so the submission's
 * stamp is when the port's power changed. */
static void usbmon_line(const char *line)
{
	unsigned long long ts;
	char ev, t0, t1;
	int bus, dev, ep;
	unsigned rt, req, value, index, length;
	if (sscanf(line, "%*s %llu %c %c%c:%d:%d:%d s %x %x %x %x %x", &ts, &ev, &t0, &t1, &bus,
		   &dev, &ep, &rt, &req, &value, &index, &length) != 12)
		return;
	if (ev != 'S' || t0 != 'C' || t1 != 'o' || bus != S.bus || dev != 1 || ep != 0)
		return;
	if (rt != 0x23 || value != USB_PORT_FEAT_POWER || (index & 0xff) != S.rhport)
		return;
	if (req == USB_REQ_CLEAR_FEATURE)
		power_event(false, ts);
	else if (req == USB_REQ_SET_FEATURE)
		power_event(true, ts);
}

static void *usbmon_reader(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[8192];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			logmsg("usbmon: %s; the port's power is no longer watched",
			       n == 0 ? "end of file" : strerror(errno));
			return NULL;
		}
		len += (size_t)n;
		buf[len] = 0;
		char *start = buf, *nl;
		while ((nl = strchr(start, '\n'))) {
			*nl = 0;
			usbmon_line(start);
			start = nl + 1;
		}
		len -= (size_t)(start - buf);
		memmove(buf, start, len);
		if (len == sizeof buf - 1)
			len = 0;        /* no line is that long */
	}
}

static int open_usbmon(void)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, DEBUGFS "/usb/usbmon/%du", S.bus);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* debugfs not mounted (systemd mounts it; a bare system may not) */
		if (mount("debugfs", DEBUGFS, "debugfs", 0, NULL) != 0 && errno != EBUSY)
			logmsg("cannot mount debugfs: %s", strerror(errno));
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		logmsg("cannot open %s: %s (usbmon loaded?)", path, strerror(errno));
	return fd;
}

/* --- the USB/IP connection ------------------------------------------------------------------- */

/* A socket pair: vhci_hcd takes one end (any SOCK_STREAM socket will do; usbip's tools hand it
 * a TCP connection), enumsim keeps the other. Returns enumsim's end. */
static int attach(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		logmsg("socketpair: %s", strerror(errno));
		return -1;
	}
	/* devid: what a server would send as busnum << 16 | devnum; vhci_hcd only echoes it. */
	char line[64];
	snprintf(line, sizeof line, "%u %d %u %u", S.vhci_port, sv[0], (1u << 16) | 2u, SPEED_HIGH);
	int rc = write_file(VHCI "/attach", line);
	close(sv[0]);           /* the kernel holds its own reference now */
	if (rc < 0) {
		logmsg("attach '%s': %s", line, strerror(-rc));
		close(sv[1]);
		return -1;
	}
	pthread_mutex_lock(&S.lock);
	S.attaches++;
	S.configured = false;
	logmsg("attached to vhci port %u (%d-%u), %s", S.vhci_port, S.bus, S.rhport,
	       S.wedged ? "wedged" : "healthy");
	write_state();
	pthread_mutex_unlock(&S.lock);
	return sv[1];
}

/* Ends the connection from our side and waits until the kernel has let go of the port. */
static void detach(int sock)
{
	char line[16];
	snprintf(line, sizeof line, "%u", S.vhci_port);
	int rc = write_file(VHCI "/detach", line);
	if (rc < 0)
		logmsg("detach %s: %s", line, strerror(-rc));
	/* vhci_hcd shuts its end down: read to the end so nothing it sent is left half read. */
	struct pollfd p = { .fd = sock, .events = POLLIN };
	char junk[4096];
	while (poll(&p, 1, 5000) > 0 && read(sock, junk, sizeof junk) > 0)
		;
	close(sock);
	if (!wait_port_free(5000))
		logmsg("vhci port %u still busy 5 s after detach", S.vhci_port);
}

static size_t string_desc(unsigned index, uint8_t *out, size_t size)
{
	if (index == 0) {
		const uint8_t langs[] = { 4, USB_DT_STRING, 0x09, 0x04 };       /* en-US */
		memcpy(out, langs, sizeof langs);
		return sizeof langs;
	}
	if (index >= sizeof strings / sizeof strings[0] || size < 2)
		return 0;
	size_t n = 2;
	for (const char *c = strings[index]; *c && n + 2 <= size && n + 2 <= 255; c++) {
		out[n++] = (uint8_t)*c;
		out[n++] = 0;
	}
	out[0] = (uint8_t)n;
	out[1] = USB_DT_STRING;
	return n;
}

/* A healthy device's answer to a control transfer on ep0: the status, and the data for IN. */
static int control(const struct usb_ctrlrequest *setup, uint8_t *data, size_t *len)
{
	uint8_t type = setup->bRequestType, req = setup->bRequest;
	uint16_t value = le16toh(setup->wValue);
	size_t want = le16toh(setup->wLength);
	size_t have = 0;
	uint8_t buf[256];

	if (type == (USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_DEVICE) &&
	    req == USB_REQ_GET_DESCRIPTOR) {
		switch (value >> 8) {
		case USB_DT_DEVICE:
			memcpy(buf, &device_desc, sizeof device_desc);
			have = sizeof device_desc;
			break;
		case USB_DT_CONFIG:
			if ((value & 0xff) != 0)
				return -EPIPE;
			memcpy(buf, &config_desc, sizeof config_desc);
			have = sizeof config_desc;
			break;
		case USB_DT_STRING:
			have = string_desc(value & 0xff, buf, sizeof buf);
			if (have == 0)
				return -EPIPE;
			break;
		default:        /* device qualifier, BOS, ...: none (a USB 2.0 device on one speed) */
			return -EPIPE;
		}
	} else if (type == (USB_DIR_OUT | USB_TYPE_STANDARD | USB_RECIP_DEVICE) &&
		   req == USB_REQ_SET_CONFIGURATION && value <= 1) {
		pthread_mutex_lock(&S.lock);
		S.configured = value == 1;
		pthread_mutex_unlock(&S.lock);
	} else if (type == (USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_DEVICE) &&
		   req == USB_REQ_GET_CONFIGURATION) {
		pthread_mutex_lock(&S.lock);
		buf[0] = S.configured;
		pthread_mutex_unlock(&S.lock);
		have = 1;
	} else if ((type & ~USB_RECIP_MASK) == (USB_DIR_IN | USB_TYPE_STANDARD) &&
		   req == USB_REQ_GET_STATUS) {
		buf[0] = buf[1] = 0;    /* bus powered, no remote wakeup, not halted */
		have = 2;
	} else if (type == (USB_DIR_OUT | USB_TYPE_STANDARD | USB_RECIP_INTERFACE) &&
		   req == USB_REQ_SET_INTERFACE && value == 0) {
		/* the one alternate setting */
	} else if ((type & ~USB_RECIP_MASK) == (USB_DIR_OUT | USB_TYPE_STANDARD) &&
		   (req == USB_REQ_CLEAR_FEATURE || req == USB_REQ_SET_FEATURE)) {
		/* remote wakeup, endpoint halt: nothing to keep */
	} else {
		return -EPIPE;
	}
	*len = have < want ? have : want;
	memcpy(data, buf, *len);
	return 0;
}

/* Answers one PDU. Returns false when the connection ended (vhci_hcd closed it, or it broke). */
static bool serve_one(int sock)
{
	struct usbip_header h;
	int rc = read_full(sock, &h, sizeof h);
	if (rc <= 0) {
		if (rc < 0)
			logmsg("reading from vhci_hcd: %s", strerror(-rc));
		return false;
	}
	uint32_t command = be32toh(h.command), seqnum = be32toh(h.seqnum);
	struct usbip_header r;
	memset(&r, 0, sizeof r);
	r.seqnum = htobe32(seqnum);

	if (command == USBIP_CMD_UNLINK) {
		/* Every submission is answered at once, so there is never one left to unlink: the
		 * answer an unlink gets after the submission's return is status 0. */
		pthread_mutex_lock(&S.lock);
		S.unlinks++;
		write_state();
		pthread_mutex_unlock(&S.lock);
		r.command = htobe32(USBIP_RET_UNLINK);
		r.u.ret_unlink.status = htobe32(0);
		return write_full(sock, &r, sizeof r) == 0;
	}
	if (command != USBIP_CMD_SUBMIT) {
		logmsg("unknown USB/IP command %u from vhci_hcd", command);
		return false;
	}
	uint32_t direction = be32toh(h.direction), ep = be32toh(h.ep);
	int32_t length = (int32_t)be32toh((uint32_t)h.u.submit.transfer_buffer_length);
	int32_t packets = (int32_t)be32toh((uint32_t)h.u.submit.number_of_packets);
	if (length < 0 || length > 65536) {
		logmsg("transfer of %d bytes from vhci_hcd", length);
		return false;
	}
	uint8_t out[65536];
	if (direction == USBIP_DIR_OUT && length > 0 && read_full(sock, out, (size_t)length) <= 0)
		return false;
	if (packets > 0) {
		/* Isochronous: this device has no such endpoint; the descriptors are read and the
		 * transfer refused. */
		uint8_t iso[16];
		for (int32_t i = 0; i < packets && i < 1024; i++)
			if (read_full(sock, iso, sizeof iso) <= 0)
				return false;
	}

	struct usb_ctrlrequest setup;
	memcpy(&setup, h.u.submit.setup, sizeof setup);
	uint8_t data[256];
	size_t actual = 0;
	int status;
	pthread_mutex_lock(&S.lock);
	bool wedged = S.wedged;
	S.requests++;
	pthread_mutex_unlock(&S.lock);
	if (wedged) {
		status = -EPROTO;
	} else if (ep != 0 || packets > 0) {
		status = -EPIPE;
	} else {
		status = control(&setup, data, &actual);
		if (direction != USBIP_DIR_IN || (int32_t)actual > length)
			actual = direction == USBIP_DIR_IN ? (size_t)length : 0;
	}
	pthread_mutex_lock(&S.lock);
	if (status == -EPROTO)
		S.failed++;
	else if (status == 0)
		S.answered++;
	else
		S.stalled++;
	if (!S.quiet || status != 0)
		logmsg("ep%u %02x %02x %04x %04x %u -> %s", ep, setup.bRequestType, setup.bRequest,
		       le16toh(setup.wValue), le16toh(setup.wIndex), le16toh(setup.wLength),
		       status == -EPROTO ? "-EPROTO (wedged)" : status == -EPIPE ? "stall" : "ok");
	write_state();
	pthread_mutex_unlock(&S.lock);

	r.command = htobe32(USBIP_RET_SUBMIT);
	r.u.ret_submit.status = (int32_t)htobe32((uint32_t)status);
	r.u.ret_submit.actual_length = (int32_t)htobe32((uint32_t)(status == 0 ? actual : 0));
	if (write_full(sock, &r, sizeof r) != 0)
		return false;
	if (status == 0 && direction == USBIP_DIR_IN && actual > 0 && write_full(sock, data, actual) != 0)
		return false;
	return true;
}

static void usage(void)
{
	fprintf(stderr, "usage: enumsim --state FILE [--port N] [--wedged] [--hold-up MS] [--quiet]\n");
	exit(64);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
			S.state_path = argv[++i];
		} else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			S.vhci_port = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--hold-up") == 0 && i + 1 < argc) {
			S.hold_up_ms = strtol(argv[++i], NULL, 10);
			if (S.hold_up_ms <= 0)
				usage();
		} else if (strcmp(argv[i], "--wedged") == 0) {
			S.wedged = true;
		} else if (strcmp(argv[i], "--quiet") == 0) {
			S.quiet = true;
		} else {
			usage();
		}
	}
	if (!S.state_path)
		usage();

	S.bus = find_bus();
	if (S.bus < 0) {
		logmsg("no USB 2.0 root hub under " VHCI " (vhci-hcd loaded?)");
		return 1;
	}
	/* The USB 2.0 root hub's ports are the first ones of vhci_hcd.0's numbering. */
	S.rhport = S.vhci_port + 1;
	if (port_status() != 4) {
		logmsg("vhci port %u is not free (status %d)", S.vhci_port, port_status());
		return 1;
	}
	if (pipe2(S.wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		logmsg("pipe: %s", strerror(errno));
		return 1;
	}
	int mon = open_usbmon();
	if (mon < 0)
		return 1;
	pthread_t reader;
	if (pthread_create(&reader, NULL, usbmon_reader, (void *)(intptr_t)mon) != 0) {
		logmsg("cannot start the usbmon reader");
		return 1;
	}
	pthread_detach(reader);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);

	pthread_mutex_lock(&S.lock);
	if (S.wedged)
		stamp(S.wedged_at, sizeof S.wedged_at);
	pthread_mutex_unlock(&S.lock);
	int sock = attach();
	if (sock < 0)
		return 1;

	int status = 0;
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = sock, .events = POLLIN },
			{ .fd = S.wake[0], .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			logmsg("poll: %s", strerror(errno));
			status = 1;
			break;
		}
		if (p[2].revents) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si && si.ssi_signo != SIGPIPE) {
				logmsg("signal %u: detaching", si.ssi_signo);
				detach(sock);
				break;
			}
		}
		if (p[1].revents) {
			char c[16];
			while (read(S.wake[0], c, sizeof c) > 0)
				;
			pthread_mutex_lock(&S.lock);
			bool drained = S.drained;
			long off_ms = S.drained_off_ms;
			S.drained = false;
			pthread_mutex_unlock(&S.lock);
			if (drained) {
				/* Power is back after a drain: the device starts from scratch, which the
				 * host sees as a disconnect and a new connection. */
				logmsg("power back after %ld ms off: disconnecting and connecting anew", off_ms);
				detach(sock);
				pthread_mutex_lock(&S.lock);
				if (S.wedged) {
					S.wedged = false;
					S.cures++;
					S.cured_by_off_ms = off_ms;
					stamp(S.cured_at, sizeof S.cured_at);
					logmsg("cured by %ld ms without power", off_ms);
				}
				pthread_mutex_unlock(&S.lock);
				sock = attach();
				if (sock < 0) {
					status = 1;
					pthread_mutex_lock(&S.lock);
					S.lost = true;
					write_state();
					pthread_mutex_unlock(&S.lock);
					break;
				}
				continue;
			}
		}
		if (p[0].revents && !serve_one(sock)) {
			/* vhci_hcd dropped the connection (someone detached the port, or it saw an
			 * error): the device is gone for good. */
			logmsg("vhci_hcd ended the connection");
			close(sock);
			status = 1;
			pthread_mutex_lock(&S.lock);
			S.lost = true;
			write_state();
			pthread_mutex_unlock(&S.lock);
			return status;
		}
	}
	pthread_mutex_lock(&S.lock);
	S.stopped = true;
	write_state();
	pthread_mutex_unlock(&S.lock);
	return status;
}
