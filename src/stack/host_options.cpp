// Per-connection options and the queries posix/ needs: live reconfiguration (TCP_NODELAY,
// keep-alives), MSG_PEEK, and who holds a local port (bind/listen conflicts).
#include "host_impl.hpp"

namespace synack {

result<void, host_error> host::reconfigure(instant now, conn_handle h, const tcp_config& cfg) {
  impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{host_error::bad_handle};
  tcp_config next = cfg;
  // Fixed when the TCB was made: the buffers are sized, the SYN options announced.
  next.mss = s->cfg.mss;
  next.send_buffer = s->cfg.send_buffer;
  next.recv_buffer = s->cfg.recv_buffer;
  next.window_scaling = s->cfg.window_scaling;
  next.sack = s->cfg.sack;
  next.timestamps = s->cfg.timestamps;
  next.max_ooo_ranges = s->cfg.max_ooo_ranges;
  next.congestion = s->cfg.congestion;
  // The connection holds a pointer to s->cfg: change it in place, then let it react.
  const tcp_config before = s->cfg;
  s->cfg = next;
  s->conn->set_config(now, s->cfg, before);
  impl_->touch(now, h.index);  // TCP_NODELAY may release held data; the keep-alive timer moved
  return {};
}

result<void, host_error> host::reconfigure_listener(listener_handle h, const tcp_config& cfg) {
  impl& m = *impl_;
  if (h.index >= m.listeners.size() || m.listeners[h.index].gen != h.gen || !m.listeners[h.index].open) {
    return unexpected{host_error::bad_handle};
  }
  m.listeners[h.index].cfg = cfg;
  return {};
}

result<void, host_error> host::push(instant now, conn_handle h) {
  impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{host_error::bad_handle};
  s->conn->push();
  impl_->touch(now, h.index);
  return {};
}

result<std::size_t, tcp_error> host::peek(conn_handle h, mutable_bytes out) const {
  const impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{tcp_error::not_connected};
  return s->conn->peek(out);
}

host::port_use host::local_port_use(std::uint16_t port) const {
  const impl& m = *impl_;
  port_use u;
  u.listener = m.listen_by_port.contains(port);
  m.demux.for_each([&](const four_tuple& t, std::uint32_t) {
    if (t.local_port == port) ++u.connections;
  });
  m.tw.for_each([&](const four_tuple& t, const time_wait_record&) {
    if (t.local_port == port) ++u.time_wait;
  });
  return u;
}

}  // namespace synack
