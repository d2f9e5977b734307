// SPDX-License-Identifier: MIT
#include "snapshot/snapshot_reader.hpp"

#include <fcntl.h>
#include <libudev.h>
#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "properties.hpp"
#include "snapshot/descriptors.hpp"
#include "snapshot/mountinfo.hpp"
#include "snapshot/sysfs.hpp"

namespace usbrecover {

namespace {

/// Trims what the kernel pads attributes with ("version" is " 2.00\n").
std::string trimmed(std::string v) {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\n')) v.pop_back();
  const auto first = v.find_first_not_of(' ');
  return first == std::string::npos ? std::string() : v.substr(first);
}

/// A text attribute of the device at `syspath`, trimmed; empty when it is not there.
std::string attr(const std::string& syspath, const char* name) {
  auto v = sysfs::read_page(syspath + "/" + name);
  return v ? trimmed(std::move(*v)) : std::string();
}

unsigned parse_num(const std::string& s, int base, unsigned max) {
  unsigned v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v, base);
  return (r.ec == std::errc() && v <= max) ? v : 0;
}

/// The value of KEY in a uevent file's text ("KEY=value" lines), empty when absent.
std::string uevent_value(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == '=')
      return std::string(line.substr(key.size() + 1));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return {};
}

/// The name of what a symlink in `dir` points to ("driver" -> "usbhid"), empty when there is none.
std::string link_name(const std::string& dir, const char* link) {
  auto target = sysfs::read_link(dir + "/" + link);
  return target ? sysfs::basename(*target) : std::string();
}

/// The driver bound to the device at `syspath`: its `driver` link, else what its uevent says.
std::string driver_of(const std::string& syspath) {
  std::string d = link_name(syspath, "driver");
  if (!d.empty()) return d;
  return uevent_value(sysfs::read_page(syspath + "/uevent").value_or(""), "DRIVER");
}

struct UdevUnref {
  void operator()(udev* u) const { udev_unref(u); }
};

unsigned speed_mbps(const std::string& speed) {
  unsigned v = 0;
  std::from_chars(speed.data(), speed.data() + speed.size(), v);
  return v;
}

// The number of the port a device hangs on, from its name: "1-1.2" -> 2, "1-3" -> 3.
unsigned port_number_of(const std::string& sysname) {
  const auto sep = sysname.find_last_of(".-");
  return sep == std::string::npos ? 0 : parse_num(sysname.substr(sep + 1), 10, 255);
}

// The name of the device on port `n` of `hub`: "usb1" -> "1-n", "1-1" -> "1-1.n".
std::string child_sysname(const std::string& hub_sysname, unsigned n) {
  const std::string base = port_path_of(hub_sysname);
  if (base.ends_with("-0")) return base.substr(0, base.size() - 1) + std::to_string(n);
  return base + "." + std::to_string(n);
}

/// The prefix the sysfs names of every device below `hub` start with: "1-" below the root hub
/// "usb1", "1-1.2." below "1-1.2". USB names the topology, so no directory needs walking.
std::string below_prefix(const std::string& hub_sysname) {
  const std::string base = port_path_of(hub_sysname);
  if (base.ends_with("-0")) return base.substr(0, base.size() - 1);
  return base + ".";
}

bool below(const std::string& path, const std::string& ancestor) {
  return path.size() > ancestor.size() && path.starts_with(ancestor) && path[ancestor.size()] == '/';
}

bool at_or_below(const std::string& path, const std::string& ancestor) {
  return path == ancestor || below(path, ancestor);
}

Port read_port(const std::string& dir) {
  Port p;
  p.syspath = dir;
  const std::string name = sysfs::basename(dir);
  if (const auto at = name.rfind("-port"); at != std::string::npos) {
    p.number = parse_num(name.substr(at + 5), 10, 255);
  }
  if (auto v = sysfs::read_attr(dir + "/disable"); v && (*v == "0" || *v == "1")) p.disabled = *v == "1";
  if (auto target = sysfs::read_link(dir + "/peer")) p.peer_syspath = sysfs::resolve_link(dir, *target);
  p.connect_type = sysfs::read_attr(dir + "/connect_type").value_or("");
  return p;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Interfaces from the device's descriptors, for a device that has no interface directories
// (deauthorized, unconfigured): the alternate settings 0 of the active or first configuration.
void interfaces_from_descriptors(UsbDevice& d, const DescriptorSet& set, unsigned active) {
  const ConfigDescriptor* cfg = find_config(set, active);
  if (cfg == nullptr && !set.configs.empty()) cfg = &set.configs.front();
  if (cfg == nullptr) return;
  for (const auto& intf : cfg->interfaces) {
    if (intf.alternate != 0) continue;
    Interface i;
    i.sysname =
        port_path_of(d.sysname) + ":" + std::to_string(cfg->value) + "." + std::to_string(intf.number);
    i.number = intf.number;
    i.cls = intf.cls;
    i.subclass = intf.subclass;
    i.protocol = intf.protocol;
    i.endpoints = intf.endpoints;
    d.interfaces.push_back(std::move(i));
  }
}

/// The kernel's name of a block device node ("/dev/sdb1" -> "sdb1"; a /dev/mapper link resolves
/// to its dm-N), as it appears in sysfs.
std::string kernel_name(const std::string& node) {
  std::unique_ptr<char, decltype(&std::free)> real(::realpath(node.c_str(), nullptr), &std::free);
  return sysfs::basename(real ? std::string(real.get()) : node);
}

bool tty_name(const std::string& n) {
  return n.size() > 3 && n.starts_with("tty") && n.back() >= '0' && n.back() <= '9';
}

// The ttys below an interface: "ttyUSB0" for a USB-serial port, "tty/ttyACM0" for ACM.
std::vector<TtyPort> ttys_of(const std::string& interface_dir) {
  std::vector<TtyPort> out;
  for (const auto& n : sysfs::list_dir(interface_dir)) {
    if (tty_name(n)) out.push_back({n, {}});
    if (n == "tty") {
      for (const auto& t : sysfs::list_dir(interface_dir + "/tty"))
        if (tty_name(t)) out.push_back({t, {}});
    }
  }
  std::sort(out.begin(), out.end(), [](const TtyPort& a, const TtyPort& b) { return a.name < b.name; });
  return out;
}

struct BlockDevice {
  std::string syspath;
  unsigned major = 0;
  unsigned minor = 0;
};

}  // namespace

struct SnapshotReader::Impl {
  ReaderOptions options;

  /// The device at `syspath`: an Error naming it (with errno) when it is not there, "not a USB
  /// device" for anything else (an interface, a controller).
  Result<UsbDevice> read(const std::string& syspath) const;
  void read_interfaces(UsbDevice& out) const;
  /// A path into sysfs as the kernel names the device: links (/sys/bus/usb/devices/1-1.2,
  /// /sys/class/tty/ttyUSB0) resolved, no trailing slash.
  std::string canonical(const std::string& path) const;
  /// The sysfs names of every USB device (root hubs included, interfaces not), sorted.
  std::vector<std::string> usb_names() const;
  /// The names of the USB devices udev tagged (options.udev_tags); empty without the index.
  std::vector<std::string> tagged_usb_names() const;
  /// Whether udev's rules, as they were at the device's last event, name its ids (kTableIds):
  /// a tag stays with a device once given; the property goes when the table no longer names them.
  bool has_table_ids(const std::string& syspath) const;
  /// The USB devices whose names `keep` accepts, read.
  template <typename Keep>
  std::vector<UsbDevice> enumerate_usb(Keep keep) const;
  /// Every device below `hub` (a hub's children are subdirectories of it, named by port), read;
  /// what it costs grows with the subtree, not with the tree.
  void read_below(const UsbDevice& hub, std::vector<UsbDevice>& out, int depth = 0) const;
  /// Block devices at or below any of `scopes` (every one when `scopes` is empty), with the
  /// devices stacked on them.
  std::vector<BlockDevice> enumerate_block(const std::vector<std::string>& scopes) const;
  /// Adds the devices stacked on `block` (its holders, recursively), attributed to `owner`.
  void add_holders(const std::string& block, const std::string& owner, std::vector<BlockDevice>& out,
                   int depth) const;
  void attach_mounts(std::vector<UsbDevice*> devices, const std::vector<BlockDevice>& blocks) const;
  /// Fills in who holds each tty of `d` open, from /proc (what this process may see of it).
  void attach_tty_users(UsbDevice& d) const;
  /// The table entry udev matched for each device (USBRECOVER_NAME, USBRECOVER_SOURCE), from
  /// udev's database through libudev.
  void attach_table_entries(std::vector<UsbDevice>& devices) const;
};

void SnapshotReader::Impl::attach_tty_users(UsbDevice& d) const {
  std::vector<TtyPort*> ttys;
  for (auto& i : d.interfaces)
    for (auto& t : i.ttys) ttys.push_back(&t);
  for (const auto& pid : sysfs::list_dir(options.proc_root)) {
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string dir = options.proc_root + "/" + pid;
    std::string comm;
    for (const auto& fd : sysfs::list_dir(dir + "/fd")) {
      auto target = sysfs::read_link(dir + "/fd/" + fd);
      if (!target || !target->starts_with("/dev/")) continue;
      for (TtyPort* t : ttys) {
        if (sysfs::basename(*target) != t->name) continue;
        if (comm.empty()) comm = sysfs::read_attr(dir + "/comm").value_or("?");
        std::string user = comm + " (pid " + pid + ")";
        if (std::find(t->users.begin(), t->users.end(), user) == t->users.end()) t->users.push_back(user);
      }
    }
  }
}

Result<UsbDevice> SnapshotReader::Impl::read(const std::string& path) const {
  const std::string syspath = canonical(path);
  // The kernel writes a device's uevent as it reads it; umockdev keeps a file.
  auto text = sysfs::read_page(syspath + "/uevent");
  if (!text) return errno_error(path, "no such device");
  const std::string& uevent = *text;
  if (uevent_value(uevent, "DEVTYPE") != "usb_device") return Error{"", path, "not a USB device", 0};
  UsbDevice u;
  u.syspath = syspath;
  u.sysname = sysfs::basename(syspath);
  u.port_path = port_path_of(u.sysname);
  // As udev names it: DEVNAME below /dev.
  if (std::string name = uevent_value(uevent, "DEVNAME"); !name.empty())
    u.devnode = name.starts_with("/dev/") ? name : "/dev/" + name;
  u.busnum = parse_num(attr(syspath, "busnum"), 10, 999);
  u.devnum = parse_num(attr(syspath, "devnum"), 10, 127);
  u.vendor = static_cast<std::uint16_t>(parse_num(attr(syspath, "idVendor"), 16, 0xffff));
  u.product = static_cast<std::uint16_t>(parse_num(attr(syspath, "idProduct"), 16, 0xffff));
  u.manufacturer = attr(syspath, "manufacturer");
  u.product_name = attr(syspath, "product");
  u.serial = attr(syspath, "serial");
  u.speed = attr(syspath, "speed");
  u.version = attr(syspath, "version");
  u.device_class = static_cast<std::uint8_t>(parse_num(attr(syspath, "bDeviceClass"), 16, 0xff));
  u.authorized = attr(syspath, "authorized") != "0";
  u.is_hub = u.device_class == 9;
  u.is_root_hub = u.port_path.ends_with("-0");
  u.driver = uevent_value(uevent, "DRIVER");
  if (u.driver.empty()) u.driver = link_name(syspath, "driver");
  read_interfaces(u);
  return u;
}

void SnapshotReader::Impl::read_interfaces(UsbDevice& u) const {
  std::optional<DescriptorSet> descriptors;
  // A device-supplied blob; a parse failure only costs us the endpoints, so it is not an error.
  if (auto blob = sysfs::read_file(u.syspath + "/descriptors", 256 * 1024)) {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(blob->data());
    auto parsed = parse_descriptors(std::span<const std::uint8_t>(bytes, blob->size()));
    if (parsed) descriptors = std::move(*parsed);
  }
  const unsigned active = parse_num(attr(u.syspath, "bConfigurationValue"), 10, 255);
  const ConfigDescriptor* cfg = descriptors ? find_config(*descriptors, active) : nullptr;

  const std::string prefix = u.port_path + ":";
  for (const auto& name : sysfs::list_dir(u.syspath)) {
    if (!name.starts_with(prefix)) continue;
    const std::string path = u.syspath + "/" + name;
    Interface i;
    i.sysname = name;
    i.number = static_cast<std::uint8_t>(parse_num(attr(path, "bInterfaceNumber"), 16, 0xff));
    i.cls = static_cast<std::uint8_t>(parse_num(attr(path, "bInterfaceClass"), 16, 0xff));
    i.subclass = static_cast<std::uint8_t>(parse_num(attr(path, "bInterfaceSubClass"), 16, 0xff));
    i.protocol = static_cast<std::uint8_t>(parse_num(attr(path, "bInterfaceProtocol"), 16, 0xff));
    i.driver = driver_of(path);
    const unsigned alt = parse_num(attr(path, "bAlternateSetting"), 10, 255);
    if (cfg != nullptr) {
      for (const auto& desc : cfg->interfaces) {
        if (desc.number == i.number && desc.alternate == alt) i.endpoints = desc.endpoints;
      }
    }
    i.ttys = ttys_of(path);
    u.interfaces.push_back(std::move(i));
  }
  if (u.interfaces.empty() && descriptors) interfaces_from_descriptors(u, *descriptors, active);
}

std::string SnapshotReader::Impl::canonical(const std::string& path) const {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const std::string devices = options.sysfs_root + "/devices/";
  // Below /sys/devices nothing is a link; /sys/bus/*/devices/X and /sys/class/*/X are links to
  // there. Anything else goes through realpath(3).
  for (int hops = 0; hops < 8 && !p.starts_with(devices); ++hops) {
    auto target = sysfs::read_link(p);
    if (!target) {
      std::unique_ptr<char, decltype(&std::free)> real(::realpath(p.c_str(), nullptr), &std::free);
      return real ? std::string(real.get()) : p;
    }
    p = sysfs::resolve_link(sysfs::dirname(p), *target);
  }
  return p;
}

std::vector<std::string> SnapshotReader::Impl::usb_names() const {
  std::vector<std::string> out;
  for (auto& name : sysfs::list_dir(options.sysfs_root + "/bus/usb/devices")) {
    if (name.find(':') == std::string::npos) out.push_back(std::move(name));
  }
  return out;
}

std::vector<std::string> SnapshotReader::Impl::tagged_usb_names() const {
  std::vector<std::string> out;
  // udev names a device with a node by its node's numbers: "c189:N" for a USB device. Anything
  // else in the directory (another program's device with the same tag) is not ours to read.
  constexpr std::string_view kUsbDevice = "c189:";
  for (const auto& id : sysfs::list_dir(options.udev_tags)) {
    if (!id.starts_with(kUsbDevice) || id.size() == kUsbDevice.size() || id.size() > kUsbDevice.size() + 7 ||
        id.find_first_not_of("0123456789", kUsbDevice.size()) != std::string::npos)
      continue;
    auto target = sysfs::read_link(options.sysfs_root + "/dev/char/" + id.substr(1));
    if (!target) continue;  // gone since udev tagged it
    std::string name = sysfs::basename(*target);
    if (!name.empty() && name.find(':') == std::string::npos) out.push_back(std::move(name));
  }
  return out;
}

bool SnapshotReader::Impl::has_table_ids(const std::string& syspath) const {
  std::unique_ptr<udev, UdevUnref> ctx(udev_new());
  if (!ctx) return false;
  udev_device* dev = udev_device_new_from_syspath(ctx.get(), syspath.c_str());
  if (dev == nullptr) return false;
  const char* v = udev_device_get_property_value(dev, prop::kTableIds);
  const bool yes = v != nullptr && std::string_view(v) == "1";
  udev_device_unref(dev);
  return yes;
}

template <typename Keep>
std::vector<UsbDevice> SnapshotReader::Impl::enumerate_usb(Keep keep) const {
  std::vector<UsbDevice> out;
  const std::string dir = options.sysfs_root + "/bus/usb/devices/";
  for (const auto& name : usb_names()) {
    if (!keep(name)) continue;
    if (auto d = read(dir + name)) out.push_back(std::move(*d));
  }
  return out;
}

void SnapshotReader::Impl::read_below(const UsbDevice& hub, std::vector<UsbDevice>& out, int depth) const {
  if (depth >= 8) return;  // USB allows five tiers of hubs; a loop in sysfs must not loop here
  const std::string prefix = below_prefix(hub.sysname);
  for (const auto& name : sysfs::list_dir(hub.syspath)) {
    // "1-1.2" below "1-1", not its interfaces ("1-1:1.0") or attributes.
    if (!name.starts_with(prefix) || name.size() == prefix.size() ||
        name.find_first_not_of("0123456789", prefix.size()) != std::string::npos)
      continue;
    auto d = read(hub.syspath + "/" + name);
    if (!d) continue;
    out.push_back(std::move(*d));
    if (out.back().is_hub) {
      const UsbDevice child = out.back();
      read_below(child, out, depth + 1);
    }
  }
}

void SnapshotReader::Impl::add_holders(const std::string& block, const std::string& owner,
                                       std::vector<BlockDevice>& out, int depth) const {
  if (depth >= 8) return;  // stacks are shallow; a loop in sysfs must not loop here
  const std::string dir = block + "/holders";
  for (const std::string& name : sysfs::list_dir(dir)) {
    auto link = sysfs::read_link(dir + "/" + name);
    if (!link) continue;
    const std::string holder = sysfs::resolve_link(dir, *link);
    auto dev = sysfs::read_attr(holder + "/dev");
    unsigned maj = 0, min = 0;
    if (!dev || std::sscanf(dev->c_str(), "%u:%u", &maj, &min) != 2) continue;
    out.push_back({owner, maj, min});
    add_holders(holder, owner, out, depth + 1);
  }
}

std::vector<BlockDevice> SnapshotReader::Impl::enumerate_block(const std::vector<std::string>& scopes) const {
  std::vector<BlockDevice> out;
  // Every block device, disks and partitions, is a link in /sys/class/block: one readlink each
  // says where it is, however large the USB tree.
  const std::string dir = options.sysfs_root + "/class/block";
  for (const auto& name : sysfs::list_dir(dir)) {
    auto target = sysfs::read_link(dir + "/" + name);
    if (!target) continue;
    const std::string path = sysfs::resolve_link(dir, *target);
    if (!scopes.empty() && std::none_of(scopes.begin(), scopes.end(),
                                        [&](const std::string& s) { return at_or_below(path, s); }))
      continue;
    unsigned maj = 0, min = 0;
    auto dev = sysfs::read_attr(path + "/dev");
    if (!dev || std::sscanf(dev->c_str(), "%u:%u", &maj, &min) != 2) continue;
    out.push_back({path, maj, min});
    // A filesystem may sit on a device stacked over this one (LVM, LUKS, md): its number is
    // found through `holders`, and its mounts count as this device's.
    add_holders(path, path, out, 0);
  }
  return out;
}

void SnapshotReader::Impl::attach_mounts(std::vector<UsbDevice*> devices,
                                         const std::vector<BlockDevice>& blocks) const {
  if (blocks.empty()) return;
  // No mountinfo or swaps (a container without /proc): nothing known to be in use.
  const auto text = sysfs::read_file(options.mountinfo, 4 * 1024 * 1024);
  const MountTable table = text ? parse_mountinfo(*text) : MountTable{};

  // A btrfs filesystem has an anonymous device number: it is on the disk it was mounted from and
  // on every other member device of the same filesystem.
  std::vector<std::pair<std::vector<std::string>, std::string>> btrfs;  // member names, mount point
  for (const auto& m : text ? parse_btrfs_mounts(*text) : std::vector<BtrfsMount>{}) {
    const std::string name = kernel_name(m.source);
    for (const auto& fsid : sysfs::list_dir(options.btrfs_root)) {
      const std::string members = options.btrfs_root + "/" + fsid + "/devices";
      if (!exists(members + "/" + name)) continue;
      btrfs.emplace_back(sysfs::list_dir(members), m.mount_point);
      break;
    }
  }
  std::vector<std::string> swaps;
  if (auto t = sysfs::read_file(options.swaps, 1024 * 1024)) {
    for (const auto& dev : parse_swaps(*t)) swaps.push_back(kernel_name(dev));
  }

  for (UsbDevice* d : devices) {
    d->mounts.clear();
    auto add = [d](const std::string& m) {
      if (std::find(d->mounts.begin(), d->mounts.end(), m) == d->mounts.end()) d->mounts.push_back(m);
    };
    for (const auto& b : blocks) {
      if (!below(b.syspath, d->syspath)) continue;
      if (const auto it = table.find({b.major, b.minor}); it != table.end()) {
        for (const auto& m : it->second) add(m);
      }
      const std::string name = sysfs::basename(b.syspath);
      for (const auto& [members, mount_point] : btrfs) {
        if (std::find(members.begin(), members.end(), name) != members.end()) add(mount_point);
      }
      if (std::find(swaps.begin(), swaps.end(), name) != swaps.end()) add(kSwapMount);
    }
  }
}

void SnapshotReader::Impl::attach_table_entries(std::vector<UsbDevice>& devices) const {
  std::unique_ptr<udev, UdevUnref> ctx(udev_new());
  if (!ctx) return;
  for (UsbDevice& d : devices) {
    udev_device* dev = udev_device_new_from_syspath(ctx.get(), d.syspath.c_str());
    if (dev == nullptr) continue;
    auto value = [dev](const char* key) {
      const char* v = udev_device_get_property_value(dev, key);
      return v != nullptr ? std::string(v) : std::string();
    };
    d.table_name = value(prop::kName);
    d.table_source = value(prop::kSource);
    udev_device_unref(dev);
  }
}

Result<SnapshotReader> SnapshotReader::open(ReaderOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  return SnapshotReader(std::move(impl));
}

SnapshotReader::SnapshotReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SnapshotReader::SnapshotReader(SnapshotReader&&) noexcept = default;
SnapshotReader& SnapshotReader::operator=(SnapshotReader&&) noexcept = default;
SnapshotReader::~SnapshotReader() = default;

std::string SnapshotReader::usbfs_node(const UsbDevice& d) const {
  const std::string& root = impl_->options.dev_root;
  if (!d.devnode.empty()) return d.devnode.starts_with("/dev/") ? root + d.devnode.substr(4) : d.devnode;
  char buf[32];
  std::snprintf(buf, sizeof buf, "/bus/usb/%03u/%03u", d.busnum, d.devnum);
  return root + buf;
}

Hub SnapshotReader::hub(const UsbDevice& hub_device) {
  Hub h;
  h.device = hub_device;
  h.superspeed = speed_mbps(hub_device.speed) >= 5000;
  const std::string node = usbfs_node(hub_device);
  const int fd = ::open(node.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    h.descriptor_error = "cannot open '" + node + "': " + std::strerror(errno);
    return h;
  }
  std::uint8_t buf[71] = {};  // 7 fixed bytes + two 32-byte port bitmaps for 255 ports
  usbdevfs_ctrltransfer ct{};
  ct.bRequestType = 0xa0;  // device-to-host, class, device
  ct.bRequest = 6;         // GET_DESCRIPTOR
  ct.wValue = static_cast<std::uint16_t>((h.superspeed ? kDtSsHub : kDtHub) << 8);
  ct.wIndex = 0;
  ct.wLength = sizeof buf;
  ct.timeout = static_cast<std::uint32_t>(impl_->options.control_timeout.count());
  ct.data = buf;
  int n = 0;
  do {
    n = ::ioctl(fd, USBDEVFS_CONTROL, &ct);
  } while (n < 0 && errno == EINTR);
  const int err = errno;
  ::close(fd);
  if (n < 0) {
    h.descriptor_error = "hub descriptor request on '" + node + "' failed: " + std::strerror(err);
    return h;
  }
  const auto len = std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf);
  auto desc = parse_hub_descriptor(std::span<const std::uint8_t>(buf, len));
  if (!desc) {
    h.descriptor_error = desc.error().reason;
    return h;
  }
  h.nports = desc->nports;
  h.switching = desc->switching;
  h.power_on_to_good_ms = desc->power_on_to_good_ms;
  h.superspeed = desc->superspeed;
  return h;
}

std::vector<Port> SnapshotReader::ports(const UsbDevice& hub_device) {
  std::vector<Port> out;
  const std::string intf_prefix = hub_device.port_path + ":";
  const std::string port_prefix = hub_device.sysname + "-port";
  for (const auto& intf : sysfs::list_dir(hub_device.syspath)) {
    if (!intf.starts_with(intf_prefix)) continue;
    const std::string dir = hub_device.syspath + "/" + intf;
    for (const auto& name : sysfs::list_dir(dir)) {
      if (name.starts_with(port_prefix) && parse_num(name.substr(port_prefix.size()), 10, 255) > 0) {
        out.push_back(read_port(dir + "/" + name));
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Port& a, const Port& b) { return a.number < b.number; });
  return out;
}

Result<Controller> SnapshotReader::controller(const UsbDevice& device) {
  // Up from the device past everything of the usb subsystem: the root hub's parent.
  const std::string& root = impl_->options.sysfs_root;
  std::string p = device.syspath;
  while (below(p, root) && link_name(p, "subsystem") == "usb") p = sysfs::dirname(p);
  if (!below(p, root + "/devices") || link_name(p, "subsystem").empty())
    return Error{"", device.syspath, "no host controller above the root hub", 0};
  Controller c;
  c.syspath = p;
  c.name = sysfs::basename(p);
  c.subsystem = link_name(p, "subsystem");
  c.driver = driver_of(p);
  for (const auto& name : sysfs::list_dir(c.syspath)) {
    if (name.size() > 3 && name.starts_with("usb")) {
      if (const unsigned bus = parse_num(name.substr(3), 10, 999); bus > 0) c.buses.push_back(bus);
    }
  }
  std::sort(c.buses.begin(), c.buses.end());
  return c;
}

Result<UsbDevice> SnapshotReader::device(const std::string& syspath) {
  return impl_->read(syspath);
}

Result<std::optional<UsbDevice>> SnapshotReader::usb_device_above(const std::string& subsystem,
                                                                  const std::string& sysname) {
  const std::string link = impl_->options.sysfs_root + "/class/" + subsystem + "/" + sysname;
  auto target = sysfs::read_link(link);
  if (!target) return errno_error(subsystem + " device " + sysname, "no such device");
  const std::string devices = impl_->options.sysfs_root + "/devices";
  // Up from the class device to the first USB device (a tty's interface's device).
  for (std::string p = sysfs::dirname(sysfs::resolve_link(sysfs::dirname(link), *target)); below(p, devices);
       p = sysfs::dirname(p)) {
    auto uevent = sysfs::read_page(p + "/uevent");
    if (!uevent || uevent_value(*uevent, "DEVTYPE") != "usb_device") continue;
    auto u = device(p);
    if (!u) return u.error();
    return std::optional<UsbDevice>(std::move(*u));
  }
  return std::optional<UsbDevice>{};
}

Result<std::vector<UsbDevice>> SnapshotReader::all_devices(const DeviceFilter& filter) {
  const std::string dir = impl_->options.sysfs_root + "/bus/usb/devices/";
  // Ids filter in the enumeration: two small reads per device, and only the devices that match
  // are read whole.
  auto keep = [&](const std::string& name) {
    if (!filter.vendor) return true;
    const auto vendor = parse_num(attr(dir + name, "idVendor"), 16, 0xffff);
    if (vendor != *filter.vendor) return false;
    return !filter.product || parse_num(attr(dir + name, "idProduct"), 16, 0xffff) == *filter.product;
  };
  std::vector<UsbDevice> devices;
  bool from_index = false;
  // Exact ids only: the rules tag every device with the ids an entry names, not every device of
  // the vendor. One device there that the current rules tagged means all its twins are there.
  if (filter.vendor && filter.product) {
    for (const auto& name : impl_->tagged_usb_names()) {
      if (!keep(name)) continue;
      if (auto d = impl_->read(dir + name)) {
        from_index = from_index || impl_->has_table_ids(d->syspath);
        devices.push_back(std::move(*d));
      }
    }
  }
  if (!from_index) devices = impl_->enumerate_usb(keep);
  if (filter.mounts) {
    std::vector<UsbDevice*> ptrs;
    std::vector<std::string> scopes;
    for (auto& d : devices) {
      ptrs.push_back(&d);
      scopes.push_back(d.syspath);
    }
    // Every block device when every USB device was read; only those below the ones read else.
    if (filter.vendor) {
      if (!scopes.empty()) impl_->attach_mounts(ptrs, impl_->enumerate_block(scopes));
    } else {
      impl_->attach_mounts(ptrs, impl_->enumerate_block({}));
    }
  }
  if (filter.table_entries) impl_->attach_table_entries(devices);
  sort_devices(devices);
  return devices;
}

Result<Snapshot> SnapshotReader::snapshot(const std::string& syspath, SnapshotScope scope_kind) {
  auto dev = impl_->read(syspath);
  if (!dev) return dev.error();
  return snapshot(std::move(*dev), scope_kind);
}

Result<Snapshot> SnapshotReader::snapshot(UsbDevice device, SnapshotScope scope_kind) {
  const std::string syspath = device.syspath;
  Snapshot s;
  s.device = std::move(device);
  // A reset of a multi-port serial adapter drops every one of its ttys: who uses them matters.
  std::size_t ttys = 0;
  for (const auto& i : s.device.interfaces) ttys += i.ttys.size();
  if (ttys >= 2) impl_->attach_tty_users(s.device);

  if (!s.device.is_root_hub) {
    auto parent = impl_->read(sysfs::dirname(s.device.syspath));
    if (!parent) return Error{"", syspath, "USB device without a parent hub", 0};
    if (scope_kind == SnapshotScope::Device) {
      // The methods that act on the device alone ask nothing of its hub but its speed.
      Hub h;
      h.device = std::move(*parent);
      h.superspeed = speed_mbps(h.device.speed) >= 5000;
      h.descriptor_error = "not read: the method acts on the device alone";
      s.hub = std::move(h);
    } else {
      s.hub = hub(*parent);
    }
    const unsigned number = port_number_of(s.device.sysname);
    // The device's "port" link names its port; without it, find "<hub>-portN" by name.
    Port port{"", number, std::nullopt, "", ""};
    if (auto link = sysfs::read_link(s.device.syspath + "/port")) {
      port = read_port(sysfs::resolve_link(s.device.syspath, *link));
    } else {
      for (const auto& p : ports(s.hub->device)) {
        if (p.number == number) port = p;
      }
    }
    if (!port.syspath.empty() && !exists(port.syspath)) port = Port{"", number, std::nullopt, "", ""};
    s.port = std::move(port);
  }
  if (scope_kind != SnapshotScope::Device) {
    auto ctrl = controller(s.device);
    if (!ctrl) return ctrl.error();
    s.controller = std::move(*ctrl);
  }
  if (auto st = surround(s, scope_kind); !st) return st.error();
  return s;
}

Result<Snapshot> SnapshotReader::port_snapshot(const std::string& hub_syspath, unsigned number,
                                               SnapshotScope scope_kind) {
  auto h = impl_->read(hub_syspath);
  if (!h) {
    Error e = h.error();
    if (e.reason == "no such device") e.reason = "no such hub";
    return e;
  }
  Snapshot s;
  s.device_present = false;
  s.hub = hub(*h);
  const UsbDevice& hd = s.hub->device;
  s.device.sysname = child_sysname(hd.sysname, number);
  s.device.port_path = s.device.sysname;
  s.device.syspath = hd.syspath + "/" + s.device.sysname;
  s.device.busnum = hd.busnum;
  for (auto& p : ports(hd)) {
    if (p.number == number) s.port = std::move(p);
  }
  if (!s.port) return Error{"", hd.sysname, "has no port " + std::to_string(number), 0};
  auto ctrl = controller(hd);
  if (!ctrl) return ctrl.error();
  s.controller = std::move(*ctrl);
  // Nothing is there to act on alone: the port's own methods need the hub.
  if (auto st = surround(s, scope_kind == SnapshotScope::Device ? SnapshotScope::Hub : scope_kind); !st)
    return st.error();
  return s;
}

Result<Snapshot> SnapshotReader::dead_controller_snapshot(const std::string& port_path) {
  const auto dash = port_path.find('-');
  if (!hub_of_port_path(port_path) || dash == std::string::npos)
    return Error{"", port_path, "is not a port path", 0};
  auto root = impl_->read(impl_->options.sysfs_root + "/bus/usb/devices/usb" + port_path.substr(0, dash));
  if (!root) return root.error();
  Snapshot s;
  s.device_present = false;
  s.device.sysname = port_path;
  s.device.port_path = port_path;
  s.device.busnum = root->busnum;
  // Where the device's directory will be again: one level per tier ("usb1/1-1/1-1.2").
  s.device.syspath = root->syspath;
  for (std::size_t dot = dash; dot != std::string::npos; dot = port_path.find('.', dot + 1))
    s.device.syspath += "/" + port_path.substr(0, port_path.find('.', dot + 1));
  auto ctrl = controller(*root);
  if (!ctrl) return ctrl.error();
  s.controller = std::move(*ctrl);
  if (auto st = surround(s, SnapshotScope::Controller); !st) return st.error();
  return s;
}

Status SnapshotReader::surround(Snapshot& s, SnapshotScope scope_kind) {
  std::string own_port_subtree;   // devices powered through the same port as this one
  std::string peer_port_subtree;  // the USB3/USB2 peer of that port
  if (s.hub && s.port && scope_kind != SnapshotScope::Device) {
    own_port_subtree = s.device.syspath;
    const Port& port = *s.port;
    if (!port.peer_syspath.empty()) {
      const std::string peer_hub_path = sysfs::dirname(sysfs::dirname(port.peer_syspath));
      if (auto ph = impl_->read(peer_hub_path)) {
        s.peer_hub = hub(*ph);
        const Port peer = read_port(port.peer_syspath);
        peer_port_subtree = peer_hub_path + "/" + child_sysname(s.peer_hub->device.sysname, peer.number);
      }
    }
  }

  // The devices to read: the controller's buses, by name; the parent hub's (and its peer's)
  // subtree, or for a method on the device alone, the device's own subtree, down from the hub.
  s.controller_devices_read = scope_kind == SnapshotScope::Controller || !s.hub;
  std::vector<std::string> prefixes;  // of the sysfs names to read
  std::vector<std::string> scopes;    // the syspaths those devices are below, for block devices
  std::vector<UsbDevice> around;
  if (s.controller_devices_read) {
    if (s.controller.syspath.empty()) {
      auto ctrl = controller(s.device);
      if (!ctrl) return ctrl.error();
      s.controller = std::move(*ctrl);
    }
    for (unsigned bus : s.controller.buses) {
      prefixes.push_back("usb" + std::to_string(bus));
      prefixes.push_back(std::to_string(bus) + "-");
    }
    scopes.push_back(s.controller.syspath);
  } else if (scope_kind == SnapshotScope::Device) {
    if (s.device.is_hub) impl_->read_below(s.device, around);
    scopes.push_back(s.device.syspath);
  } else {
    impl_->read_below(s.hub->device, around);
    scopes.push_back(s.hub->device.syspath);
    if (s.peer_hub) {
      impl_->read_below(s.peer_hub->device, around);
      scopes.push_back(s.peer_hub->device.syspath);
    }
  }
  if (!prefixes.empty()) {
    around = impl_->enumerate_usb([&](const std::string& name) {
      return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) {
        return p.ends_with('-') ? name.starts_with(p) : name == p;  // "N-…" below "usbN"
      });
    });
  }
  const std::vector<BlockDevice> blocks = impl_->enumerate_block(scopes);

  for (auto& u : around) {
    if (u.is_root_hub || u.syspath == s.device.syspath) continue;
    const bool under_hub = s.hub && below(u.syspath, s.hub->device.syspath);
    const bool under_peer = s.peer_hub && below(u.syspath, s.peer_hub->device.syspath);
    if (under_hub || under_peer) {
      s.hub_siblings.push_back(u);
      const bool own_port = !own_port_subtree.empty() && at_or_below(u.syspath, own_port_subtree);
      const bool peer_port = !peer_port_subtree.empty() && at_or_below(u.syspath, peer_port_subtree);
      // Per-port switching shares the switch with the peer port only; otherwise (ganged, no
      // switching, or unknown) assume the worst: every other port of the hub.
      const bool per_port = s.hub->switching == PowerSwitching::PerPort;
      if (scope_kind != SnapshotScope::Device && !own_port && (per_port ? peer_port : true))
        s.gang_siblings.push_back(u);
    }
    if (s.controller_devices_read) s.controller_devices.push_back(std::move(u));
  }

  std::vector<UsbDevice*> all;
  if (s.device_present) all.push_back(&s.device);
  if (s.hub) all.push_back(&s.hub->device);
  if (s.peer_hub) all.push_back(&s.peer_hub->device);
  for (auto* list : {&s.hub_siblings, &s.gang_siblings, &s.controller_devices}) {
    for (auto& u : *list) all.push_back(&u);
  }
  impl_->attach_mounts(all, blocks);
  sort_devices(s.hub_siblings);
  sort_devices(s.gang_siblings);
  sort_devices(s.controller_devices);
  return Ok{};
}

void sort_devices(std::vector<UsbDevice>& devices) {
  auto key = [](const UsbDevice& d) {
    std::vector<unsigned> k{d.busnum};
    const auto dash = d.port_path.find('-');
    if (dash == std::string::npos) return k;
    std::string_view rest = std::string_view(d.port_path).substr(dash + 1);
    while (!rest.empty()) {
      const auto dot = rest.find('.');
      unsigned v = 0;
      std::from_chars(rest.data(), rest.data() + (dot == std::string_view::npos ? rest.size() : dot), v);
      k.push_back(v);
      if (dot == std::string_view::npos) break;
      rest = rest.substr(dot + 1);
    }
    return k;
  };
  std::stable_sort(devices.begin(), devices.end(),
                   [&key](const UsbDevice& a, const UsbDevice& b) { return key(a) < key(b); });
}

}  // namespace usbrecover
