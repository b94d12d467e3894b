// A static-file HTTP/1.1 server over event_loop callbacks: the requests are planned by
// http_request.cpp (GET/HEAD, Range, keep-alive, percent-decoded paths); this file moves the
// bytes. One response at a time per connection; pipelined requests wait in the input buffer.
// With an access log, one line per request on stderr.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "http_request.hpp"
#include "servers.hpp"

namespace synack::tools {
namespace {

constexpr std::size_t chunk = 64 * 1024;
constexpr std::size_t max_request = 16 * 1024;

class http_server final : public server_app {
 public:
  http_server(runtime::event_loop& loop, std::string root, bool log)
      : loop_(loop), root_(std::move(root)), log_(log), buf_(chunk) {}
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
    start_response(h, s, req);
    pump(h);
  }

  void start_response(conn_handle h, state& s, const std::string& req) {
    http_plan p = plan_response(root_, req);
    if (log_) {
      std::string peer = "-";
      if (auto st = loop_.host().status(h)) peer = st->tuple.remote_addr.with_port(st->tuple.remote_port);
      fmt::print(stderr, "{}\n", access_log_line(peer, p));
    }
    s.keep_alive = p.keep_alive;
    s.busy = true;
    s.head = std::move(p.head);
    s.head_off = 0;
    s.file = p.file, s.file_pos = p.offset, s.file_left = p.length;
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
    // The file is the buffer (as sendfile): a chunk is read into the server's one buffer and
    // the position advances by what send() took; the rest is read again when there is room.
    // A connection whose peer holds a zero window so pins no memory of the server's own
    // (issue #13 case 5: 500 of them held 64 KiB each in a per-connection chunk).
    while (s.file_left > 0) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, s.file_left));
      const ssize_t n = ::pread(s.file, buf_.data(), want, static_cast<off_t>(s.file_pos));
      if (n <= 0) return finish(h);  // the file shrank under us: the length is now a lie
      auto w = loop_.send(h, bytes{buf_.data(), static_cast<std::size_t>(n)});
      if (!w) return blocked(h, w.error());
      if (*w == 0) return blocked(h, tcp_error::would_block);
      s.file_pos += *w;
      s.file_left -= *w;
    }
    close_file(s);
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
  bool log_;
  std::vector<std::byte> buf_;
  std::unordered_map<std::uint32_t, state> conns_;
};

}  // namespace

std::unique_ptr<server_app> make_http_server(runtime::event_loop& loop, std::string root, bool access_log) {
  return std::make_unique<http_server>(loop, std::move(root), access_log);
}

}  // namespace synack::tools
