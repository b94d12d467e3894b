#include "http_request.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace synack::tools {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string content_type(std::string_view path) {
  if (path.ends_with(".html") || path.ends_with(".htm")) return "text/html";
  if (path.ends_with(".txt")) return "text/plain";
  if (path.ends_with(".json")) return "application/json";
  if (path.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      out += path[i];
      continue;
    }
    if (i + 2 >= path.size()) return std::nullopt;
    const int hi = hex(path[i + 1]);
    const int lo = hex(path[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0' || c == '/') return std::nullopt;
    out += c;
    i += 2;
  }
  return out;
}

std::optional<byte_range> parse_range(std::string_view value, std::uint64_t size) {
  value = trim(value);
  if (!value.starts_with("bytes=")) return std::nullopt;
  value.remove_prefix(6);
  if (value.find(',') != std::string_view::npos) return std::nullopt;  // several ranges: send it all
  const auto dash = value.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto a = trim(value.substr(0, dash));
  const auto b = trim(value.substr(dash + 1));
  if (a.empty()) {  // suffix: the last N bytes
    auto n = number(b);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) return byte_range{0, 0, false};
    return byte_range{size - std::min(*n, size), size - 1, true};
  }
  auto first = number(a);
  if (!first) return std::nullopt;
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!b.empty()) {
    auto l = number(b);
    if (!l || *l < *first) return std::nullopt;  // invalid: ignored (RFC 9110 §14.2)
    last = std::min(*l, last);
  }
  if (*first >= size) return byte_range{*first, *first, false};
  return byte_range{*first, last, true};
}

http_plan plan_response(const std::string& root, std::string_view req) {
  http_plan p;
  const auto eol = req.find("\r\n");
  const std::string_view line = req.substr(0, eol);
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  std::string version = "HTTP/1.0";
  if (sp1 != std::string_view::npos && sp2 != std::string_view::npos && sp2 > sp1) {
    p.method = line.substr(0, sp1);
    p.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    version = line.substr(sp2 + 1);
  }
  std::string connection;
  std::optional<std::string> range;
  std::size_t pos = eol == std::string_view::npos ? req.size() : eol + 2;
  while (pos < req.size()) {
    auto next = req.find("\r\n", pos);
    if (next == std::string_view::npos) next = req.size();
    const std::string_view field = req.substr(pos, next - pos);
    if (auto colon = field.find(':'); colon != std::string_view::npos) {
      const std::string name = lower(trim(field.substr(0, colon)));
      if (name == "connection") connection = lower(field.substr(colon + 1));
      if (name == "range") range = std::string(field.substr(colon + 1));
    }
    pos = next + 2;
  }
  const bool http11 = version == "HTTP/1.1";
  p.keep_alive = http11 ? connection.find("close") == std::string::npos
                        : connection.find("keep-alive") != std::string::npos;
  std::string reason = "OK";
  std::string type = "text/plain";
  std::string extra;  // more header fields
  std::string body;
  std::uint64_t size = 0;
  const bool head = p.method == "HEAD";
  auto fail = [&](int status, const char* why, const char* text) {
    p.status = status, reason = why, body = text;
  };
  std::optional<std::string> path;
  if (p.method.empty() || p.target.empty() || p.target[0] != '/' || !version.starts_with("HTTP/1.") ||
      !(path = percent_decode(std::string_view(p.target).substr(0, p.target.find('?'))))) {
    fail(400, "Bad Request", "bad request\n");
    p.keep_alive = false;
  } else if (p.method != "GET" && !head) {
    fail(405, "Method Not Allowed", "method not allowed\n");
    extra += "Allow: GET, HEAD\r\n";
  } else {
    if (path->ends_with("/")) *path += "index.html";
    const bool dotdot = path->find("/../") != std::string::npos || path->ends_with("/..");
    struct stat st {};
    const std::string full = root + *path;
    const int fd = dotdot ? -1 : ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      size = static_cast<std::uint64_t>(st.st_size);
      type = content_type(*path);
      p.length = size;
      extra += "Accept-Ranges: bytes\r\n";
      if (auto r = range ? parse_range(*range, size) : std::nullopt) {
        if (r->satisfiable) {
          p.status = 206, reason = "Partial Content";
          p.offset = r->first, p.length = r->last - r->first + 1;
          extra += fmt::format("Content-Range: bytes {}-{}/{}\r\n", r->first, r->last, size);
        } else {
          fail(416, "Range Not Satisfiable", "range not satisfiable\n");
          extra += fmt::format("Content-Range: bytes */{}\r\n", size);
        }
      }
      if (p.status < 300 && !head) {
        p.file = fd;
      } else {
        ::close(fd);
      }
    } else {
      if (fd >= 0) ::close(fd);
      fail(404, "Not Found", "not found\n");
    }
  }
  if (p.status >= 300) p.length = body.size(), type = "text/plain";
  std::string conn_field;
  if (!p.keep_alive) {
    conn_field = "Connection: close\r\n";
  } else if (!http11) {
    conn_field = "Connection: keep-alive\r\n";  // HTTP/1.0 asked for it: say it is granted
  }
  p.head = fmt::format("HTTP/1.1 {} {}\r\nServer: synack\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}{}\r\n",
                       p.status, reason, type, p.length, extra, conn_field);
  if (p.status >= 300) {
    if (!head) p.head += body;
    p.length = 0;  // the body is in `head`
  } else if (head) {
    p.length = 0;
  }
  return p;
}

std::string access_log_line(std::string_view peer, const http_plan& p) {
  const auto body = p.status >= 300 ? p.head.size() - p.head.find("\r\n\r\n") - 4 : p.length;
  return fmt::format("{} \"{} {}\" {} {}", peer, p.method.empty() ? "-" : p.method, p.target.empty() ? "-" : p.target,
                     p.status, body);
}

}  // namespace synack::tools
