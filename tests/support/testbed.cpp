// SPDX-License-Identifier: MIT
#include "testbed.hpp"

#include <linux/usbdevice_fs.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace usbrecover::testing {

namespace {

// v in hex, zero-padded to `width` digits.
std::string hex(int width, unsigned v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*x", width, v);
  return buf;
}

// v in decimal, zero-padded to `width` digits.
std::string dec(int width, unsigned v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*u", width, v);
  return buf;
}

std::string base_name(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

// "usb1" -> "1-0": the name the kernel gives a root hub's interfaces.
std::string intf_base(const std::string& sysname) {
  if (sysname.starts_with("usb")) return sysname.substr(3) + "-0";
  return sysname;
}

std::uint16_t bcd_of(const std::string& version) {
  unsigned major = 0;
  unsigned minor = 0;
  std::sscanf(version.c_str(), "%u.%x", &major, &minor);
  return static_cast<std::uint16_t>(((major & 0xff) << 8) | (minor & 0xff));
}

void push16(std::vector<std::uint8_t>& b, unsigned v) {
  b.push_back(static_cast<std::uint8_t>(v & 0xff));
  b.push_back(static_cast<std::uint8_t>((v >> 8) & 0xff));
}

// Relative symlink target from directory `from` to `to` (both absolute).
std::string relative(const std::string& from, const std::string& to) {
  std::size_t common = 0;
  for (std::size_t i = 0; i < from.size() && i < to.size() && from[i] == to[i]; ++i) {
    if (from[i] == '/') common = i;
  }
  if (from.size() <= to.size() && to.compare(0, from.size(), from) == 0 && to[from.size()] == '/') {
    common = from.size();
  }
  std::string up;
  for (std::size_t i = common; i < from.size(); ++i) {
    if (from[i] == '/') up += "../";
  }
  if (common == from.size()) return to.substr(common + 1);
  return up + to.substr(common + 1);
}

// Null-terminated char* array for umockdev_testbed_add_devicev().
struct Strv {
  std::vector<std::string> items;
  std::vector<gchar*> ptrs;
  gchar** get() {
    ptrs.clear();
    for (auto& s : items) ptrs.push_back(s.data());
    ptrs.push_back(nullptr);
    return ptrs.data();
  }
};

}  // namespace

std::vector<std::uint8_t> hub_descriptor_bytes(const HubSpec& spec) {
  unsigned characteristics = 0x2;  // no power switching
  if (spec.switching == PowerSwitching::Ganged) characteristics = 0x0;
  if (spec.switching == PowerSwitching::PerPort) characteristics = 0x1;
  std::vector<std::uint8_t> b;
  const auto pwr = static_cast<std::uint8_t>(spec.power_on_to_good_ms / 2);
  if (spec.superspeed) {
    b = {12, 0x2a, static_cast<std::uint8_t>(spec.nports)};
    push16(b, characteristics);
    b.insert(b.end(), {pwr, 0, 0, 0, 0, 0, 0});
    return b;
  }
  const std::size_t bitmap = (spec.nports + 1 + 7) / 8;
  b = {static_cast<std::uint8_t>(7 + 2 * bitmap), 0x29, static_cast<std::uint8_t>(spec.nports)};
  push16(b, characteristics);
  b.insert(b.end(), {pwr, 100});
  b.insert(b.end(), bitmap, 0x00);  // DeviceRemovable: all removable
  b.insert(b.end(), bitmap, 0xff);  // PortPwrCtrlMask (USB 1.1 legacy)
  return b;
}

std::vector<std::uint8_t> descriptors_blob(const DeviceSpec& spec) {
  std::vector<std::uint8_t> b = {18, 1};
  push16(b, bcd_of(spec.version));
  b.insert(b.end(), {spec.device_class, 0, 0, 64});
  push16(b, spec.vendor);
  push16(b, spec.product);
  push16(b, 0x0100);
  b.insert(b.end(), {1, 2, static_cast<std::uint8_t>(spec.serial.empty() ? 0 : 3), 1});

  std::vector<std::uint8_t> body;
  for (const auto& i : spec.interfaces) {
    body.insert(body.end(), {9, 4, i.number, 0, static_cast<std::uint8_t>(i.endpoints.size()), i.cls,
                             i.subclass, i.protocol, 0});
    // A class descriptor between interface and endpoints, as HID devices have: parsers skip it.
    if (i.cls == 3) body.insert(body.end(), {9, 0x21, 0x11, 0x01, 0, 1, 0x22, 0x3f, 0});
    for (const auto& e : i.endpoints) {
      body.insert(body.end(), {7, 5, e.address, e.attributes});
      push16(body, e.max_packet_size);
      body.push_back(e.interval);
    }
  }
  b.insert(b.end(), {9, 2});
  push16(b, static_cast<unsigned>(9 + body.size()));
  b.insert(b.end(), {static_cast<std::uint8_t>(spec.interfaces.size()), 1, 0, 0x80, 50});
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

bool Testbed::available() {
  // umockdev_in_mock_environment() answers false under umockdev-wrapper in 0.17; the preload
  // being in LD_PRELOAD is what matters.
  const char* preload = std::getenv("LD_PRELOAD");
  return preload != nullptr &&
         std::string_view(preload).find("libumockdev-preload") != std::string_view::npos;
}

Testbed::Testbed() : testbed_(umockdev_testbed_new()) {}

Testbed::~Testbed() {
  g_object_unref(testbed_);
}

std::string Testbed::root_dir() const {
  gchar* root = umockdev_testbed_get_root_dir(testbed_);
  std::string s = root;
  g_free(root);
  return s;
}

void Testbed::mkdir(const std::string& syspath) {
  g_mkdir_with_parents((root_dir() + syspath).c_str(), 0755);
}

void Testbed::set_attribute(const std::string& syspath, const std::string& name, const std::string& value) {
  umockdev_testbed_set_attribute(testbed_, syspath.c_str(), name.c_str(), value.c_str());
}

std::string Testbed::add_pci_controller(const std::string& address, const std::string& driver) {
  Strv attrs{{"vendor", "0x8086", "device", "0x7ae0", "class", "0x0c0330"}, {}};
  Strv props{{"DRIVER", driver, "PCI_SLOT_NAME", address}, {}};
  gchar* p = umockdev_testbed_add_devicev(testbed_, "pci", ("pci0000:00/" + address).c_str(), nullptr,
                                          attrs.get(), props.get());
  std::string path = p;
  g_free(p);
  umockdev_testbed_set_attribute_link(testbed_, path.c_str(), "driver",
                                      ("../../../bus/pci/drivers/" + driver).c_str());
  return path;
}

std::string Testbed::add_root_hub(const std::string& controller, unsigned bus, const HubSpec& hub) {
  DeviceSpec spec;
  spec.vendor = 0x1d6b;
  spec.device_class = 9;
  spec.product = hub.superspeed ? 0x0003 : 0x0002;
  spec.manufacturer = "Linux 6.1.0 usbrecover-testbed";
  spec.product_name = hub.superspeed ? "xHCI Host Controller" : "Host Controller";
  spec.serial = base_name(controller);
  spec.speed = hub.superspeed ? "5000" : "480";
  spec.version = hub.superspeed ? "3.00" : "2.00";
  return add_usb(controller, "usb" + std::to_string(bus), bus, spec, &hub);
}

std::string Testbed::add_hub(const std::string& parent_hub, unsigned port, DeviceSpec spec,
                             const HubSpec& hub) {
  spec.device_class = 9;
  const std::string parent = base_name(parent_hub);
  const std::string name = parent.starts_with("usb") ? parent.substr(3) + "-" + std::to_string(port)
                                                     : parent + "." + std::to_string(port);
  const unsigned bus = static_cast<unsigned>(std::stoul(name.substr(0, name.find('-'))));
  const std::string path = add_usb(parent_hub, name, bus, spec, &hub);
  umockdev_testbed_set_attribute_link(testbed_, path.c_str(), "port",
                                      relative(path, port_dir(parent_hub, port)).c_str());
  return path;
}

std::string Testbed::add_device(const std::string& parent_hub, unsigned port, const DeviceSpec& spec) {
  const std::string parent = base_name(parent_hub);
  const std::string name = parent.starts_with("usb") ? parent.substr(3) + "-" + std::to_string(port)
                                                     : parent + "." + std::to_string(port);
  const unsigned bus = static_cast<unsigned>(std::stoul(name.substr(0, name.find('-'))));
  const std::string path = add_usb(parent_hub, name, bus, spec, nullptr);
  umockdev_testbed_set_attribute_link(testbed_, path.c_str(), "port",
                                      relative(path, port_dir(parent_hub, port)).c_str());
  return path;
}

std::string Testbed::add_usb(const std::string& parent, const std::string& name, unsigned bus,
                             const DeviceSpec& spec, const HubSpec* hub) {
  if (next_devnum_.size() <= bus) next_devnum_.resize(bus + 1, 1);
  const unsigned devnum = next_devnum_[bus]++;
  const std::string node = "/dev/bus/usb/" + dec(3, bus) + "/" + dec(3, devnum);
  const unsigned minor = (bus - 1) * 128 + devnum - 1;

  Strv attrs{{"idVendor",
              hex(4, spec.vendor),
              "idProduct",
              hex(4, spec.product),
              "busnum",
              std::to_string(bus),
              "devnum",
              std::to_string(devnum),
              "speed",
              spec.speed,
              "version",
              " " + spec.version,
              "bDeviceClass",
              hex(2, spec.device_class),
              "bConfigurationValue",
              "1",
              "bNumConfigurations",
              "1",
              "bNumInterfaces",
              " " + std::to_string(spec.interfaces.size()),
              "authorized",
              "1",
              "maxchild",
              std::to_string(hub != nullptr ? hub->nports : 0),
              "dev",
              "189:" + std::to_string(minor)},
             {}};
  if (!spec.manufacturer.empty()) attrs.items.insert(attrs.items.end(), {"manufacturer", spec.manufacturer});
  if (!spec.product_name.empty()) attrs.items.insert(attrs.items.end(), {"product", spec.product_name});
  if (!spec.serial.empty()) attrs.items.insert(attrs.items.end(), {"serial", spec.serial});
  Strv props{{"DEVTYPE", "usb_device", "DEVNAME", node, "DRIVER", "usb", "BUSNUM", dec(3, bus), "DEVNUM",
              dec(3, devnum), "MAJOR", "189", "MINOR", std::to_string(minor), "PRODUCT",
              hex(1, spec.vendor) + "/" + hex(1, spec.product) + "/100"},
             {}};
  for (const auto& [k, v] : spec.properties) props.items.insert(props.items.end(), {k, v});

  gchar* p =
      umockdev_testbed_add_devicev(testbed_, "usb", name.c_str(), parent.c_str(), attrs.get(), props.get());
  if (p == nullptr) throw std::runtime_error("umockdev refused device " + name);
  const std::string path = p;
  g_free(p);
  umockdev_testbed_set_attribute_link(testbed_, path.c_str(), "driver", "../../../../bus/usb/drivers/usb");
  const auto blob = descriptors_blob(spec);
  umockdev_testbed_set_attribute_binary(testbed_, path.c_str(), "descriptors",
                                        const_cast<guint8*>(blob.data()), static_cast<gint>(blob.size()));

  std::vector<InterfaceSpec> interfaces = spec.interfaces;
  if (hub != nullptr && interfaces.empty()) interfaces.push_back({0, 9, 0, 0, "hub", {{0x81, 3, 4, 12}}});
  for (const auto& i : interfaces) {
    Strv iattrs{{"bInterfaceNumber", hex(2, i.number), "bInterfaceClass", hex(2, i.cls), "bInterfaceSubClass",
                 hex(2, i.subclass), "bInterfaceProtocol", hex(2, i.protocol), "bAlternateSetting", " 0",
                 "bNumEndpoints", hex(2, unsigned(i.endpoints.size()))},
                {}};
    Strv iprops{{"DEVTYPE", "usb_interface", "INTERFACE",
                 std::to_string(i.cls) + "/" + std::to_string(i.subclass) + "/" + std::to_string(i.protocol)},
                {}};
    if (!i.driver.empty()) iprops.items.insert(iprops.items.end(), {"DRIVER", i.driver});
    const std::string iname = intf_base(name) + ":1." + std::to_string(i.number);
    gchar* ip = umockdev_testbed_add_devicev(testbed_, "usb", iname.c_str(), path.c_str(), iattrs.get(),
                                             iprops.get());
    if (!i.driver.empty()) {
      umockdev_testbed_set_attribute_link(testbed_, ip, "driver",
                                          ("../../../../bus/usb/drivers/" + i.driver).c_str());
    }
    g_free(ip);
  }
  if (hub != nullptr) add_ports(path, *hub);
  if (hub != nullptr && spec.usbfs) {
    const std::uint16_t value = hub->superspeed ? 0x2a00 : 0x2900;
    usbfs_.on_control(node, ControlMatch{0xa0, 6, value, std::nullopt},
                      ControlReply{hub_descriptor_bytes(*hub), 0});
  }
  if (spec.usbfs) {
    if (auto st = usbfs_.attach(testbed_, node); !st) throw std::runtime_error(st.error().message());
  }
  devnodes_.emplace_back(path, node);
  return path;
}

void Testbed::add_ports(const std::string& hub, const HubSpec& spec) {
  for (unsigned n = 1; n <= spec.nports; ++n) {
    const std::string dir = port_dir(hub, n);
    mkdir(dir);
    set_attribute(dir, "connect_type", "hotplug");
    if (spec.port_disable_attr) set_attribute(dir, "disable", "0");
  }
}

void Testbed::link_peers(const std::string& port_a, const std::string& port_b) {
  umockdev_testbed_set_attribute_link(testbed_, port_a.c_str(), "peer", relative(port_a, port_b).c_str());
  umockdev_testbed_set_attribute_link(testbed_, port_b.c_str(), "peer", relative(port_b, port_a).c_str());
}

std::string Testbed::add_disk(const std::string& interface, const std::string& name, unsigned major,
                              unsigned minor) {
  auto add = [this](const char* subsystem, const std::string& devname, const std::string& parent,
                    std::vector<std::string> attrs, std::vector<std::string> props) {
    Strv a{std::move(attrs), {}};
    Strv p{std::move(props), {}};
    gchar* s =
        umockdev_testbed_add_devicev(testbed_, subsystem, devname.c_str(), parent.c_str(), a.get(), p.get());
    std::string path = s;
    g_free(s);
    return path;
  };
  const std::string host = add("scsi", "host6", interface, {}, {"DEVTYPE", "scsi_host"});
  const std::string target = add("scsi", "target6:0:0", host, {}, {"DEVTYPE", "scsi_target"});
  const std::string sdev = add("scsi", "6:0:0:0", target, {"vendor", "SanDisk"}, {"DEVTYPE", "scsi_device"});
  const std::string disk =
      add("block", "block/" + name, sdev,
          {"dev", std::to_string(major) + ":" + std::to_string(minor), "size", "60062500"},
          {"DEVNAME", "/dev/" + name, "DEVTYPE", "disk", "MAJOR", std::to_string(major), "MINOR",
           std::to_string(minor)});
  return add("block", name + "1", disk,
             {"dev", std::to_string(major) + ":" + std::to_string(minor + 1), "partition", "1"},
             {"DEVNAME", "/dev/" + name + "1", "DEVTYPE", "partition", "MAJOR", std::to_string(major),
              "MINOR", std::to_string(minor + 1)});
}

std::string Testbed::write_mountinfo(const std::string& text) {
  const std::string path = root_dir() + "/mountinfo";
  g_file_set_contents(path.c_str(), text.c_str(), static_cast<gssize>(text.size()), nullptr);
  return path;
}

std::string Testbed::interface_path(const std::string& device, unsigned number) {
  return device + "/" + intf_base(base_name(device)) + ":1." + std::to_string(number);
}

std::string Testbed::port_dir(const std::string& hub, unsigned port) {
  return interface_path(hub, 0) + "/" + base_name(hub) + "-port" + std::to_string(port);
}

std::string Testbed::devnode(const std::string& device) const {
  for (const auto& [path, node] : devnodes_) {
    if (path == device) return node;
  }
  return "";
}

DeviceSpec inno_tech_ups(std::vector<std::pair<std::string, std::string>> properties) {
  return {0x0665,
          0x5161,
          "INNO TECH",
          "USB to Serial",
          "",
          "1.5",
          "1.00",
          0,
          {{0, 3, 0, 0, "usbhid", {{0x81, 3, 8, 10}}}},
          std::move(properties)};
}

StandardBed build_standard_bed() {
  StandardBed s;
  s.bed = std::make_unique<Testbed>();
  Testbed& b = *s.bed;
  const HubSpec usb2_root{4, PowerSwitching::PerPort, 20, false, true};
  const HubSpec ss_root{4, PowerSwitching::PerPort, 20, true, true};
  s.xhci = b.add_pci_controller("0000:00:14.0", "xhci_hcd");
  s.usb1 = b.add_root_hub(s.xhci, 1, usb2_root);
  s.usb2 = b.add_root_hub(s.xhci, 2, ss_root);
  for (unsigned n = 1; n <= 4; ++n) b.link_peers(Testbed::port_dir(s.usb1, n), Testbed::port_dir(s.usb2, n));
  b.set_attribute(Testbed::port_dir(s.usb1, 3), "disable", "1");
  b.set_attribute(Testbed::port_dir(s.usb1, 4), "connect_type", "hardwired");

  s.hub_usb2_half =
      b.add_hub(s.usb1, 1, {0x05e3, 0x0610, "GenesysLogic", "USB2.1 Hub", "", "480", "2.10", 9, {}, {}},
                {4, PowerSwitching::PerPort, 100, false, true});
  s.hub_ss_half =
      b.add_hub(s.usb2, 1, {0x05e3, 0x0626, "GenesysLogic", "USB3.1 Hub", "", "5000", "3.20", 9, {}, {}},
                {4, PowerSwitching::PerPort, 100, true, true});
  for (unsigned n = 1; n <= 4; ++n) {
    b.link_peers(Testbed::port_dir(s.hub_usb2_half, n), Testbed::port_dir(s.hub_ss_half, n));
  }
  s.ups = b.add_device(
      s.hub_usb2_half, 1,
      inno_tech_ups({{"USBRECOVER_NAME", "megatec-ups"}, {"USBRECOVER_SOURCE", "devices.toml:12"}}));
  const std::vector<InterfaceSpec> ftdi = {
      {0, 0xff, 0xff, 0xff, "ftdi_sio", {{0x81, 2, 64, 0}, {0x02, 2, 64, 0}}}};
  s.twin_a = b.add_device(s.hub_usb2_half, 2,
                          {0x0403, 0x6001, "FTDI", "FT232R USB UART", "A10K1XYZ", "12", "2.00", 0, ftdi, {}});
  s.storage = b.add_device(s.hub_ss_half, 4,
                           {0x0781,
                            0x5583,
                            "SanDisk",
                            "Ultra Fit",
                            "4C530001",
                            "5000",
                            "3.20",
                            0,
                            {{0, 8, 6, 0x50, "usb-storage", {{0x81, 2, 1024, 0}, {0x02, 2, 1024, 0}}}},
                            {}});
  s.partition = b.add_disk(Testbed::interface_path(s.storage, 0), "sdb", 8, 16);

  s.ganged_hub = b.add_hub(s.usb1, 2, {0x1a40, 0x0101, "", "USB 2.0 Hub", "", "480", "2.00", 9, {}, {}},
                           {4, PowerSwitching::Ganged, 100, false, false});
  s.keyboard =
      b.add_device(s.ganged_hub, 1,
                   {0x046d,
                    0xc31c,
                    "Logitech",
                    "USB Keyboard",
                    "",
                    "1.5",
                    "1.10",
                    0,
                    {{0, 3, 1, 1, "usbhid", {{0x81, 3, 8, 10}}}, {1, 3, 0, 0, "usbhid", {{0x82, 3, 4, 255}}}},
                    {}});
  s.twin_b = b.add_device(s.ganged_hub, 3,
                          {0x0403, 0x6001, "FTDI", "FT232R USB UART", "B20K2ABC", "12", "2.00", 0, ftdi, {}});

  s.ehci = b.add_pci_controller("0000:00:1d.0", "ehci-pci");
  s.usb3 = b.add_root_hub(s.ehci, 3, {2, PowerSwitching::PerPort, 20, false, true});
  s.hostile = b.add_device(s.usb3, 1,
                           {0x1234,
                            0xabcd,
                            "Evil\x1b]0;pwned\x07 Corp",
                            "Pro\x1b[2J\"duct\\ \xff\xfe",
                            "SER\x7fIAL",
                            "12",
                            "2.00",
                            0,
                            {{0, 0xff, 0, 0, "", {}}},
                            {}});
  s.mountinfo = b.write_mountinfo(
      "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
      "25 22 0:22 / /tmp rw,nosuid shared:2 - tmpfs tmpfs rw\n"
      "98 22 8:17 / /media/user/USB\\040STICK rw,nosuid,nodev shared:50 - vfat /dev/sdb1 rw\n");
  return s;
}

}  // namespace usbrecover::testing
