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

struct UdevUnref {
  void operator()(udev* u) const { udev_unref(u); }
};
struct DeviceUnref {
  void operator()(udev_device* d) const { udev_device_unref(d); }
};
struct EnumerateUnref {
  void operator()(udev_enumerate* e) const { udev_enumerate_unref(e); }
};
using UdevPtr = std::unique_ptr<udev, UdevUnref>;
using DevicePtr = std::unique_ptr<udev_device, DeviceUnref>;
using EnumeratePtr = std::unique_ptr<udev_enumerate, EnumerateUnref>;

std::string str(const char* s) {
  return s != nullptr ? std::string(s) : std::string();
}

std::string attr(udev_device* d, const char* name) {
  std::string v = str(udev_device_get_sysattr_value(d, name));
  while (!v.empty() && (v.back() == ' ' || v.back() == '\n')) v.pop_back();
  const auto first = v.find_first_not_of(' ');
  return first == std::string::npos ? std::string() : v.substr(first);  // "version" is " 2.00"
}

unsigned parse_num(const std::string& s, int base, unsigned max) {
  unsigned v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v, base);
  return (r.ec == std::errc() && v <= max) ? v : 0;
}

bool is_usb_device(udev_device* d) {
  return str(udev_device_get_subsystem(d)) == "usb" && str(udev_device_get_devtype(d)) == "usb_device";
}

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
  UdevPtr udev;

  DevicePtr device_at(const std::string& syspath) const {
    return DevicePtr(udev_device_new_from_syspath(udev.get(), syspath.c_str()));
  }

  UsbDevice read(udev_device* d) const;
  void read_interfaces(udev_device* d, UsbDevice& out) const;
  // USB devices (not interfaces) below `scope`, or everywhere when scope is null.
  std::vector<UsbDevice> enumerate_usb(udev_device* scope) const;
  std::vector<BlockDevice> enumerate_block(udev_device* scope) const;
  /// Adds the devices stacked on `block` (its holders, recursively), attributed to `owner`.
  void add_holders(const std::string& block, const std::string& owner, std::vector<BlockDevice>& out,
                   int depth) const;
  void attach_mounts(std::vector<UsbDevice*> devices, const std::vector<BlockDevice>& blocks) const;
  /// Fills in who holds each tty of `d` open, from /proc (what this process may see of it).
  void attach_tty_users(UsbDevice& d) const;
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

UsbDevice SnapshotReader::Impl::read(udev_device* d) const {
  UsbDevice u;
  u.syspath = str(udev_device_get_syspath(d));
  u.sysname = str(udev_device_get_sysname(d));
  u.port_path = port_path_of(u.sysname);
  u.devnode = str(udev_device_get_devnode(d));
  u.busnum = parse_num(attr(d, "busnum"), 10, 999);
  u.devnum = parse_num(attr(d, "devnum"), 10, 127);
  u.vendor = static_cast<std::uint16_t>(parse_num(attr(d, "idVendor"), 16, 0xffff));
  u.product = static_cast<std::uint16_t>(parse_num(attr(d, "idProduct"), 16, 0xffff));
  u.manufacturer = attr(d, "manufacturer");
  u.product_name = attr(d, "product");
  u.serial = attr(d, "serial");
  u.speed = attr(d, "speed");
  u.version = attr(d, "version");
  u.device_class = static_cast<std::uint8_t>(parse_num(attr(d, "bDeviceClass"), 16, 0xff));
  u.authorized = attr(d, "authorized") != "0";
  u.is_hub = u.device_class == 9;
  u.is_root_hub = u.port_path.ends_with("-0");
  u.driver = str(udev_device_get_driver(d));
  u.table_name = str(udev_device_get_property_value(d, prop::kName));
  u.table_source = str(udev_device_get_property_value(d, prop::kSource));
  read_interfaces(d, u);
  return u;
}

void SnapshotReader::Impl::read_interfaces(udev_device* d, UsbDevice& u) const {
  std::optional<DescriptorSet> descriptors;
  // A device-supplied blob; a parse failure only costs us the endpoints, so it is not an error.
  if (auto blob = sysfs::read_file(u.syspath + "/descriptors", 256 * 1024)) {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(blob->data());
    auto parsed = parse_descriptors(std::span<const std::uint8_t>(bytes, blob->size()));
    if (parsed) descriptors = std::move(*parsed);
  }
  const unsigned active = parse_num(attr(d, "bConfigurationValue"), 10, 255);
  const ConfigDescriptor* cfg = descriptors ? find_config(*descriptors, active) : nullptr;

  const std::string prefix = u.port_path + ":";
  for (const auto& name : sysfs::list_dir(u.syspath)) {
    if (!name.starts_with(prefix)) continue;
    DevicePtr intf = device_at(u.syspath + "/" + name);
    if (!intf) continue;
    Interface i;
    i.sysname = name;
    i.number = static_cast<std::uint8_t>(parse_num(attr(intf.get(), "bInterfaceNumber"), 16, 0xff));
    i.cls = static_cast<std::uint8_t>(parse_num(attr(intf.get(), "bInterfaceClass"), 16, 0xff));
    i.subclass = static_cast<std::uint8_t>(parse_num(attr(intf.get(), "bInterfaceSubClass"), 16, 0xff));
    i.protocol = static_cast<std::uint8_t>(parse_num(attr(intf.get(), "bInterfaceProtocol"), 16, 0xff));
    i.driver = str(udev_device_get_driver(intf.get()));
    const unsigned alt = parse_num(attr(intf.get(), "bAlternateSetting"), 10, 255);
    if (cfg != nullptr) {
      for (const auto& desc : cfg->interfaces) {
        if (desc.number == i.number && desc.alternate == alt) i.endpoints = desc.endpoints;
      }
    }
    i.ttys = ttys_of(u.syspath + "/" + name);
    u.interfaces.push_back(std::move(i));
  }
  if (u.interfaces.empty() && descriptors) interfaces_from_descriptors(u, *descriptors, active);
}

std::vector<UsbDevice> SnapshotReader::Impl::enumerate_usb(udev_device* scope) const {
  std::vector<UsbDevice> out;
  EnumeratePtr e(udev_enumerate_new(udev.get()));
  if (!e) return out;
  udev_enumerate_add_match_subsystem(e.get(), "usb");
  if (scope != nullptr) udev_enumerate_add_match_parent(e.get(), scope);
  udev_enumerate_scan_devices(e.get());
  udev_list_entry* entry = nullptr;
  udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e.get())) {
    DevicePtr d = device_at(str(udev_list_entry_get_name(entry)));
    if (d && is_usb_device(d.get())) out.push_back(read(d.get()));
  }
  return out;
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

std::vector<BlockDevice> SnapshotReader::Impl::enumerate_block(udev_device* scope) const {
  std::vector<BlockDevice> out;
  EnumeratePtr e(udev_enumerate_new(udev.get()));
  if (!e) return out;
  udev_enumerate_add_match_subsystem(e.get(), "block");
  if (scope != nullptr) udev_enumerate_add_match_parent(e.get(), scope);
  udev_enumerate_scan_devices(e.get());
  udev_list_entry* entry = nullptr;
  udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e.get())) {
    const std::string path = str(udev_list_entry_get_name(entry));
    DevicePtr d = device_at(path);
    if (!d) continue;
    const dev_t num = udev_device_get_devnum(d.get());
    if (num == 0) continue;
    out.push_back({path, major(num), minor(num)});
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

Result<SnapshotReader> SnapshotReader::open(ReaderOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->udev.reset(udev_new());
  if (!impl->udev) return errno_error("libudev", "cannot create a udev context");
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
  DevicePtr d = impl_->device_at(device.syspath);
  if (!d) return errno_error(device.syspath, "cannot read device");
  udev_device* p = d.get();
  while (p != nullptr && str(udev_device_get_subsystem(p)) == "usb") p = udev_device_get_parent(p);
  if (p == nullptr) return Error{"", device.syspath, "no host controller above the root hub", 0};
  Controller c;
  c.syspath = str(udev_device_get_syspath(p));
  c.name = str(udev_device_get_sysname(p));
  c.subsystem = str(udev_device_get_subsystem(p));
  c.driver = str(udev_device_get_driver(p));
  for (const auto& name : sysfs::list_dir(c.syspath)) {
    if (name.size() > 3 && name.starts_with("usb")) {
      if (const unsigned bus = parse_num(name.substr(3), 10, 999); bus > 0) c.buses.push_back(bus);
    }
  }
  std::sort(c.buses.begin(), c.buses.end());
  return c;
}

Result<UsbDevice> SnapshotReader::device(const std::string& syspath) {
  DevicePtr d = impl_->device_at(syspath);
  if (!d) return errno_error(syspath, "no such device");
  if (!is_usb_device(d.get())) return Error{"", syspath, "not a USB device", 0};
  UsbDevice u = impl_->read(d.get());
  impl_->attach_mounts({&u}, impl_->enumerate_block(d.get()));
  return u;
}

Result<std::optional<UsbDevice>> SnapshotReader::usb_device_above(const std::string& subsystem,
                                                                  const std::string& sysname) {
  DevicePtr d(udev_device_new_from_subsystem_sysname(impl_->udev.get(), subsystem.c_str(), sysname.c_str()));
  if (!d) return errno_error(subsystem + " device " + sysname, "no such device");
  udev_device* usb = udev_device_get_parent_with_subsystem_devtype(d.get(), "usb", "usb_device");
  if (usb == nullptr) return std::optional<UsbDevice>{};
  auto u = device(str(udev_device_get_syspath(usb)));
  if (!u) return u.error();
  return std::optional<UsbDevice>(std::move(*u));
}

Result<std::vector<UsbDevice>> SnapshotReader::all_devices() {
  std::vector<UsbDevice> devices = impl_->enumerate_usb(nullptr);
  std::vector<UsbDevice*> ptrs;
  for (auto& d : devices) ptrs.push_back(&d);
  impl_->attach_mounts(ptrs, impl_->enumerate_block(nullptr));
  sort_devices(devices);
  return devices;
}

Result<Snapshot> SnapshotReader::snapshot(const std::string& syspath, SnapshotScope scope_kind) {
  DevicePtr d = impl_->device_at(syspath);
  if (!d) return errno_error(syspath, "no such device");
  if (!is_usb_device(d.get())) return Error{"", syspath, "not a USB device", 0};
  Snapshot s;
  s.device = impl_->read(d.get());
  // A reset of a multi-port serial adapter drops every one of its ttys: who uses them matters.
  std::size_t ttys = 0;
  for (const auto& i : s.device.interfaces) ttys += i.ttys.size();
  if (ttys >= 2) impl_->attach_tty_users(s.device);

  if (!s.device.is_root_hub) {
    udev_device* parent = udev_device_get_parent_with_subsystem_devtype(d.get(), "usb", "usb_device");
    if (parent == nullptr) return Error{"", syspath, "USB device without a parent hub", 0};
    s.hub = hub(impl_->read(parent));
    const unsigned number = port_number_of(s.device.sysname);
    // The device's "port" link names its port; without it, find "<hub>-portN" by name.
    Port port{"", number, std::nullopt, "", ""};
    if (auto link = sysfs::read_link(syspath + "/port")) {
      port = read_port(sysfs::resolve_link(syspath, *link));
    } else {
      for (const auto& p : ports(s.hub->device)) {
        if (p.number == number) port = p;
      }
    }
    if (!port.syspath.empty() && !exists(port.syspath)) port = Port{"", number, std::nullopt, "", ""};
    s.port = std::move(port);
  }
  auto ctrl = controller(s.device);
  if (!ctrl) return ctrl.error();
  s.controller = std::move(*ctrl);
  if (auto st = surround(s, scope_kind); !st) return st.error();
  return s;
}

Result<Snapshot> SnapshotReader::port_snapshot(const std::string& hub_syspath, unsigned number,
                                               SnapshotScope scope_kind) {
  DevicePtr h = impl_->device_at(hub_syspath);
  if (!h) return errno_error(hub_syspath, "no such hub");
  if (!is_usb_device(h.get())) return Error{"", hub_syspath, "not a USB device", 0};
  Snapshot s;
  s.device_present = false;
  s.hub = hub(impl_->read(h.get()));
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
  if (auto st = surround(s, scope_kind); !st) return st.error();
  return s;
}

Status SnapshotReader::surround(Snapshot& s, SnapshotScope scope_kind) {
  std::string own_port_subtree;   // devices powered through the same port as this one
  std::string peer_port_subtree;  // the USB3/USB2 peer of that port
  if (s.hub && s.port) {
    own_port_subtree = s.device.syspath;
    const Port& port = *s.port;
    if (!port.peer_syspath.empty()) {
      const std::string peer_hub_path = sysfs::dirname(sysfs::dirname(port.peer_syspath));
      if (DevicePtr ph = impl_->device_at(peer_hub_path); ph && is_usb_device(ph.get())) {
        s.peer_hub = hub(impl_->read(ph.get()));
        const Port peer = read_port(port.peer_syspath);
        peer_port_subtree = peer_hub_path + "/" + child_sysname(s.peer_hub->device.sysname, peer.number);
      }
    }
  }

  // The subtrees to read: the controller's, or only the parent hub's and its peer's.
  std::vector<DevicePtr> scopes;
  s.controller_devices_read = scope_kind == SnapshotScope::Controller || !s.hub;
  if (s.controller_devices_read) {
    scopes.push_back(impl_->device_at(s.controller.syspath));
  } else {
    scopes.push_back(impl_->device_at(s.hub->device.syspath));
    if (s.peer_hub) scopes.push_back(impl_->device_at(s.peer_hub->device.syspath));
  }
  for (const auto& sc : scopes) {
    if (!sc) return errno_error(s.controller.syspath, "cannot read the devices around " + s.device.sysname);
  }
  std::vector<UsbDevice> around;
  std::vector<BlockDevice> blocks;
  for (const auto& sc : scopes) {
    for (auto& u : impl_->enumerate_usb(sc.get())) around.push_back(std::move(u));
    for (auto& b : impl_->enumerate_block(sc.get())) blocks.push_back(std::move(b));
  }

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
      if (!own_port && (per_port ? peer_port : true)) s.gang_siblings.push_back(u);
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
