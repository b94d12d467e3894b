#pragma once
// The packetdrill parser: text in, script out. Pure (no file reads: the tool reads the file
// and passes its text). nplab's preprocessor runs first: `#ifdef NAME`, `#ifndef NAME`,
// `#else`, `#endif`, `#define NAME [value]`; the lines it removes keep their numbers, so
// errors point at the original file:line:column.
#include <string>
#include <string_view>
#include <vector>

#include "synack/pkt/script.hpp"
#include "synack/util/result.hpp"

namespace synack::pkt {

struct parse_error {
  source_pos pos;
  std::string message;
  // The text is valid packetdrill, but uses a feature this runner does not implement (TFO
  // options, UDP encapsulation, ...): the script is UNSUPPORTED, not broken.
  bool unsupported = false;
};

// `defines`: the names #ifdef sees as defined (the runner defines STANDARD, as nplab's
// RFC-conformant branch, and nothing OS-specific).
[[nodiscard]] result<script, parse_error> parse_script(std::string_view text,
                                                       const std::vector<std::string>& defines = {"STANDARD"});

// Lines of `text` with the preprocessor applied: removed lines become empty.
[[nodiscard]] result<std::string, parse_error> preprocess(std::string_view text, std::vector<std::string> defines);

}  // namespace synack::pkt
