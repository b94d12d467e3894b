#pragma once
// A SOCKS5 client for `synack proxy --socks5` (issue #15), sans-IO: it says what to write to the
// server and consumes what is read from it; the caller owns the socket. RFC 1928 CONNECT with
// the original destination as an IPv4 (ATYP 1) or IPv6 (ATYP 4) address, RFC 1929
// username/password when credentials are given. One request at a time, as the RFCs describe
// it: greeting -> method selection [-> username/password -> status] -> CONNECT -> reply.
// The same handshake with UDP ASSOCIATE (CMD 3) sets up a UDP relay for `synack proxy`'s UDP
// sessions; its datagrams carry the RFC 1928 §7 header (emit_udp_header, parse_udp_header).
//
// The client never takes a byte beyond the reply it waits for (`input_wanted`), so whatever the
// server sends after a successful CONNECT reply is the relayed stream's, left to the caller.
// The reply parsers are pure functions over the bytes received so far (fuzz/: socks5_fuzz).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "synack/wire/bytes.hpp"
#include "synack/wire/ip_addr.hpp"

namespace synack::tools::socks5 {

// RFC 1928 §3 and RFC 1929 §2 values.
inline constexpr std::uint8_t version = 0x05;
inline constexpr std::uint8_t auth_version = 0x01;
inline constexpr std::uint8_t method_none = 0x00;
inline constexpr std::uint8_t method_userpass = 0x02;
inline constexpr std::uint8_t method_unacceptable = 0xFF;
inline constexpr std::uint8_t cmd_connect = 0x01;
inline constexpr std::uint8_t cmd_udp_associate = 0x03;
inline constexpr std::uint8_t atyp_ipv4 = 0x01;
inline constexpr std::uint8_t atyp_domain = 0x03;
inline constexpr std::uint8_t atyp_ipv6 = 0x04;

// Why a handshake failed. The first eight are the CONNECT reply's REP codes 0x01..0x08
// (RFC 1928 §6) in order.
enum class error : std::uint8_t {
  general_failure = 1,         // REP 0x01 general SOCKS server failure
  not_allowed,                 // REP 0x02 connection not allowed by ruleset
  network_unreachable,         // REP 0x03
  host_unreachable,            // REP 0x04
  connection_refused,          // REP 0x05
  ttl_expired,                 // REP 0x06
  command_not_supported,       // REP 0x07
  address_type_not_supported,  // REP 0x08
  auth_rejected,               // RFC 1929 status other than 0x00
  no_acceptable_method,        // METHOD 0xFF: the server takes none of the offered methods
  malformed_reply,             // a wrong version, a method not offered, an unassigned REP or ATYP
  closed,                      // the server closed the connection before its reply was whole
};
[[nodiscard]] std::string_view to_string(error e);
// REP 0x01..0x08 as its error; nothing for 0x00 (succeeded) or an unassigned code.
[[nodiscard]] std::optional<error> error_from_rep(std::uint8_t rep);

// RFC 1929 §2: each of UNAME and PASSWD is 1 to 255 bytes. The message says which is not.
[[nodiscard]] std::optional<std::string> check_credentials(std::string_view user, std::string_view password);

// --- pure parsers of the server's messages ------------------------------------------------
// Over the bytes received so far: `incomplete` with `length` the total the message needs as far
// as the bytes tell (always more than given), or `done` with the message and its `length`
// (bytes past it are not the message's), or `malformed`.
enum class parse_status : std::uint8_t { incomplete, done, malformed };

struct method_selection {  // RFC 1928 §3: VER METHOD
  std::uint8_t method = 0;
};
struct auth_status {  // RFC 1929 §2: VER STATUS
  std::uint8_t status = 0;
};
// RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT, the reply to every command (for UDP
// ASSOCIATE, BND is the relay the datagrams go to: udp_relay_of).
struct connect_reply {
  std::uint8_t rep = 0;
  std::uint8_t atyp = 0;
  std::optional<ip_addr> bnd_addr;  // ATYP 1 or 4
  std::string bnd_domain;           // ATYP 3
  std::uint16_t bnd_port = 0;
};

template <class Message>
struct parsed {
  parse_status status = parse_status::incomplete;
  std::size_t length = 0;
  Message message{};
};

[[nodiscard]] parsed<method_selection> parse_method_selection(bytes in);
[[nodiscard]] parsed<auth_status> parse_auth_status(bytes in);
// An unassigned ATYP is malformed; REP is returned as it is (error_from_rep maps it).
[[nodiscard]] parsed<connect_reply> parse_connect_reply(bytes in);

struct endpoint {
  ip_addr addr;
  std::uint16_t port = 0;
  friend bool operator==(const endpoint&, const endpoint&) = default;
};
// Where a successful UDP ASSOCIATE reply says to send datagrams: BND.ADDR:BND.PORT, or the
// server's own address when BND.ADDR is all zeros (a server bound to every address says so).
// Nothing for a domain name (not resolved here) or port 0.
[[nodiscard]] std::optional<endpoint> udp_relay_of(const connect_reply& r, const ip_addr& server);

// --- the UDP request header (RFC 1928 §7) ------------------------------------------------------
// +----+------+------+----------+----------+----------+
// |RSV | FRAG | ATYP | DST.ADDR | DST.PORT |   DATA   |
// | 2  |  1   |  1   | Variable |    2     | Variable |
// Client -> relay: DST is where the relay sends DATA. Relay -> client: DST is who sent it.
struct address {  // RFC 1928 §5: ATYP, then DST.ADDR (or BND.ADDR), then the port
  std::uint8_t atyp = 0;
  std::optional<ip_addr> addr;  // ATYP 1 or 4
  std::string domain;           // ATYP 3
  std::uint16_t port = 0;
};
struct udp_header {
  std::uint8_t frag = 0;  // 0: a whole datagram; fragments (1..127, high bit last) are not supported
  address dst;
};
// The longest header this client writes: IPv6 (4 + 16 + 2).
inline constexpr std::size_t udp_header_max_emit = 22;
// The header's length for a datagram to `dst` (ATYP 1 for IPv4, 4 for IPv6).
[[nodiscard]] std::size_t udp_header_len(const ip_addr& dst);
// Writes RSV 0, FRAG 0, ATYP, DST.ADDR and DST.PORT into `out`, which holds at least
// udp_header_len(dst) bytes; returns that length. DATA follows it.
std::size_t emit_udp_header(const ip_addr& dst, std::uint16_t port, mutable_bytes out);
// Over a whole datagram: `done` with the header and its `length` (DATA starts there; FRAG is
// returned as it is, the caller drops fragments), `incomplete` (a truncated datagram, which is
// as bad as a malformed one) or `malformed` (RSV not zero, an unassigned ATYP). Never reads
// past `in`.
[[nodiscard]] parsed<udp_header> parse_udp_header(bytes in);

struct credentials {
  std::string user;
  std::string password;
};

// A SOCKS5 server and the RFC 1929 credentials for it.
struct server {
  ip_addr addr;
  std::uint16_t port = 1080;
  std::optional<credentials> auth;
};

// --- the handshake ---------------------------------------------------------------------------
class client {
 public:
  enum class state : std::uint8_t {
    write,      // output() holds bytes for the server
    read,       // waiting for input_wanted() more bytes from the server
    connected,  // reply() holds the server's bound address; the stream is the caller's (for
                // UDP ASSOCIATE: the relay's address; the association lasts as long as the stream)
    failed,     // failure() says why
  };

  // The CONNECT target and, for RFC 1929, the credentials (check_credentials first: longer
  // ones are a precondition violation). With cmd_udp_associate, `destination`:`port` is the
  // address and port the client's datagrams will come from, all zeros when not known (RFC 1928
  // §4; behind a NAT the client cannot know them).
  client(const ip_addr& destination, std::uint16_t port, std::optional<credentials> auth = std::nullopt,
         std::uint8_t command = cmd_connect);

  [[nodiscard]] state current() const { return state_; }
  // state::write: the bytes still to send.
  [[nodiscard]] bytes output() const { return bytes{out_}.subspan(out_sent_); }
  // `n` bytes of output() were written.
  void on_output_sent(std::size_t n);
  // state::read: how many bytes the current reply still needs (read no more than this).
  [[nodiscard]] std::size_t input_wanted() const;
  // Bytes read from the server; returns how many were taken (never more than the handshake
  // needs; in the write state none).
  [[nodiscard]] std::size_t on_input(bytes in);
  // The server closed its side.
  void on_eof();

  [[nodiscard]] const connect_reply& reply() const { return reply_; }
  [[nodiscard]] error failure() const { return failure_; }
  // The REP code of a failed CONNECT (or UDP ASSOCIATE) reply (0 when the failure was elsewhere).
  [[nodiscard]] std::uint8_t failure_rep() const { return reply_.rep; }

 private:
  enum class stage : std::uint8_t { method, auth, request };
  void send_greeting();
  void send_auth();
  void send_request();
  void fail(error e);
  // Tries to parse `in_` as the current stage's reply: whole -> next stage.
  void advance();

  ip_addr destination_;
  std::uint16_t port_;
  std::optional<credentials> auth_;
  std::uint8_t command_;
  state state_ = state::write;
  stage stage_ = stage::method;
  std::vector<std::byte> out_;
  std::size_t out_sent_ = 0;
  std::vector<std::byte> in_;     // the current reply so far
  std::size_t in_needed_ = 2;     // its length as far as known
  connect_reply reply_;
  error failure_ = error::general_failure;
};

}  // namespace synack::tools::socks5
