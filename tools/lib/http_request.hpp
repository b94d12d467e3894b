#pragma once
// The HTTP side of `synack serve http`, apart from the connection handling: a request's head
// in, the response's plan out (status, header, which bytes of which file). Pure but for the
// open()/fstat() of the file it names, so tests call it without a network.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace synack::tools {

// Decodes %XX escapes of a request target's path. nullopt for a malformed escape, an encoded
// NUL, or an encoded '/' (a path segment may not hide a separator).
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view path);

// A single byte range (RFC 9110 §14.1.2) over a representation of `size` bytes, as the
// inclusive first and last byte. `satisfiable` is false for a range that starts beyond the end
// (answered 416); nullopt means "ignore the header" (not bytes=, several ranges, malformed).
struct byte_range {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  bool satisfiable = true;
};
[[nodiscard]] std::optional<byte_range> parse_range(std::string_view value, std::uint64_t size);

struct http_plan {
  int status = 200;
  std::string method;         // as requested ("" when the request line is malformed)
  std::string target;         // as requested
  std::string head;           // status line, header fields, and for errors the body
  int file = -1;              // a descriptor the caller reads from and closes, or -1
  std::uint64_t offset = 0;   // of the file's bytes to send
  std::uint64_t length = 0;   // bytes of the file to send after `head`
  bool keep_alive = true;
};

// Plans the answer to one request head (the request line and the header fields, without the
// blank line) for files under `root`: GET and HEAD, 200/206/400/404/405/416, persistent
// connections (HTTP/1.1 unless "Connection: close"; HTTP/1.0 with "Connection: keep-alive",
// then echoed in the response), Range with one byte range, percent-decoded paths, ".." refused.
[[nodiscard]] http_plan plan_response(const std::string& root, std::string_view request);

// One access-log line: `peer "METHOD TARGET" STATUS BYTES` (body bytes).
[[nodiscard]] std::string access_log_line(std::string_view peer, const http_plan& p);

}  // namespace synack::tools
