// A static-file HTTP/1.1 server: GET and HEAD, persistent connections (HTTP/1.1 default,
// HTTP/1.0 with "Connection: keep-alive"), Content-Length on every response, 404/405/400.
// One response at a time per connection; pipelined requests wait in the input buffer.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <unordered_map>
#include <vector>

#include "servers.hpp"

namespace synack::tools {
namespace {

constexpr std::size_t chunk = 64 * 1024;
constexpr std::size_t max_request = 16 * 1024;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string content_type(const std::string& path) {
  auto ends = [&](std::string_view suf) { return path.size() >= suf.size() && path.ends_with(suf); };
  if (ends(".html") || ends(".htm")) return "text/html";
  if (ends(".txt")) return "text/plain";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
}

class http_server final : public server_app {
 public:
  http_server(runtime::event_loop& loop, std::string root) : loop_(loop), root_(std::move(root)), buf_(chunk) {}
  ~http_server() override {
    for (auto& [i, s] : conns_) close_file(s);
  }
  void on_accept(conn_handle h) override {
    conns_[h.index] = state{};
    loop_.set_callbacks(h, {.on_established = {},
                            .on_readable = [this, h] { readable(h); },
                            .on_writable = [this, h] { pump(h); },
                            .on_closed = [this, h](close_reason) { drop(h); }});
  }
  [[nodiscard]] std::size_t open_connections() const override { return conns_.size(); }

 private:
  struct state {
    std::string in;
    std::string head;  // response header still to send
    std::size_t head_off = 0;
    int file = -1;
    std::uint64_t file_left = 0;
    std::uint64_t file_pos = 0;
    std::vector<std::byte> pending;  // read from the file, not yet accepted by send()
    std::size_t pending_off = 0;
    bool busy = false;  // a response is in progress
    bool keep_alive = true;
    bool peer_eof = false;
  };

  static void close_file(state& s) {
    if (s.file >= 0) ::close(s.file);
    s.file = -1;
  }
  void drop(conn_handle h) {
    auto it = conns_.find(h.index);
    if (it == conns_.end()) return;
    close_file(it->second);
    conns_.erase(it);
  }
  void finish(conn_handle h) {
    drop(h);
    (void)loop_.close(h);
  }

  void readable(conn_handle h) {
    auto it = conns_.find(h.index);
    if (it == conns_.end()) return;
    state& s = it->second;
    for (;;) {
      auto r = loop_.recv(h, buf_);
      if (!r) {
        if (r.error() != tcp_error::would_block) return finish(h);
        break;
      }
      if (*r == 0) {
        s.peer_eof = true;
        break;
      }
      s.in.append(reinterpret_cast<const char*>(buf_.data()), *r);  // NOLINT: bytes as text
      if (s.in.size() > max_request && s.in.find("\r\n\r\n") == std::string::npos) return finish(h);
    }
    if (!s.busy) next_request(h);
  }

  void next_request(conn_handle h) {
    state& s = conns_[h.index];
    const auto end = s.in.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (s.peer_eof) finish(h);  // the client is done (or sent half a request)
      return;
    }
    const std::string req = s.in.substr(0, end);
    s.in.erase(0, end + 4);
    start_response(s, req);
    pump(h);
  }

  void start_response(state& s, const std::string& req) {
    const auto eol = req.find("\r\n");
    const std::string line = req.substr(0, eol);
    const auto sp1 = line.find(' ');
    const auto sp2 = line.rfind(' ');
    std::string method;
    std::string target;
    std::string version = "HTTP/1.0";
    if (sp1 != std::string::npos && sp2 != std::string::npos && sp2 > sp1) {
      method = line.substr(0, sp1);
      target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      version = line.substr(sp2 + 1);
    }
    std::string connection_hdr;
    std::size_t pos = eol == std::string::npos ? req.size() : eol + 2;
    while (pos < req.size()) {
      auto next = req.find("\r\n", pos);
      if (next == std::string::npos) next = req.size();
      const std::string hl = req.substr(pos, next - pos);
      if (auto colon = hl.find(':'); colon != std::string::npos && lower(hl.substr(0, colon)) == "connection") {
        connection_hdr = lower(hl.substr(colon + 1));
      }
      pos = next + 2;
    }
    s.keep_alive = version == "HTTP/1.1" ? connection_hdr.find("close") == std::string::npos
                                         : connection_hdr.find("keep-alive") != std::string::npos;
    s.busy = true;
    int status = 200;
    std::string reason = "OK";
    std::uint64_t length = 0;
    std::string type = "text/plain";
    std::string body;
    const bool head = method == "HEAD";
    if (method.empty() || target.empty() || target[0] != '/' || version.rfind("HTTP/1.", 0) != 0) {
      status = 400, reason = "Bad Request", body = "bad request\n", s.keep_alive = false;
    } else if (method != "GET" && !head) {
      status = 405, reason = "Method Not Allowed", body = "method not allowed\n";
    } else {
      std::string path = target.substr(0, target.find('?'));
      if (path.ends_with("/")) path += "index.html";
      const bool dotdot = path.find("/../") != std::string::npos || path.ends_with("/..");
      struct stat st {};
      const std::string full = root_ + path;
      const int fd = dotdot ? -1 : ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        length = static_cast<std::uint64_t>(st.st_size);
        type = content_type(path);
        if (head) {
          ::close(fd);
        } else {
          s.file = fd, s.file_left = length, s.file_pos = 0;
        }
      } else {
        if (fd >= 0) ::close(fd);
        status = 404, reason = "Not Found", body = "not found\n";
      }
    }
    if (status != 200) length = body.size();
    s.head = fmt::format("HTTP/1.1 {} {}\r\nServer: synack\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}\r\n", status,
                         reason, type, length, s.keep_alive ? "" : "Connection: close\r\n");
    if (!head) s.head += body;
    s.head_off = 0;
  }

  // Sends as much of the response as fits; on completion starts the next request or closes.
  void pump(conn_handle h) {
    auto it = conns_.find(h.index);
    if (it == conns_.end()) return;
    state& s = it->second;
    if (!s.busy) return;
    while (s.head_off < s.head.size()) {
      auto w = loop_.send(h, bytes{reinterpret_cast<const std::byte*>(s.head.data()) + s.head_off,  // NOLINT
                                   s.head.size() - s.head_off});
      if (!w) return blocked(h, w.error());
      s.head_off += *w;
    }
    while (s.pending_off < s.pending.size() || s.file_left > 0) {
      if (s.pending_off == s.pending.size()) {
        s.pending.resize(static_cast<std::size_t>(std::min<std::uint64_t>(chunk, s.file_left)));
        const ssize_t n = ::pread(s.file, s.pending.data(), s.pending.size(), static_cast<off_t>(s.file_pos));
        if (n <= 0) return finish(h);  // the file shrank under us: the length is now a lie
        s.pending.resize(static_cast<std::size_t>(n));
        s.pending_off = 0;
        s.file_pos += static_cast<std::uint64_t>(n);
        s.file_left -= static_cast<std::uint64_t>(n);
      }
      auto w = loop_.send(h, bytes{s.pending}.subspan(s.pending_off));
      if (!w) return blocked(h, w.error());
      s.pending_off += *w;
    }
    close_file(s);
    s.pending.clear();
    s.pending_off = 0;
    s.busy = false;
    if (!s.keep_alive) return finish(h);  // we close first: TIME-WAIT is ours
    next_request(h);
  }

  void blocked(conn_handle h, tcp_error e) {
    if (e == tcp_error::would_block) {
      loop_.want_writable(h, true);
    } else {
      finish(h);
    }
  }

  runtime::event_loop& loop_;
  std::string root_;
  std::vector<std::byte> buf_;
  std::unordered_map<std::uint32_t, state> conns_;
};

}  // namespace

std::unique_ptr<server_app> make_http_server(runtime::event_loop& loop, std::string root) {
  return std::make_unique<http_server>(loop, std::move(root));
}

}  // namespace synack::tools
