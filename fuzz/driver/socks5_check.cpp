// socks5_fuzz (socks5_check.hpp).
#include "socks5_check.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "socks5.hpp"

namespace synack::fuzz {

namespace {

namespace s5 = synack::tools::socks5;

template <class Message>
failure check_parser(const char* name, s5::parsed<Message> (*parse)(bytes), bytes in) {
  const auto p = parse(in);
  switch (p.status) {
    case s5::parse_status::incomplete:
      if (p.length <= in.size()) return std::string(name) + ": incomplete, yet needs no more bytes";
      break;
    case s5::parse_status::malformed:
      if (p.length == 0 || p.length > in.size()) return std::string(name) + ": malformed at a byte not given";
      break;
    case s5::parse_status::done: {
      if (p.length == 0 || p.length > in.size()) return std::string(name) + ": a message longer than its input";
      const auto alone = parse(in.first(p.length));
      if (alone.status != s5::parse_status::done || alone.length != p.length) {
        return std::string(name) + ": the message alone parses differently";
      }
      if (parse(in.first(p.length - 1)).status != s5::parse_status::incomplete) {
        return std::string(name) + ": a message cut by one byte is not incomplete";
      }
      break;
    }
  }
  return std::nullopt;
}

s5::client make_client(std::uint8_t config) {
  const ip_addr dst = (config & 2) != 0 ? ip_addr{ipv6_addr::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1})}
                                        : ip_addr{ipv4_addr::from_octets(192, 0, 2, 1)};
  const std::uint8_t cmd = (config & 4) != 0 ? s5::cmd_udp_associate : s5::cmd_connect;
  if ((config & 1) != 0) return s5::client(dst, 80, s5::credentials{"user", "pass"}, cmd);
  return s5::client(dst, 80, std::nullopt, cmd);
}

// The §7 header: a whole one with an IP address and FRAG 0 is what emit_udp_header writes.
failure check_udp_header(bytes in) {
  if (auto f = check_parser("udp header", s5::parse_udp_header, in)) return f;
  const auto p = s5::parse_udp_header(in);
  if (p.status != s5::parse_status::done || p.message.frag != 0 || !p.message.dst.addr) return std::nullopt;
  std::array<std::byte, s5::udp_header_max_emit> out{};
  const std::size_t n = s5::emit_udp_header(*p.message.dst.addr, p.message.dst.port, out);
  const bool same = n == p.length && n == s5::udp_header_len(*p.message.dst.addr) &&
                    std::equal(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), in.begin());
  if (!same) {
    return std::string("udp header: emit(parse(h)) != h");
  }
  return std::nullopt;
}

struct run {
  s5::client::state state;
  std::size_t taken = 0;
  std::string outcome;
};

// Feeds `in` in pieces of at most `piece` bytes, sending the client's output whenever it has
// some; stops when a piece is not wholly taken (the client is done or waits to write).
failure drive(std::uint8_t config, bytes in, std::size_t piece, run& out) {
  s5::client c = make_client(config);
  std::size_t at = 0;
  for (int guard = 0; guard < 100000; ++guard) {
    if (c.current() == s5::client::state::write) {
      if (c.output().empty()) return std::string("write state with nothing to write");
      c.on_output_sent(c.output().size());
      continue;
    }
    if (c.current() != s5::client::state::read || at == in.size()) break;
    const std::size_t wanted = c.input_wanted();
    if (wanted == 0) return std::string("read state wanting no byte");
    const bytes chunk = in.subspan(at, std::min(piece, in.size() - at));
    const std::size_t n = c.on_input(chunk);
    if (n > chunk.size()) return std::string("took more bytes than given");
    if (n == 0) return std::string("took nothing in the read state");
    at += n;
  }
  out.state = c.current();
  out.taken = at;
  if (c.current() == s5::client::state::connected) {
    const auto& r = c.reply();
    out.outcome = (r.bnd_addr ? r.bnd_addr->to_string() : r.bnd_domain) + ":" + std::to_string(r.bnd_port);
    if (const auto relay = s5::udp_relay_of(r, ip_addr{ipv4_addr::from_octets(192, 0, 2, 9)})) {
      out.outcome += " relay " + relay->addr.with_port(relay->port);
    }
  } else if (c.current() == s5::client::state::failed) {
    out.outcome = std::string(to_string(c.failure())) + " " + std::to_string(c.failure_rep());
  }
  return std::nullopt;
}

}  // namespace

failure check_socks5(bytes input) {
  if (input.empty()) return std::nullopt;
  const bytes server = input.subspan(1);
  if (auto f = check_parser("method selection", s5::parse_method_selection, server)) return f;
  if (auto f = check_parser("auth status", s5::parse_auth_status, server)) return f;
  if (auto f = check_parser("connect reply", s5::parse_connect_reply, server)) return f;
  if (auto f = check_udp_header(server)) return f;
  const auto config = std::to_integer<std::uint8_t>(input[0]);
  run whole{};
  run bytewise{};
  if (auto f = drive(config, server, server.size() + 1, whole)) return "at once: " + *f;
  if (auto f = drive(config, server, 1, bytewise)) return "byte by byte: " + *f;
  // Bytes taken must agree unless the handshake failed (a failure may be seen at a byte inside
  // what was read; the connection ends then, so no byte is anyone's).
  if (whole.state != bytewise.state || whole.outcome != bytewise.outcome ||
      (whole.state != s5::client::state::failed && whole.taken != bytewise.taken)) {
    return "at once and byte by byte end differently: " + whole.outcome + " (" + std::to_string(whole.taken) +
           " bytes) / " + bytewise.outcome + " (" + std::to_string(bytewise.taken) + " bytes)";
  }
  return std::nullopt;
}

}  // namespace synack::fuzz
