// SPDX-License-Identifier: MIT
#pragma once

// The megatec/Q1 exchange as NUT's nutdrv_qx does it over USB, as pure functions: which transfer
// shape a VID:PID gets, the chunks to send, when a reply is complete, and whether it is a
// healthy answer. probe.cpp does the I/O; the tests call these directly.
//
// Two shapes exist among the ids nutdrv_qx knows (NUT 2.8.0):
//  - Cypress (0665:5161 and most bridges): HID SET_REPORT (0x21, 0x09, wValue 0x200) with the
//    command in 8-byte chunks, the reply read from interrupt IN 8 bytes at a time until '\r';
//  - Phoenixtec/Ippon (06da:0003): the same request with wValue 0x2, and the reply read in ONE
//    interrupt transfer of at most 64 bytes; the bridge hangs when asked for more (seed 004).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "snapshot/probe_result.hpp"

namespace usbrecover {

/// How a megatec USB-to-serial bridge wants to be spoken to.
enum class MegatecStyle { Cypress, Ippon };

/// The transfers of one exchange with a bridge of a given style.
struct MegatecShape {
  MegatecStyle style = MegatecStyle::Cypress;
  std::uint16_t report_value = 0x200;  ///< wValue of the SET_REPORT requests
  std::size_t read_size = 8;           ///< bytes asked for per interrupt IN transfer
  std::size_t max_reply = 64;          ///< stop reading after this many bytes
  bool single_read = false;            ///< one interrupt transfer only (Ippon)
};

/// The command NUT sends to read the status line.
inline constexpr std::string_view kMegatecStatusQuery = "Q1\r";

/// The shape nutdrv_qx uses for `vendor`:`product`; Cypress for every id but 06da:0003.
MegatecShape megatec_shape(std::uint16_t vendor, std::uint16_t product);

/// `command` cut into 8-byte SET_REPORT payloads, the last one zero-padded. An empty command
/// gives no chunks.
std::vector<std::array<std::uint8_t, 8>> megatec_chunks(std::string_view command);

/// True once `received` holds a '\r': the reply is complete and reading stops.
bool megatec_reply_complete(std::span<const std::uint8_t> received);

/// Judges the bytes read back: Healthy when the reply (everything up to the first '\r'; what
/// follows is padding) starts with '(' and ends with '\r'. The detail quotes the start of the
/// reply with control and non-ASCII bytes escaped. An empty `received` is Failed ("empty reply");
/// the caller words a timeout with nothing read itself.
ProbeResult judge_megatec_reply(std::span<const std::uint8_t> received);

/// At most `max_bytes` of `bytes` as printable ASCII: '\r', '\n', '\t', '\\' and '\'' escaped,
/// other bytes outside 0x20..0x7e as \xNN, "..." appended when cut.
std::string printable_bytes(std::span<const std::uint8_t> bytes, std::size_t max_bytes);

}  // namespace usbrecover
