// UDP (RFC 768, RFC 1122 §4.1): datagrams delivered to handlers by local endpoint or connected
// 4-tuple, any-address bindings (a proxy's DNS), the send queue, and the input checks: length,
// checksum (optional over IPv4, mandatory over IPv6: RFC 8200 §8.1), port unreachable for a
// datagram nobody takes (sent by the caller, which holds the packet: host_input.cpp), and the
// port unreachable a proxy passes on (send_udp_unreachable).
#include <array>

#include "host_impl.hpp"
#include "synack/wire/udp.hpp"

namespace synack {

namespace {
ip_addr unspecified_like(const ip_addr& a) { return a.is_v4() ? ip_addr{ipv4_addr{}} : ip_addr{ipv6_addr{}}; }
four_tuple unconnected_key(const ip_addr& addr, std::uint16_t port) {
  return four_tuple{addr, port, unspecified_like(addr), 0};
}
}  // namespace

bool host::impl::udp_input(instant now, const ip_ends& ip, bytes datagram, const rx_meta& meta) {
  const bool trusted = meta.checksum_trusted();
  // RFC 8200 §8.1: an IPv6 receiver MUST discard a UDP datagram whose checksum is zero (the
  // IPv4 one means "none computed", RFC 768, and is taken).
  if (ip.src.is_v6() && !trusted && datagram.size() >= udp_repr::header_len && load_be16(&datagram[6]) == 0) {
    ++ctr.udp_in_errors;
    ++ctr.host(host_drop::udp_zero_checksum);
    return false;
  }
  auto d = trusted        ? udp_repr::parse_trusted(datagram)
           : ip.src.is_v4() ? udp_repr::parse(datagram, ip.src.v4(), ip.dst.v4())
                            : udp_repr::parse(datagram, ip.src.v6(), ip.dst.v6());
  if (!d) {
    ++ctr.udp_in_errors;
    ++ctr.wire(d.error());
    return false;
  }
  const bool local = is_local(ip.dst);
  if (!local && !any_udp[family_index(ip.dst)]) {  // any-address mode for TCP only, or closed since
    ++ctr.host(host_drop::not_for_us);
    return false;
  }
  const four_tuple t{ip.dst, d->dst_port, ip.src, d->src_port};
  const std::optional<std::uint32_t> idx = udp_lookup(t, local);
  if (!idx) {
    ++ctr.udp_no_ports;
    ++ctr.host(host_drop::udp_no_port);
    return true;
  }
  ++ctr.udp_in_datagrams;
  ++ctr.in_accepted;
  // The handler may bind or close sockets (udp_socks may grow): copy what the call needs.
  const udp_socket& s = udp_socks[*idx];
  udp_handler* h = s.handler;
  const udp_datagram dg{udp_handle{*idx, s.gen}, t, d->payload};
  h->on_datagram(now, dg);
  return false;
}

// RFC 1122 §4.1.3.3: UDP MUST pass ICMP errors up to the application layer. The binding is
// found as a reply from the quoted destination would find it; its handler decides what to
// make of the error (posix/: a connected socket's SO_ERROR, as Linux without IP_RECVERR).
void host::impl::udp_error_input(instant now, const four_tuple& t, const icmp_report& rep) {
  const bool local = is_local(t.local_addr);
  const std::optional<std::uint32_t> idx =
      local || any_udp[family_index(t.local_addr)] ? udp_lookup(t, local) : std::nullopt;
  if (!idx) {
    ++ctr.host(host_drop::icmp_unmatched);
    return;
  }
  ++ctr.icmp_in_errors_matched;
  ++ctr.in_accepted;
  const udp_socket& s = udp_socks[*idx];
  udp_handler* h = s.handler;
  h->on_error(now, udp_error{udp_handle{*idx, s.gen}, t, rep});
}

// The connected binding first, then the one bound to the destination address, then the
// wildcard one (as Linux's __udp4_lib_lookup scores them); destinations not ours only reach
// the any-address binding.
std::optional<std::uint32_t> host::impl::udp_lookup(const four_tuple& t, bool local_dst) const {
  if (local_dst) {
    if (const std::uint32_t* i = udp_demux.find(t)) return *i;
    if (const std::uint32_t* i = udp_demux.find(unconnected_key(t.local_addr, t.local_port))) return *i;
    if (const std::uint32_t* i = udp_demux.find(unconnected_key(unspecified_like(t.local_addr), t.local_port))) {
      return *i;
    }
    return std::nullopt;
  }
  const std::optional<std::uint32_t>& a = any_udp[family_index(t.local_addr)];
  if (!a) return std::nullopt;
  const udp_socket& s = udp_socks[*a];
  return any_admits(s.port, s.filter, t) ? a : std::nullopt;
}

// A port is shared by no two bindings of one family unless both name different addresses.
bool host::impl::udp_port_taken(const ip_addr& addr, std::uint16_t port) const {
  for (const udp_socket& s : udp_socks) {
    if (!s.open || s.any || s.key.local_port != port || s.key.local_addr.fam() != addr.fam()) continue;
    if (addr.is_unspecified() || s.key.local_addr.is_unspecified() || s.key.local_addr == addr) return true;
  }
  return false;
}

std::uint32_t host::impl::new_udp_socket(udp_handler* h) {
  const std::uint32_t idx = reuse_or_append(udp_socks);
  udp_socket& s = udp_socks[idx];
  s.open = true;
  s.handler = h;
  s.connected = false;
  s.any = false;
  s.port = 0;
  s.filter = nullptr;
  return idx;
}

host::impl::udp_socket* host::impl::udp_sock(udp_handle h) {
  if (h.index >= udp_socks.size()) return nullptr;
  udp_socket& s = udp_socks[h.index];
  return s.open && s.gen == h.gen ? &s : nullptr;
}

result<udp_handle, host_error> host::bind_udp(const udp_endpoint& local, udp_handler* h) {
  impl& m = *impl_;
  if (h == nullptr) return unexpected{host_error::invalid_argument};
  if (!local.addr.is_unspecified() && !m.is_local(local.addr)) return unexpected{host_error::address_not_available};
  std::uint16_t port = local.port;
  if (port == 0) {  // RFC 6056 §3.3.1's simple walk: binds are rare, a scan is enough
    const std::uint32_t first = m.cfg.ephemeral_first;
    const std::uint32_t count = std::uint32_t{m.cfg.ephemeral_last} - first + 1;
    for (std::uint32_t i = 0; i < count && port == 0; ++i) {
      const auto p = static_cast<std::uint16_t>(first + (m.udp_ephemeral_next + i) % count);
      if (!m.udp_port_taken(local.addr, p)) port = p;
    }
    if (port == 0) return unexpected{host_error::no_ephemeral_port};
    ++m.udp_ephemeral_next;
  } else if (m.udp_port_taken(local.addr, port)) {
    return unexpected{host_error::address_in_use};
  }
  const std::uint32_t idx = m.new_udp_socket(h);
  impl::udp_socket& s = m.udp_socks[idx];
  s.key = unconnected_key(local.addr, port);
  m.udp_demux.insert_or_assign(s.key, idx);
  return udp_handle{idx, s.gen};
}

result<udp_handle, host_error> host::bind_udp_any(const any_address_options& opts, udp_handler* h) {
  impl& m = *impl_;
  if (h == nullptr) return unexpected{host_error::invalid_argument};
  const bool v4 = opts.family != listen_family::v6;
  const bool v6 = opts.family != listen_family::v4;
  if ((v4 && m.any_udp[0]) || (v6 && m.any_udp[1])) return unexpected{host_error::address_in_use};
  const std::uint32_t idx = m.new_udp_socket(h);
  impl::udp_socket& s = m.udp_socks[idx];
  s.any = true;
  s.family = opts.family;
  s.port = opts.port;
  s.filter = opts.filter;
  if (v4) m.any_udp[0] = idx;
  if (v6) m.any_udp[1] = idx;
  m.any_seen = true;
  return udp_handle{idx, s.gen};
}

result<void, host_error> host::connect_udp(udp_handle h, const udp_endpoint& remote) {
  impl& m = *impl_;
  impl::udp_socket* s = m.udp_sock(h);
  if (s == nullptr) return unexpected{host_error::bad_handle};
  if (s->any || remote.port == 0 || !impl::unicast_remote(remote.addr) ||
      remote.addr.fam() != s->key.local_addr.fam()) {
    return unexpected{host_error::invalid_argument};
  }
  ip_addr local = s->key.local_addr;
  if (local.is_unspecified()) {  // Linux (ip4_datagram_connect) fixes the source address now
    const auto src = m.source_for(remote.addr);
    if (!src) return unexpected{host_error::network_unreachable};
    local = *src;
  }
  const four_tuple key{local, s->key.local_port, remote.addr, remote.port};
  if (const std::uint32_t* other = m.udp_demux.find(key); other != nullptr && *other != h.index) {
    return unexpected{host_error::address_in_use};
  }
  m.udp_demux.erase(s->key);
  s->key = key;
  s->connected = true;
  m.udp_demux.insert_or_assign(key, h.index);
  return {};
}

void host::close_udp(udp_handle h) {
  impl& m = *impl_;
  impl::udp_socket* s = m.udp_sock(h);
  if (s == nullptr) return;
  if (s->any) {
    for (auto& a : m.any_udp) {
      if (a == h.index) a.reset();
    }
  } else {
    m.udp_demux.erase(s->key);
  }
  s->open = false;
  ++s->gen;
  s->handler = nullptr;
  s->filter = nullptr;
}

std::optional<udp_endpoint> host::udp_local(udp_handle h) const {
  const impl::udp_socket* s = impl_->udp_sock(h);
  if (s == nullptr) return std::nullopt;
  if (s->any) return udp_endpoint{s->family == listen_family::v6 ? ip_addr{ipv6_addr{}} : ip_addr{}, s->port};
  return udp_endpoint{s->key.local_addr, s->key.local_port};
}

std::size_t host::udp_tx_room() const { return impl_->udp_tx.size() - impl_->udp_tx_len; }

result<void, host_error> host::send_udp(udp_handle h, const udp_endpoint& dst, bytes payload) {
  impl& m = *impl_;
  impl::udp_socket* s = m.udp_sock(h);
  if (s == nullptr) return unexpected{host_error::bad_handle};
  if (s->any || dst.port == 0 || !impl::unicast_remote(dst.addr) || dst.addr.fam() != s->key.local_addr.fam()) {
    return unexpected{host_error::invalid_argument};  // an any-address binding names its source per datagram
  }
  std::optional<ip_addr> src = s->key.local_addr;
  if (src->is_unspecified()) src = m.source_for(dst.addr);
  if (!src) return unexpected{host_error::network_unreachable};
  return m.queue_udp(four_tuple{*src, s->key.local_port, dst.addr, dst.port}, payload);
}

result<void, host_error> host::send_udp(const udp_endpoint& src, const udp_endpoint& dst, bytes payload) {
  impl& m = *impl_;
  if (src.port == 0 || dst.port == 0 || !impl::unicast_remote(dst.addr) || src.addr.fam() != dst.addr.fam()) {
    return unexpected{host_error::invalid_argument};
  }
  const bool any_source = m.any_udp[family_index(src.addr)].has_value() && m.any_destination(src.addr);
  if (!m.is_local(src.addr) && !any_source) return unexpected{host_error::address_not_available};
  return m.queue_udp(four_tuple{src.addr, src.port, dst.addr, dst.port}, payload);
}

// The offending datagram is rebuilt (t.remote -> t.local, the payload's first octets) and
// answered as one nobody took: the quote names the client's ports, all its stack matches on.
result<void, host_error> host::send_udp_unreachable(instant now, const four_tuple& t, bytes payload) {
  impl& m = *impl_;
  const ip_addr& src = t.local_addr;
  if (t.local_port == 0 || t.remote_port == 0 || !impl::unicast_remote(t.remote_addr) ||
      src.fam() != t.remote_addr.fam()) {
    return unexpected{host_error::invalid_argument};
  }
  const bool any_source = m.any_udp[family_index(src)].has_value() && m.any_destination(src);
  if (!m.is_local(src) && !any_source) return unexpected{host_error::address_not_available};
  constexpr std::size_t quoted_payload = 64;
  std::array<std::byte, 40 + udp_repr::header_len + quoted_payload> buf{};
  const udp_repr d{t.remote_port, t.local_port, payload.first(std::min(payload.size(), quoted_payload))};
  const std::size_t hl = ip_header_len(src);
  const mutable_bytes out{buf.data(), hl + d.buffer_len()};
  if (src.is_v4()) {
    d.emit(out.subspan(hl), t.remote_addr.v4(), src.v4());
    ipv4_repr ip;
    ip.src = t.remote_addr.v4();
    ip.dst = src.v4();
    ip.protocol = ip_proto::udp;
    ip.payload_len = static_cast<std::uint16_t>(d.buffer_len());
    ip.ttl = m.cfg.ttl;
    ip.emit(out);
    if (auto v = ipv4_view::parse(out)) m.send_icmpv4_error(now, *v, icmp_type::dest_unreachable, icmp_unreach_code::port);
    return {};
  }
  d.emit(out.subspan(hl), t.remote_addr.v6(), src.v6());
  ipv6_repr ip;
  ip.src = t.remote_addr.v6();
  ip.dst = src.v6();
  ip.next_header = static_cast<std::uint8_t>(ip_proto::udp);
  ip.payload_len = static_cast<std::uint16_t>(d.buffer_len());
  ip.hop_limit = m.cfg.ttl;
  ip.emit(out);
  if (auto v = ipv6_view::parse(out)) {
    m.send_icmpv6_error(now, *v, icmpv6_type::dest_unreachable, icmpv6_unreach_code::port, 0);
  }
  return {};
}

// Built now, into a buffer of the ring, so the payload need not outlive the call.
result<void, host_error> host::impl::queue_udp(const four_tuple& t, bytes payload) {
  const std::size_t hl = ip_header_len(t.remote_addr);
  const udp_repr d{t.local_port, t.remote_port, payload};
  if (hl + d.buffer_len() > std::size_t{cfg.mtu}) return unexpected{host_error::message_too_long};
  if (udp_tx_len == udp_tx.size()) return unexpected{host_error::no_buffer_space};
  reply& r = udp_tx[(udp_tx_head + udp_tx_len) % udp_tx.size()];
  if (r.buf.size() < cfg.mtu) r.buf.resize(cfg.mtu);
  mutable_bytes out{r.buf};
  if (t.remote_addr.is_v4()) {
    d.emit(out.subspan(hl, d.buffer_len()), t.local_addr.v4(), t.remote_addr.v4());
  } else {
    d.emit(out.subspan(hl, d.buffer_len()), t.local_addr.v6(), t.remote_addr.v6());
  }
  write_ip(out, t.local_addr, t.remote_addr, ip_proto::udp, d.buffer_len());
  r.len = hl + d.buffer_len();
  ++udp_tx_len;
  ++ctr.udp_out_datagrams;
  return {};
}

}  // namespace synack
