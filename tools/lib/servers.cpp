// echo, discard and chargen; the HTTP server is in http_server.cpp.
#include <array>
#include <unordered_map>
#include <vector>

#include "servers.hpp"

namespace synack::tools {
namespace {

constexpr std::size_t chunk = 64 * 1024;

// Echo: what comes in goes back out; when the peer half-closes, we finish sending and close.
// Reading pauses while echoed bytes wait for send space (flow control end to end).
class echo_server final : public server_app {
 public:
  explicit echo_server(runtime::event_loop& loop) : loop_(loop), buf_(chunk) {}
  void on_accept(conn_handle h) override {
    conns_[h.index] = {};
    loop_.set_callbacks(h, {.on_established = {},
                            .on_readable = [this, h] { readable(h); },
                            .on_writable = [this, h] { writable(h); },
                            .on_closed = [this, h](close_reason) { conns_.erase(h.index); }});
  }
  [[nodiscard]] std::size_t open_connections() const override { return conns_.size(); }

 private:
  struct state {
    std::vector<std::byte> pending;
    bool eof = false;
  };
  void readable(conn_handle h) {
    state& s = conns_[h.index];
    while (s.pending.empty()) {
      auto r = loop_.recv(h, buf_);
      if (!r) {
        if (r.error() != tcp_error::would_block) finish(h, true);
        return;
      }
      if (*r == 0) {
        s.eof = true;
        finish(h, false);
        return;
      }
      auto w = loop_.send(h, bytes{buf_.data(), *r});
      const std::size_t sent = w ? *w : 0;
      if (!w && w.error() != tcp_error::would_block) {
        finish(h, true);
        return;
      }
      if (sent < *r) {
        s.pending.assign(buf_.begin() + static_cast<std::ptrdiff_t>(sent), buf_.begin() + static_cast<std::ptrdiff_t>(*r));
        loop_.pause_reading(h, true);
        loop_.want_writable(h, true);
      }
    }
  }
  void writable(conn_handle h) {
    state& s = conns_[h.index];
    auto w = loop_.send(h, s.pending);
    if (w) s.pending.erase(s.pending.begin(), s.pending.begin() + static_cast<std::ptrdiff_t>(*w));
    if (!w && w.error() != tcp_error::would_block) {
      finish(h, true);
      return;
    }
    if (!s.pending.empty()) {
      loop_.want_writable(h, true);
      return;
    }
    loop_.pause_reading(h, false);
    if (s.eof) finish(h, false);
  }
  void finish(conn_handle h, bool failed) {
    state& s = conns_[h.index];
    if (!failed && !s.pending.empty()) return;  // writable() finishes once it is sent
    conns_.erase(h.index);
    (void)loop_.close(h);
  }
  runtime::event_loop& loop_;
  std::vector<std::byte> buf_;
  std::unordered_map<std::uint32_t, state> conns_;
};

// Discard: read and drop; close when the peer does.
class discard_server final : public server_app {
 public:
  explicit discard_server(runtime::event_loop& loop) : loop_(loop), buf_(chunk) {}
  void on_accept(conn_handle h) override {
    ++open_;
    loop_.set_callbacks(h, {.on_established = {},
                            .on_readable = [this, h] { readable(h); },
                            .on_writable = {},
                            .on_closed = [this](close_reason) { --open_; }});
  }
  [[nodiscard]] std::size_t open_connections() const override { return open_; }

 private:
  void readable(conn_handle h) {
    for (;;) {
      auto r = loop_.recv(h, buf_);
      if (r && *r > 0) continue;
      if (!r && r.error() == tcp_error::would_block) return;
      --open_;
      (void)loop_.close(h);
      return;
    }
  }
  runtime::event_loop& loop_;
  std::vector<std::byte> buf_;
  std::size_t open_ = 0;
};

// Chargen: the RFC 864 rotating 72-character lines, as fast as the peer takes them; input
// is discarded; the peer's FIN closes the connection.
class chargen_server final : public server_app {
 public:
  explicit chargen_server(runtime::event_loop& loop) : loop_(loop), buf_(chunk) {
    pattern_.reserve(95 * 74);
    for (std::size_t line = 0; line < 95; ++line) {
      for (std::size_t i = 0; i < 72; ++i) pattern_.push_back(static_cast<std::byte>(' ' + (line + i) % 95));
      pattern_.push_back(std::byte{'\r'});
      pattern_.push_back(std::byte{'\n'});
    }
  }
  void on_accept(conn_handle h) override {
    offsets_[h.index] = 0;
    loop_.set_callbacks(h, {.on_established = {},
                            .on_readable = [this, h] { readable(h); },
                            .on_writable = [this, h] { writable(h); },
                            .on_closed = [this, h](close_reason) { offsets_.erase(h.index); }});
    loop_.want_writable(h, true);
  }
  [[nodiscard]] std::size_t open_connections() const override { return offsets_.size(); }

 private:
  void writable(conn_handle h) {
    std::size_t& off = offsets_[h.index];
    for (;;) {
      auto w = loop_.send(h, bytes{pattern_}.subspan(off));
      if (!w) break;
      off = (off + *w) % pattern_.size();
    }
    loop_.want_writable(h, true);
  }
  void readable(conn_handle h) {
    for (;;) {
      auto r = loop_.recv(h, buf_);
      if (r && *r > 0) continue;
      if (!r && r.error() == tcp_error::would_block) return;
      offsets_.erase(h.index);
      (void)loop_.close(h);
      return;
    }
  }
  runtime::event_loop& loop_;
  std::vector<std::byte> buf_;
  std::vector<std::byte> pattern_;
  std::unordered_map<std::uint32_t, std::size_t> offsets_;
};

}  // namespace

std::unique_ptr<server_app> make_echo_server(runtime::event_loop& loop) { return std::make_unique<echo_server>(loop); }
std::unique_ptr<server_app> make_discard_server(runtime::event_loop& loop) {
  return std::make_unique<discard_server>(loop);
}
std::unique_ptr<server_app> make_chargen_server(runtime::event_loop& loop) {
  return std::make_unique<chargen_server>(loop);
}

}  // namespace synack::tools
