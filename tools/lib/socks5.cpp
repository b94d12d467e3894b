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

parsed<connect_reply> parse_connect_reply(bytes in) {
  // RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT. RSV is not checked (as most clients).
  if (in.empty()) return incomplete<connect_reply>(5);
  if (u8(in[0]) != version) return malformed<connect_reply>(1);
  if (in.size() < 4) return incomplete<connect_reply>(5);
  const std::uint8_t atyp = u8(in[3]);
  std::size_t addr_len = 0;
  switch (atyp) {
    case atyp_ipv4: addr_len = 4; break;
    case atyp_ipv6: addr_len = 16; break;
    case atyp_domain:
      if (in.size() < 5) return incomplete<connect_reply>(5);
      addr_len = 1 + std::size_t{u8(in[4])};  // the length octet, then the name
      break;
    default: return malformed<connect_reply>(4);
  }
  const std::size_t length = 4 + addr_len + 2;
  if (in.size() < length) return incomplete<connect_reply>(length);
  connect_reply r;
  r.rep = u8(in[1]);
  r.atyp = atyp;
  const std::byte* addr = in.data() + 4;
  if (atyp == atyp_ipv4) {
    r.bnd_addr = ip_addr{ipv4_addr{load_be32(addr)}};
  } else if (atyp == atyp_ipv6) {
    ipv6_addr a;
    std::memcpy(a.octets.data(), addr, 16);
    r.bnd_addr = ip_addr{a};
  } else {
    r.bnd_domain.assign(reinterpret_cast<const char*>(addr + 1), addr_len - 1);
  }
  r.bnd_port = load_be16(addr + addr_len);
  return {.status = parse_status::done, .length = length, .message = std::move(r)};
}

client::client(const ip_addr& destination, std::uint16_t port, std::optional<credentials> auth)
    : destination_(destination), port_(port), auth_(std::move(auth)) {
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

void client::send_connect() {
  // RFC 1928 §4: VER CMD RSV ATYP DST.ADDR DST.PORT
  out_.clear();
  append(out_, version);
  append(out_, cmd_connect);
  append(out_, 0x00);
  if (destination_.is_v4()) {
    append(out_, atyp_ipv4);
    const std::size_t at = out_.size();
    out_.resize(at + 4);
    store_be32(out_.data() + at, destination_.low32());
  } else {
    append(out_, atyp_ipv6);
    for (const std::uint8_t o : destination_.v6().octets) append(out_, o);
  }
  const std::size_t at = out_.size();
  out_.resize(at + 2);
  store_be16(out_.data() + at, port_);
  out_sent_ = 0;
  state_ = state::write;
  stage_ = stage::connect;
}

void client::on_output_sent(std::size_t n) {
  if (state_ != state::write) return;
  out_sent_ = std::min(out_sent_ + n, out_.size());
  if (out_sent_ < out_.size()) return;
  state_ = state::read;
  in_.clear();
  in_needed_ = stage_ == stage::connect ? 5 : 2;
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
      if (m == method_none) return send_connect();
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
      return send_connect();
    }
    case stage::connect: {
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
