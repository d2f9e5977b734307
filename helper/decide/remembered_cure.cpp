// SPDX-License-Identifier: MIT
#include "decide/remembered_cure.hpp"

#include <algorithm>

namespace usbrecover {

CureMemory remembered_cure(const History& history, const std::vector<Method>& ladder, EpochMs now) {
  auto index_of = [&ladder](Method m) {
    return static_cast<std::size_t>(std::find(ladder.begin(), ladder.end(), m) - ladder.begin());
  };
  CureMemory memory;
  std::vector<Method> failed;  // methods that failed since the last cure
  // The remembered method failed: the cure that ends its run climbed from it, which proves
  // nothing about where the next failure should start.
  bool distrust_next_cure = false;
  for (const Attempt& a : history.attempts) {
    if (a.at > now) continue;
    if (!a.recovered) {
      if (memory.cure && a.method == memory.cure->method) {
        memory.cure.reset();
        memory.lapsed = a;
        distrust_next_cure = true;
      }
      if (std::find(failed.begin(), failed.end(), a.method) == failed.end()) failed.push_back(a.method);
      continue;
    }
    const std::size_t at = index_of(a.method);
    if (distrust_next_cure) {
      distrust_next_cure = false;
      memory.cure.reset();
    } else if (memory.cure && memory.cure->method == a.method) {
      memory.cure->cured_at.insert(memory.cure->cured_at.begin(), a.at);
      if (memory.cure->cured_at.size() > kCureTimesNamed) memory.cure->cured_at.pop_back();
      memory.lapsed.reset();
    } else {
      std::vector<Method> below;
      for (Method m : ladder)
        if (index_of(m) < at && std::find(failed.begin(), failed.end(), m) != failed.end())
          below.push_back(m);
      memory.cure.reset();
      memory.lapsed.reset();
      if (at > 0 && at < ladder.size() && !below.empty())
        memory.cure = RememberedCure{a.method, {a.at}, std::move(below)};
    }
    failed.clear();
  }
  if (memory.cure && (index_of(memory.cure->method) >= ladder.size() ||
                      now - memory.cure->cured_at.front() > kRememberCure.count()))
    memory.cure.reset();
  if (memory.lapsed && now - memory.lapsed->at > kRememberCure.count()) memory.lapsed.reset();
  return memory;
}

}  // namespace usbrecover
