// The SOCKS5 client's messages and handshake (socks5.hpp): RFC 1928 and RFC 1929.
#include "socks5.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace synack::tools::socks5 {

std::string_view to_string(error e) {
  switch (e) {
    case error::general_failure: return "general SOCKS server failure";
    case error::not_allowed: return "connection not allowed by ruleset";
    case error::network_unreachable: return "network unreachable";
    case error::host_unreachable: return "host unreachable";
    case error::connection_refused: return "connection refused";
    case error::ttl_expired: return "TTL expired";
    case error::command_not_supported: return "command not supported";
    case error::address_type_not_supported: return "address type not supported";
    case error::auth_rejected: return "authentication rejected";
    case error::no_acceptable_method: return "no acceptable authentication method";
    case error::malformed_reply: return "malformed reply";
    case error::closed: return "closed by the server during the handshake";
  }
  return "?";
}

std::optional<error> error_from_rep(std::uint8_t rep) {
  if (rep < 0x01 || rep > 0x08) return std::nullopt;
  return static_cast<error>(rep);
}

std::optional<std::string> check_credentials(std::string_view user, std::string_view password) {
  // RFC 1929 §2: ULEN and PLEN are one octet each, and at least 1.
  if (user.empty() || user.size() > 255) return "the user name must be 1 to 255 bytes (RFC 1929)";
  if (password.empty() || password.size() > 255) return "the password must be 1 to 255 bytes (RFC 1929)";
  return std::nullopt;
}

namespace {

std::uint8_t u8(std::byte b) { return std::to_integer<std::uint8_t>(b); }

template <class Message>
parsed<Message> incomplete(std::size_t length) {
  return {.status = parse_status::incomplete, .length = length, .message = {}};
}
template <class Message>
parsed<Message> malformed(std::size_t length) {
  return {.status = parse_status::malformed, .length = length, .message = {}};
}

void append(std::vector<std::byte>& out, std::uint8_t v) { out.push_back(std::byte{v}); }
void append(std::vector<std::byte>& out, std::string_view s) {
  for (const char c : s) out.push_back(static_cast<std::byte>(c));
}

}  // namespace

parsed<method_selection> parse_method_selection(bytes in) {
  // RFC 1928 §3: +----+--------+ VER METHOD
  if (in.empty()) return incomplete<method_selection>(2);
  if (u8(in[0]) != version) return malformed<method_selection>(1);
  if (in.size() < 2) return incomplete<method_selection>(2);
  return {.status = parse_status::done, .length = 2, .message = {.method = u8(in[1])}};
}

parsed<auth_status> parse_auth_status(bytes in) {
  // RFC 1929 §2: VER (0x01, the subnegotiation's version) STATUS
  if (in.empty()) return incomplete<auth_status>(2);
  if (u8(in[0]) != auth_version) return malformed<auth_status>(1);
  if (in.size() < 2) return incomplete<auth_status>(2);
  return {.status = parse_status::done, .length = 2, .message = {.status = u8(in[1])}};
}

namespace {

// ATYP, the address and the port from offset 3, where both the §6 reply and the §7 header have
// them (RFC 1928 §5 addressing). `in` holds at least 4 bytes.
parsed<address> parse_address_at_3(bytes in) {
  const std::uint8_t atyp = u8(in[3]);
  std::size_t addr_len = 0;
  switch (atyp) {
    case atyp_ipv4: addr_len = 4; break;
    case atyp_ipv6: addr_len = 16; break;
    case atyp_domain:
      if (in.size() < 5) return incomplete<address>(5);
      addr_len = 1 + std::size_t{u8(in[4])};  // the length octet, then the name
      break;
    default: return malformed<address>(4);
  }
  const std::size_t length = 4 + addr_len + 2;
  if (in.size() < length) return incomplete<address>(length);
  address r;
  r.atyp = atyp;
  const std::byte* addr = in.data() + 4;
  if (atyp == atyp_ipv4) {
    r.addr = ip_addr{ipv4_addr{load_be32(addr)}};
  } else if (atyp == atyp_ipv6) {
    ipv6_addr a;
    std::memcpy(a.octets.data(), addr, 16);
    r.addr = ip_addr{a};
  } else {
    r.domain.assign(reinterpret_cast<const char*>(addr + 1), addr_len - 1);
  }
  r.port = load_be16(addr + addr_len);
  return {.status = parse_status::done, .length = length, .message = std::move(r)};
}

// ATYP, the address and the port, as a request and the §7 header carry them, at `out` (which
// holds at least 3 + 16 bytes); returns their length.
std::size_t emit_address(const ip_addr& a, std::uint16_t port, std::byte* out) {
  std::size_t len = 1;
  if (a.is_v4()) {
    out[0] = std::byte{atyp_ipv4};
    store_be32(out + 1, a.low32());
    len += 4;
  } else {
    out[0] = std::byte{atyp_ipv6};
    std::memcpy(out + 1, a.v6().octets.data(), 16);
    len += 16;
  }
  store_be16(out + len, port);
  return len + 2;
}

}  // namespace

parsed<connect_reply> parse_connect_reply(bytes in) {
  // RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT. RSV is not checked (as most clients).
  if (in.empty()) return incomplete<connect_reply>(5);
  if (u8(in[0]) != version) return malformed<connect_reply>(1);
  if (in.size() < 4) return incomplete<connect_reply>(5);
  auto a = parse_address_at_3(in);
  if (a.status != parse_status::done) return {.status = a.status, .length = a.length, .message = {}};
  connect_reply r;
  r.rep = u8(in[1]);
  r.atyp = a.message.atyp;
  r.bnd_addr = a.message.addr;
  r.bnd_domain = std::move(a.message.domain);
  r.bnd_port = a.message.port;
  return {.status = parse_status::done, .length = a.length, .message = std::move(r)};
}

std::optional<endpoint> udp_relay_of(const connect_reply& r, const ip_addr& server) {
  // RFC 1928 §6 (UDP ASSOCIATE): BND.ADDR and BND.PORT are where the client sends its datagrams.
  // A server listening on every address answers 0.0.0.0 (or ::): its own address, then.
  if (!r.bnd_addr || r.bnd_port == 0) return std::nullopt;
  return endpoint{r.bnd_addr->is_unspecified() ? server : *r.bnd_addr, r.bnd_port};
}

std::size_t udp_header_len(const ip_addr& dst) { return 4 + (dst.is_v4() ? 4 : 16) + 2; }

std::size_t emit_udp_header(const ip_addr& dst, std::uint16_t port, mutable_bytes out) {
  assert(out.size() >= udp_header_len(dst));
  out[0] = out[1] = std::byte{0};  // RSV
  out[2] = std::byte{0};           // FRAG: a whole datagram
  return 3 + emit_address(dst, port, out.data() + 3);
}

parsed<udp_header> parse_udp_header(bytes in) {
  // RFC 1928 §7: RSV (X'0000') FRAG ATYP DST.ADDR DST.PORT, then DATA.
  for (std::size_t i = 0; i < 2 && i < in.size(); ++i) {
    if (u8(in[i]) != 0) return malformed<udp_header>(i + 1);
  }
  if (in.size() < 4) return incomplete<udp_header>(5);
  auto a = parse_address_at_3(in);
  if (a.status != parse_status::done) return {.status = a.status, .length = a.length, .message = {}};
  return {.status = parse_status::done, .length = a.length, .message = {u8(in[2]), std::move(a.message)}};
}

client::client(const ip_addr& destination, std::uint16_t port, std::optional<credentials> auth,
               std::uint8_t command)
    : destination_(destination), port_(port), auth_(std::move(auth)), command_(command) {
  assert(!auth_ || !check_credentials(auth_->user, auth_->password));
  send_greeting();
}

void client::send_greeting() {
  // RFC 1928 §3: VER NMETHODS METHODS. "No authentication" is always offered, so a server that
  // needs none works with credentials given too.
  out_.clear();
  append(out_, version);
  if (auth_) {
    append(out_, 2);
    append(out_, method_none);
    append(out_, method_userpass);
  } else {
    append(out_, 1);
    append(out_, method_none);
  }
  out_sent_ = 0;
  state_ = state::write;
}

void client::send_auth() {
  // RFC 1929 §2: VER ULEN UNAME PLEN PASSWD
  out_.clear();
  append(out_, auth_version);
  append(out_, static_cast<std::uint8_t>(auth_->user.size()));
  append(out_, auth_->user);
  append(out_, static_cast<std::uint8_t>(auth_->password.size()));
  append(out_, auth_->password);
  out_sent_ = 0;
  state_ = state::write;
  stage_ = stage::auth;
}

void client::send_request() {
  // RFC 1928 §4: VER CMD RSV ATYP DST.ADDR DST.PORT
  out_.assign(3 + 1 + 16 + 2, std::byte{0});
  out_[0] = std::byte{version};
  out_[1] = std::byte{command_};
  out_.resize(3 + emit_address(destination_, port_, out_.data() + 3));
  out_sent_ = 0;
  state_ = state::write;
  stage_ = stage::request;
}

void client::on_output_sent(std::size_t n) {
  if (state_ != state::write) return;
  out_sent_ = std::min(out_sent_ + n, out_.size());
  if (out_sent_ < out_.size()) return;
  state_ = state::read;
  in_.clear();
  in_needed_ = stage_ == stage::request ? 5 : 2;
}

std::size_t client::input_wanted() const { return state_ == state::read ? in_needed_ - in_.size() : 0; }

std::size_t client::on_input(bytes in) {
  std::size_t taken = 0;
  while (state_ == state::read && taken < in.size()) {
    const std::size_t n = std::min(input_wanted(), in.size() - taken);
    in_.insert(in_.end(), in.begin() + static_cast<std::ptrdiff_t>(taken),
               in.begin() + static_cast<std::ptrdiff_t>(taken + n));
    taken += n;
    advance();
  }
  return taken;
}

void client::on_eof() {
  if (state_ == state::read || state_ == state::write) fail(error::closed);
}

void client::fail(error e) { state_ = state::failed, failure_ = e; }

void client::advance() {
  switch (stage_) {
    case stage::method: {
      const auto p = parse_method_selection(in_);
      if (p.status == parse_status::incomplete) {
        in_needed_ = p.length;
        return;
      }
      if (p.status == parse_status::malformed) return fail(error::malformed_reply);
      const std::uint8_t m = p.message.method;
      if (m == method_unacceptable) return fail(error::no_acceptable_method);
      if (m == method_none) return send_request();
      if (m == method_userpass && auth_) return send_auth();
      return fail(error::malformed_reply);  // a method this client did not offer
    }
    case stage::auth: {
      const auto p = parse_auth_status(in_);
      if (p.status == parse_status::incomplete) {
        in_needed_ = p.length;
        return;
      }
      if (p.status == parse_status::malformed) return fail(error::malformed_reply);
      // RFC 1929 §2: X'00' is success; any other status is a failure and the server closes.
      if (p.message.status != 0x00) return fail(error::auth_rejected);
      return send_request();
    }
    case stage::request: {
      auto p = parse_connect_reply(in_);
      if (p.status == parse_status::incomplete) {
        in_needed_ = p.length;
        return;
      }
      if (p.status == parse_status::malformed) return fail(error::malformed_reply);
      reply_ = std::move(p.message);
      if (reply_.rep == 0x00) {
        state_ = state::connected;
        return;
      }
      return fail(error_from_rep(reply_.rep).value_or(error::malformed_reply));
    }
  }
}

}  // namespace synack::tools::socks5
