// SPDX-License-Identifier: MIT
// `usbrecover repair` over intent files: valid ones are undone and removed; corrupt, foreign and
// busy ones are reported and never executed.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <thread>

#include "act/executor.hpp"
#include "act/intent.hpp"
#include "fake_effects.hpp"
#include "sample.hpp"
#include "temp_dir.hpp"

namespace usbrecover {
namespace {

using test::FakeEffects;
using test::TempDir;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Status_ = RepairItem::Status;

const Roots kRoots{"/sys", "/dev"};

void put(const TempDir& dir, const std::string& name, const std::string& text, mode_t mode = 0600) {
  std::filesystem::create_directories(dir.path() + "/intents");
  std::string path = dir.path() + "/intents/" + name;
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

std::string intent(const std::string& undo) {
  return "usbrecover-intent 1\ndevice 1-1.2 0665:5161\nundo " + undo + "\n";
}

std::vector<RepairItem> repair(const TempDir& dir, FakeEffects& fx) {
  auto r = repair_intents(dir.path(), fx, kRoots);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : std::vector<RepairItem>{};
}

TEST(Repair, NothingLeftIsNotAnError) {
  TempDir dir;
  FakeEffects fx;
  EXPECT_THAT(repair(dir, fx), IsEmpty());
  EXPECT_THAT(fx.log(), IsEmpty());
}

TEST(Repair, PerformsEveryValidIntentAndRemovesIt) {
  TempDir dir;
  put(dir, "a.intent", intent("write /sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.2/authorized 1"));
  put(dir, "b.intent", intent("port-power /dev/bus/usb/001/002 2 on"));
  put(dir, "c.intent", intent("write /sys/bus/usb/drivers/usbhid/bind 1-1.2:1.0"));
  put(dir, "d.intent",
      intent("write /sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/1-1-port2/disable 0"));
  put(dir, "e.intent", intent("write /sys/bus/pci/drivers/xhci_hcd/bind 0000:00:14.0"));
  FakeEffects fx;
  auto items = repair(dir, fx);
  ASSERT_EQ(items.size(), 5u);
  for (const auto& it : items)
    EXPECT_EQ(it.status, Status_::Restored) << it.file << ": " << it.error.message();
  EXPECT_EQ(items[1].undo, "port-power /dev/bus/usb/001/002 2 on");
  EXPECT_EQ(items[1].device, "1-1.2 0665:5161");
  EXPECT_THAT(
      fx.log(),
      ElementsAre("write /sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.2/authorized 1",
                  "port-power /dev/bus/usb/001/002 2 on", "write /sys/bus/usb/drivers/usbhid/bind 1-1.2:1.0",
                  "write /sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/1-1-port2/disable 0",
                  "write /sys/bus/pci/drivers/xhci_hcd/bind 0000:00:14.0"));
  EXPECT_THAT(dir.files("intents"), IsEmpty());
}

TEST(Repair, CorruptAndForeignFilesAreReportedNeverExecuted) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"corrupt.intent", "usbrecover-intent 1\ndevice x\nundo write /sys/a"},  // cut short
      {"empty.intent", ""},
      {"version.intent", "usbrecover-intent 2\ndevice x\nundo write /sys/a/authorized 1\n"},
      {"extra.intent", intent("write /sys/a/authorized 1") + "undo write /sys/b/authorized 1\n"},
      {"escape.intent", intent("write /sys/../etc/shadow 1")},
      {"outside.intent", intent("write /etc/passwd 1")},
      {"prefix.intent", intent("write /system/authorized 1")},
      {"off.intent", intent("write /sys/a/authorized 0")},
      {"other-attr.intent", intent("write /sys/a/remove 1")},
      {"bind-name.intent", intent("write /sys/bus/usb/drivers/x/bind a;b")},
      {"power-off.intent", intent("port-power /dev/bus/usb/001/002 2 off")},
      {"node.intent", intent("port-power /dev/sda 2 on")},
      {"reset.intent", intent("reset /dev/bus/usb/001/002")},
      {"warm-reset.intent", intent("warm-reset /dev/bus/usb/002/001 4")},  // turns nothing on
      {"notes.txt", "hello\n"},
  };
  for (const auto& [name, text] : bad) put(dir, name, text);
  put(dir, "shared.intent", intent("write /sys/a/authorized 1"), 0666);
  FakeEffects fx;
  auto items = repair(dir, fx);
  ASSERT_EQ(items.size(), bad.size() + 1);
  for (const auto& it : items) EXPECT_EQ(it.status, Status_::Invalid) << it.file;
  EXPECT_THAT(fx.log(), IsEmpty());
  EXPECT_EQ(dir.files("intents").size(), bad.size() + 1);  // left for a human to look at
}

TEST(Repair, AFailedUndoIsKeptAndAVanishedTargetIsDropped) {
  TempDir dir;
  put(dir, "a.intent", intent("write /sys/a/authorized 1"));
  put(dir, "b.intent", intent("write /sys/b/authorized 1"));
  FakeEffects fx;
  fx.fail_always("write /sys/a/authorized 1", EIO);
  fx.fail_always("write /sys/b/authorized 1", ENOENT);
  auto items = repair(dir, fx);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].status, Status_::Failed);
  EXPECT_EQ(items[0].error.errnum, EIO);
  EXPECT_EQ(items[1].status, Status_::Gone);
  EXPECT_THAT(dir.files("intents"), ElementsAre("a.intent"));
}

TEST(Repair, LeavesARunningRecoveryAlone) {
  TempDir dir;
  IntentJournal journal(dir.path());
  auto held = journal.record(write_action("/sys/a/authorized", "1"), "1-1.2 0665:5161");
  ASSERT_TRUE(held.ok());
  FakeEffects fx;
  auto items = repair(dir, fx);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].status, Status_::Busy);
  EXPECT_THAT(fx.log(), IsEmpty());
}

TEST(Repair, TakesOverWhatADeadRunLeft) {
  // A run whose undo failed leaves its intent behind unlocked; repair restores the model.
  auto plan = plan_method(test::ups_snapshot(), Method::PortPower);
  ASSERT_TRUE(plan.ok());
  TempDir dir;
  IntentJournal journal(dir.path());
  FakeEffects fx;
  fx.start_all_on(*plan);
  FakeEffects before = fx;
  fx.fail_always("port-power /dev/bus/usb/002/002 2 on", ETIMEDOUT);
  RunReport r = execute(*plan, fx, journal, "1-1.2 0665:5161");
  ASSERT_EQ(r.left_off.size(), 1u);
  EXPECT_FALSE(fx == before);

  FakeEffects healthy = fx;  // same model, no failures
  healthy.clear_failures();
  auto items = repair(dir, healthy);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].status, Status_::Restored);
  EXPECT_TRUE(healthy.attrs == before.attrs && healthy.power_ == before.power_);
  EXPECT_THAT(dir.files("intents"), IsEmpty());
}

/// The pid of a process that has ended (and been reaped).
pid_t dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

TEST(Repair, RemovesTheTemporaryFileOfAWriterThatDiedBeforeRenaming) {
  TempDir dir;
  put(dir, "authorized-" + std::to_string(dead_pid()) + "-0123456789abcdef.intent.tmp",
      "usbrecover-intent 1\n");
  FakeEffects fx;
  EXPECT_THAT(repair(dir, fx), IsEmpty());
  EXPECT_THAT(dir.files("intents"), IsEmpty());
}

// Regression (Handle.FiftyConcurrentHelpersDoOneRecovery failed now and then): a writer creates
// its temporary file before it can lock it, so another helper's repair found it unlocked,
// removed it, and the writer's rename failed. A live writer's file is left alone.
TEST(Repair, LeavesTheTemporaryFileOfALiveWriterAlone) {
  TempDir dir;
  const std::string name = "authorized-" + std::to_string(::getpid()) + "-0123456789abcdef.intent.tmp";
  put(dir, name, "usbrecover-intent 1\n");
  FakeEffects fx;
  EXPECT_THAT(repair(dir, fx), IsEmpty());
  EXPECT_THAT(dir.files("intents"), ElementsAre(name));
}

// Regression: a writer removes its intent (holding the lock) once the thing is on again. A repair
// that opened the file just before and locked it just after must see that it is gone, not undo
// it again. Writers here never die, so repair must never perform anything, however the two
// interleave.
TEST(Repair, NeverPerformsAnIntentItsWriterHasCompleted) {
  TempDir dir;
  const std::string attr = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.2/authorized";
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    IntentJournal journal(dir.path());
    while (!stop) {
      auto intent = journal.record(write_action(attr, "1"), "1-1.2 0665:5161");
      if (!intent) continue;
      ++written;
      (void)intent->done();
    }
  });
  FakeEffects fx;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  std::vector<std::string> wrong;
  while (std::chrono::steady_clock::now() < until && wrong.empty()) {
    auto items = repair_intents(dir.path(), fx, kRoots);
    ASSERT_TRUE(items.ok()) << items.error().message();
    for (const auto& it : *items)
      if (it.status != Status_::Busy) wrong.push_back(it.file + ": " + it.undo + " " + it.error.message());
  }
  stop = true;
  writer.join();
  EXPECT_GT(written.load(), 20);
  EXPECT_THAT(wrong, IsEmpty());
  EXPECT_THAT(fx.log(), IsEmpty());
}

TEST(Repair, CreatesThePrivateStateDirectory) {
  TempDir dir;
  IntentJournal journal(dir.path() + "/state");
  auto held = journal.record(write_action("/sys/a/authorized", "1"), "x");
  ASSERT_TRUE(held.ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() + "/state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir.path() + "/state/intents").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(held->done().ok());
  EXPECT_THAT(dir.files("state/intents"), IsEmpty());
}

}  // namespace
}  // namespace usbrecover
