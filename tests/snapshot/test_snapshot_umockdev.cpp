// SPDX-License-Identifier: MIT
// The snapshot reader against the standard umockdev bed (testbed.hpp): what it reads about a
// device, its hub and port, the power gang, the controller, mounts, and the usbfs requests it
// makes to get there.
#include <gtest/gtest.h>

#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#include <filesystem>
#include <fstream>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "snapshot/snapshot_reader.hpp"
#include "testbed.hpp"

namespace usbrecover::testing {
namespace {

std::vector<std::string> names(const std::vector<UsbDevice>& list) {
  std::vector<std::string> out;
  for (const auto& d : list) out.push_back(d.port_path);
  return out;
}

class SnapshotReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Testbed::available()) GTEST_SKIP() << "not running under umockdev-wrapper";
    s_ = build_standard_bed();
    ReaderOptions options;
    options.mountinfo = s_.mountinfo;
    auto r = SnapshotReader::open(options);
    ASSERT_TRUE(r) << r.error().message();
    reader_ = std::make_unique<SnapshotReader>(std::move(*r));
  }

  Snapshot snap(const std::string& syspath) {
    auto s = reader_->snapshot(syspath);
    EXPECT_TRUE(s) << s.error().message();
    return s ? *s : Snapshot{};
  }

  StandardBed s_;
  std::unique_ptr<SnapshotReader> reader_;
};

TEST_F(SnapshotReaderTest, ReadsTheUpsItself) {
  const Snapshot s = snap(s_.ups);
  const UsbDevice& d = s.device;
  EXPECT_EQ(d.syspath, s_.ups);
  EXPECT_EQ(d.sysname, "1-1.1");
  EXPECT_EQ(d.port_path, "1-1.1");
  EXPECT_EQ(d.devnode, s_.bed->devnode(s_.ups));
  EXPECT_EQ(d.busnum, 1u);
  EXPECT_EQ(d.devnode, "/dev/bus/usb/001/00" + std::to_string(d.devnum));
  EXPECT_EQ(d.vendor, 0x0665);
  EXPECT_EQ(d.product, 0x5161);
  EXPECT_EQ(d.manufacturer, "INNO TECH");
  EXPECT_EQ(d.product_name, "USB to Serial");
  EXPECT_EQ(d.serial, "");
  EXPECT_EQ(d.speed, "1.5");
  EXPECT_EQ(d.version, "1.00");
  EXPECT_FALSE(d.is_hub);
  EXPECT_FALSE(d.is_root_hub);
  EXPECT_TRUE(d.authorized);
  EXPECT_EQ(d.driver, "usb");
  // A snapshot does not ask udev for the table entry (only `list` shows it).
  EXPECT_EQ(d.table_name, "");
  ASSERT_EQ(d.interfaces.size(), 1u);
  const Interface& i = d.interfaces[0];
  EXPECT_EQ(i.sysname, "1-1.1:1.0");
  EXPECT_EQ(i.cls, 3);
  EXPECT_EQ(i.driver, "usbhid");
  // Endpoints come from the descriptors blob (past the HID class descriptor).
  ASSERT_EQ(i.endpoints.size(), 1u);
  EXPECT_EQ(i.endpoints[0].address, 0x81);
  EXPECT_EQ(i.endpoints[0].max_packet_size, 8);
}

TEST_F(SnapshotReaderTest, HubPortPeerAndSiblingsOfTheUps) {
  const Snapshot s = snap(s_.ups);
  ASSERT_TRUE(s.hub);
  EXPECT_EQ(s.hub->device.syspath, s_.hub_usb2_half);
  EXPECT_EQ(s.hub->nports, 4u);
  EXPECT_EQ(s.hub->switching, PowerSwitching::PerPort);
  EXPECT_EQ(s.hub->power_on_to_good_ms, 100u);
  EXPECT_FALSE(s.hub->superspeed);
  EXPECT_EQ(s.hub->descriptor_error, "");

  ASSERT_TRUE(s.port);
  EXPECT_EQ(s.port->syspath, Testbed::port_dir(s_.hub_usb2_half, 1));
  EXPECT_EQ(s.port->number, 1u);
  EXPECT_EQ(s.port->disabled, std::optional<bool>(false));
  EXPECT_EQ(s.port->connect_type, "hotplug");
  EXPECT_EQ(s.port->peer_syspath, Testbed::port_dir(s_.hub_ss_half, 1));

  ASSERT_TRUE(s.peer_hub);
  EXPECT_EQ(s.peer_hub->device.syspath, s_.hub_ss_half);
  EXPECT_TRUE(s.peer_hub->superspeed);
  EXPECT_EQ(s.peer_hub->switching, PowerSwitching::PerPort);

  // Everything below both halves of the hub; per-port switching and nothing on the peer port:
  // no gang.
  EXPECT_EQ(names(s.hub_siblings), (std::vector<std::string>{"1-1.2", "2-1.4"}));
  EXPECT_TRUE(s.gang_siblings.empty());
}

TEST_F(SnapshotReaderTest, MountedStorageUnderTheSameHubIsVisible) {
  const Snapshot s = snap(s_.ups);
  const auto it = std::find_if(s.hub_siblings.begin(), s.hub_siblings.end(),
                               [](const UsbDevice& d) { return d.port_path == "2-1.4"; });
  ASSERT_NE(it, s.hub_siblings.end());
  EXPECT_EQ(it->mounts, (std::vector<std::string>{"/media/user/USB STICK"}));
  EXPECT_TRUE(s.device.mounts.empty());
  // The storage's own snapshot carries the mount on the device itself.
  EXPECT_EQ(snap(s_.storage).device.mounts, (std::vector<std::string>{"/media/user/USB STICK"}));
}

TEST_F(SnapshotReaderTest, AFilesystemOnAStackedDeviceCountsAsTheDisksMount) {
  // LUKS or LVM over the stick: the filesystem is on dm-0 (253:0), which holds sdb1. The
  // mount must still be seen as the stick's, or a hub reset would look harmless.
  gchar* dm = umockdev_testbed_add_device(s_.bed->native(), "block", "dm-0", nullptr, "dev", "253:0", nullptr,
                                          "DEVNAME", "/dev/dm-0", "DEVTYPE", "disk", nullptr);
  ASSERT_NE(dm, nullptr);
  const std::string dm_path = dm;
  g_free(dm);
  const std::string root = s_.bed->root_dir();
  std::filesystem::create_directories(root + s_.partition + "/holders");
  std::filesystem::create_directory_symlink(root + dm_path, root + s_.partition + "/holders/dm-0");
  const std::string mountinfo = s_.bed->write_mountinfo(
      "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
      "99 22 253:0 / /srv/crypt rw,relatime shared:51 - ext4 /dev/mapper/crypt rw\n");
  ReaderOptions options;
  options.mountinfo = mountinfo;
  auto reader = SnapshotReader::open(options);
  ASSERT_TRUE(reader);
  auto storage = reader->snapshot(s_.storage);
  ASSERT_TRUE(storage) << storage.error().message();
  EXPECT_EQ(storage->device.mounts, (std::vector<std::string>{"/srv/crypt"}));
  auto ups = reader->snapshot(s_.ups);
  ASSERT_TRUE(ups);
  bool seen = false;
  for (const auto& d : ups->hub_siblings)
    if (d.syspath == s_.storage) seen = d.mounts == std::vector<std::string>{"/srv/crypt"};
  EXPECT_TRUE(seen) << "the stick behind the UPS's hub carries the stacked mount";
}

// Regression (mount attribution): btrfs gives a filesystem an anonymous device number (0:NN),
// so its mount matched no block device and a stick holding it looked unused. Every member
// device of the filesystem (/sys/fs/btrfs/FSID/devices/) carries the mount, whichever member it
// was mounted from.
TEST_F(SnapshotReaderTest, ABtrfsFilesystemCountsOnEveryMemberDisk) {
  const std::string root = s_.bed->root_dir();
  const std::string fs = root + "/sys/fs/btrfs/5a1c8e02-6b4e-4a35-9e1f-2d1c0ffee000/devices";
  std::filesystem::create_directories(fs);
  std::ofstream(fs + "/sda3").flush();  // the member it was mounted from, not on USB
  std::ofstream(fs + "/sdb1").flush();  // the stick's partition
  std::filesystem::create_directories(root + "/sys/fs/btrfs/features");
  const std::string mountinfo = s_.bed->write_mountinfo(
      "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
      "40 22 0:45 /data /srv/pool\\040one rw,relatime shared:7 - btrfs /dev/sda3 rw,space_cache=v2\n");
  ReaderOptions options;
  options.mountinfo = mountinfo;
  options.swaps = "/dev/null";
  auto reader = SnapshotReader::open(options);
  ASSERT_TRUE(reader);
  auto storage = reader->snapshot(s_.storage);
  ASSERT_TRUE(storage) << storage.error().message();
  EXPECT_EQ(storage->device.mounts, (std::vector<std::string>{"/srv/pool one"}));
}

// Regression (mount attribution): an active swap area on a stick is in use like a mount.
TEST_F(SnapshotReaderTest, AnActiveSwapPartitionCountsAsInUse) {
  const std::string swaps = s_.bed->root_dir() + "/swaps";
  std::ofstream(swaps) << "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                       << "/swapfile                               file\t\t1048572\t\t0\t\t-2\n"
                       << "/dev/sdb1                               partition\t524284\t\t0\t\t-3\n";
  ReaderOptions options;
  options.mountinfo = "/dev/null";
  options.swaps = swaps;
  auto reader = SnapshotReader::open(options);
  ASSERT_TRUE(reader);
  auto storage = reader->snapshot(s_.storage);
  ASSERT_TRUE(storage) << storage.error().message();
  EXPECT_EQ(storage->device.mounts, (std::vector<std::string>{kSwapMount}));
}

TEST_F(SnapshotReaderTest, ControllerAndItsBusesOnly) {
  const Snapshot s = snap(s_.ups);
  EXPECT_EQ(s.controller.syspath, s_.xhci);
  EXPECT_EQ(s.controller.name, "0000:00:14.0");
  EXPECT_EQ(s.controller.subsystem, "pci");
  EXPECT_EQ(s.controller.driver, "xhci_hcd");
  EXPECT_EQ(s.controller.buses, (std::vector<unsigned>{1, 2}));
  // Bus 3 belongs to the EHCI controller and is not part of this snapshot.
  EXPECT_EQ(names(s.controller_devices),
            (std::vector<std::string>{"1-1", "1-1.2", "1-2", "1-2.1", "1-2.3", "2-1", "2-1.4"}));
}

TEST_F(SnapshotReaderTest, GangedHubPutsEveryOtherPortInTheGang) {
  const Snapshot s = snap(s_.twin_b);
  ASSERT_TRUE(s.hub);
  EXPECT_EQ(s.hub->switching, PowerSwitching::Ganged);
  ASSERT_TRUE(s.port);
  EXPECT_EQ(s.port->number, 3u);
  EXPECT_EQ(s.port->disabled, std::nullopt);  // this hub's ports have no `disable`
  EXPECT_FALSE(s.peer_hub);
  EXPECT_EQ(names(s.gang_siblings), (std::vector<std::string>{"1-2.1"}));
  EXPECT_EQ(names(s.hub_siblings), (std::vector<std::string>{"1-2.1"}));
  EXPECT_EQ(s.device.serial, "B20K2ABC");
}

TEST_F(SnapshotReaderTest, PerPortGangIsThePeerPortSubtree) {
  // The USB 2.0 half of the hub sits on usb1-port1, whose SuperSpeed peer holds the other half:
  // switching that port off takes both halves and the storage with them.
  const Snapshot s = snap(s_.hub_usb2_half);
  ASSERT_TRUE(s.hub);
  EXPECT_EQ(s.hub->device.syspath, s_.usb1);
  EXPECT_TRUE(s.hub->device.is_root_hub);
  EXPECT_EQ(s.hub->nports, 4u);
  ASSERT_TRUE(s.peer_hub);
  EXPECT_EQ(s.peer_hub->device.syspath, s_.usb2);
  EXPECT_EQ(names(s.gang_siblings), (std::vector<std::string>{"2-1", "2-1.4"}));
  EXPECT_EQ(names(s.hub_siblings),
            (std::vector<std::string>{"1-1.1", "1-1.2", "1-2", "1-2.1", "1-2.3", "2-1", "2-1.4"}));
}

TEST_F(SnapshotReaderTest, RootHubHasNoHubOrPort) {
  const Snapshot s = snap(s_.usb1);
  EXPECT_TRUE(s.device.is_root_hub);
  EXPECT_EQ(s.device.port_path, "1-0");
  EXPECT_TRUE(s.device.is_hub);
  EXPECT_FALSE(s.hub);
  EXPECT_FALSE(s.port);
  EXPECT_EQ(s.controller.name, "0000:00:14.0");
  EXPECT_EQ(s.controller_devices.size(), 8u);  // every non-root device on buses 1 and 2
}

TEST_F(SnapshotReaderTest, AsksEachHubForItsDescriptorAndNothingElse) {
  s_.bed->usbfs().clear_calls();
  (void)snap(s_.ups);
  const auto calls = s_.bed->usbfs().calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].devnode, s_.bed->devnode(s_.hub_usb2_half));
  EXPECT_EQ(calls[0].request, static_cast<unsigned long>(USBDEVFS_CONTROL));
  EXPECT_EQ(calls[0].request_type, 0xa0);
  EXPECT_EQ(calls[0].b_request, 6);
  EXPECT_EQ(calls[0].value, 0x2900);
  EXPECT_EQ(calls[0].index, 0);
  EXPECT_EQ(calls[0].length, 71);
  EXPECT_EQ(calls[1].devnode, s_.bed->devnode(s_.hub_ss_half));
  EXPECT_EQ(calls[1].value, 0x2a00);
  EXPECT_EQ(calls[1].data.size(), 12u);
}

TEST_F(SnapshotReaderTest, HubDescriptorFailureIsUnknownWithTheReason) {
  s_.bed->usbfs().fail(s_.bed->devnode(s_.ganged_hub), USBDEVFS_CONTROL, EPIPE);
  const Snapshot s = snap(s_.twin_b);
  ASSERT_TRUE(s.hub);
  EXPECT_EQ(s.hub->switching, PowerSwitching::Unknown);
  EXPECT_EQ(s.hub->nports, 0u);
  EXPECT_EQ(s.hub->descriptor_error,
            "hub descriptor request on '" + s_.bed->devnode(s_.ganged_hub) + "' failed: Broken pipe");
  // Unknown switching is treated as the worst case for the gang.
  EXPECT_EQ(names(s.gang_siblings), (std::vector<std::string>{"1-2.1"}));
}

TEST_F(SnapshotReaderTest, EachInjectedErrnoIsReported) {
  for (int err : {ENODEV, EACCES, ETIMEDOUT}) {
    s_.bed->usbfs().clear_failures();
    s_.bed->usbfs().fail(s_.bed->devnode(s_.hub_usb2_half), USBDEVFS_CONTROL, err, 1);
    const Snapshot s = snap(s_.ups);
    ASSERT_TRUE(s.hub);
    EXPECT_EQ(s.hub->switching, PowerSwitching::Unknown) << err;
    EXPECT_NE(s.hub->descriptor_error.find(std::strerror(err)), std::string::npos) << s.hub->descriptor_error;
    // The next read works again (the failure was injected once).
    EXPECT_EQ(snap(s_.ups).hub->switching, PowerSwitching::PerPort);
  }
}

TEST_F(SnapshotReaderTest, GarbageHubDescriptorIsUnknownWithTheParserReason) {
  s_.bed->usbfs().on_control(s_.bed->devnode(s_.hub_usb2_half), ControlMatch{0xa0, 6, 0x2900, std::nullopt},
                             ControlReply{{0, 0x29, 4, 1, 0, 50, 100}, 0});
  const Snapshot s = snap(s_.ups);
  ASSERT_TRUE(s.hub);
  EXPECT_EQ(s.hub->switching, PowerSwitching::Unknown);
  EXPECT_EQ(s.hub->descriptor_error, "hub descriptor: bLength 0 is shorter than the 7 fixed bytes");
}

TEST_F(SnapshotReaderTest, MissingNodeIsUnknownWithTheReason) {
  ReaderOptions options;
  options.dev_root = "/nonexistent-dev";
  auto r = SnapshotReader::open(options);
  ASSERT_TRUE(r);
  auto s = r->snapshot(s_.ups);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->hub->descriptor_error, "cannot open '/nonexistent-dev" +
                                          s_.bed->devnode(s_.hub_usb2_half).substr(4) +
                                          "': No such file or directory");
}

TEST_F(SnapshotReaderTest, RefusesWhatIsNotAUsbDevice) {
  auto intf = reader_->snapshot(Testbed::interface_path(s_.ups, 0));
  ASSERT_FALSE(intf);
  EXPECT_EQ(intf.error().reason, "not a USB device");
  auto gone = reader_->snapshot(s_.usb1 + "/1-4");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().object, s_.usb1 + "/1-4");
  EXPECT_FALSE(reader_->snapshot(s_.xhci));
}

TEST_F(SnapshotReaderTest, AllDevicesInOrderWithMounts) {
  auto all = reader_->all_devices();
  ASSERT_TRUE(all);
  EXPECT_EQ(names(*all), (std::vector<std::string>{"1-0", "1-1", "1-1.1", "1-1.2", "1-2", "1-2.1", "1-2.3",
                                                   "2-0", "2-1", "2-1.4", "3-0", "3-1"}));
  for (const auto& d : *all) {
    const bool mounted = d.port_path == "2-1.4" || d.port_path == "2-1" || d.port_path == "2-0";
    EXPECT_EQ(d.mounts.empty(), !mounted) << d.port_path;
  }
}

TEST_F(SnapshotReaderTest, PortsOfAHub) {
  const auto ports = reader_->ports(*reader_->device(s_.usb1));
  ASSERT_EQ(ports.size(), 4u);
  EXPECT_EQ(ports[2].number, 3u);
  EXPECT_EQ(ports[2].disabled, std::optional<bool>(true));
  EXPECT_EQ(ports[3].connect_type, "hardwired");
  EXPECT_EQ(ports[0].peer_syspath, Testbed::port_dir(s_.usb2, 1));
}

TEST_F(SnapshotReaderTest, DeauthorizedDeviceKeepsInterfacesFromDescriptors) {
  // A deauthorized device has no interface directories; its descriptors still tell the class.
  s_.bed->set_attribute(s_.keyboard, "authorized", "0");
  s_.bed->set_attribute(s_.keyboard, "bConfigurationValue", "");
  umockdev_testbed_remove_device(s_.bed->native(), Testbed::interface_path(s_.keyboard, 0).c_str());
  umockdev_testbed_remove_device(s_.bed->native(), Testbed::interface_path(s_.keyboard, 1).c_str());
  auto d = reader_->device(s_.keyboard);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_FALSE(d->authorized);
  ASSERT_EQ(d->interfaces.size(), 2u);
  EXPECT_EQ(d->interfaces[0].sysname, "1-2.1:1.0");
  EXPECT_EQ(d->interfaces[0].cls, 3);
  EXPECT_EQ(d->interfaces[0].driver, "");
  EXPECT_EQ(d->interfaces[1].endpoints.at(0).address, 0x82);
}

}  // namespace
}  // namespace usbrecover::testing
