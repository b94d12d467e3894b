#pragma once
// The services `synack serve` offers over runtime::event_loop callbacks: echo (RFC 862),
// discard (RFC 863), chargen (RFC 864) and a static-file HTTP/1.1 server (GET/HEAD,
// keep-alive, Range, Content-Length, 404) — enough for curl, wget and ab -k.
#include <memory>
#include <string>

#include "synack/runtime/event_loop.hpp"

namespace synack::tools {

class server_app {
 public:
  virtual ~server_app() = default;
  virtual void on_accept(conn_handle h) = 0;
  [[nodiscard]] virtual std::size_t open_connections() const = 0;
};

[[nodiscard]] std::unique_ptr<server_app> make_echo_server(runtime::event_loop& loop);
[[nodiscard]] std::unique_ptr<server_app> make_discard_server(runtime::event_loop& loop);
[[nodiscard]] std::unique_ptr<server_app> make_chargen_server(runtime::event_loop& loop);
// Serves the files under `root`; paths with ".." segments are refused. With `access_log`, one
// line per request on stderr (peer "METHOD TARGET" STATUS BYTES).
[[nodiscard]] std::unique_ptr<server_app> make_http_server(runtime::event_loop& loop, std::string root,
                                                           bool access_log = false);

}  // namespace synack::tools
