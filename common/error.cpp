// SPDX-License-Identifier: MIT
#include "error.hpp"

#include <cerrno>
#include <cstring>

namespace usbrecover {

std::string Error::message() const {
  std::string out;
  auto add = [&out](const std::string& part) {
    if (part.empty()) return;
    if (!out.empty()) out += ": ";
    out += part;
  };
  add(context);
  add(object);
  add(reason);
  if (errnum != 0) add(std::strerror(errnum));
  return out;
}

Error Error::within(std::string ctx) const {
  Error e = *this;
  if (!e.context.empty()) ctx += ": " + e.context;
  e.context = std::move(ctx);
  return e;
}

Error errno_error(std::string object, std::string reason) {
  return Error{.context = {}, .object = std::move(object), .reason = std::move(reason), .errnum = errno};
}

}  // namespace usbrecover
