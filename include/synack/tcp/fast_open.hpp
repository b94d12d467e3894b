#pragma once
// RFC 7413 TCP Fast Open, the part one connection plays (connection_fastopen.cpp). The host
// (stack/) keeps what outlives a connection: the client's cookie cache (fast_open_cache.hpp)
// and the server's cookie key, and tells a connection what it needs at its start.
//
// Client: a connection opened with a fast_open_client sends a SYN with an empty TFO option (a
// cookie request, §4.1.1) when it has no cookie, or, with one, the cookie and as much queued
// data as fits (§4.2.1: at most the remembered MSS less 40 octets of options, as Linux); with
// tcp_config::fast_open_no_cookie, the data and no option, cookie or not. With `defer`
// (TCP_FASTOPEN_CONNECT with a cookie, or none needed) the SYN waits for the first send(). A SYN
// retransmitted by the timer carries neither the option nor data (§4.2.1: "the client SHOULD
// ... retransmit the SYN without data"; Linux too), and data the SYN-ACK does not acknowledge
// is sent again at once (§4.2.2). The cookie and MSS the SYN-ACK brings are reported once by
// take_fast_open_news() for the cache.
//
// Server: the host checks the SYN's cookie (or, without cookies, none) and hands the
// connection a fast_open_server: with
// `accept_data` the SYN's text is taken at once (RCV.NXT past it, readable before the handshake
// ends, acknowledged by the SYN-ACK, §4.2.2); `cookie` goes on the SYN-ACK (a fresh one for a
// cookie request or an invalid cookie).
#include <cstdint>
#include <optional>

#include "synack/wire/tcp.hpp"

namespace synack {

struct fast_open_client {
  std::optional<tcp_fast_open> cookie;  // none: ask for one
  std::uint16_t peer_mss = 0;           // the MSS remembered (0: none; 536 assumed, our own without cookies)
  bool defer = false;                   // the SYN waits for the first send (needs a cookie, or none needed)
};

struct fast_open_server {
  bool accept_data = false;             // a valid cookie (or none needed), and room in the TFO queue
  std::optional<tcp_fast_open> cookie;  // to send on the SYN-ACK
};

// What a client's SYN-ACK taught: the cookie to use next time (none: keep the old one) and the
// server's MSS (0: none announced).
struct fast_open_news {
  std::optional<tcp_fast_open> cookie;
  std::uint16_t mss = 0;
  std::uint32_t syn_data = 0;   // octets our SYN carried
  bool syn_data_acked = false;  // and the SYN-ACK acknowledged them
};

// A connection's Fast Open state (connection::fo_; only TFO connections have one).
struct fast_open_state {
  bool client = false;
  bool no_cookie = false;               // client: the SYN's data goes without a TFO option
  std::optional<tcp_fast_open> cookie;  // client: on the SYN; server: on the SYN-ACK
  std::uint16_t peer_mss = 0;
  bool defer = false;           // client: the SYN waits for send()
  std::uint32_t syn_data = 0;   // client: octets the first SYN carried; server: octets taken from it
  bool syn_data_acked = false;  // client: the SYN-ACK covered them; server: a Fast Open child
  std::optional<fast_open_news> news;  // client: from the SYN-ACK, until taken
  std::uint16_t path_mss = 0;   // client: the MSS a Fragmentation Needed for the SYN data allows (0: none)
  // server: congestion control started in SYN-RECEIVED, for data sent before the handshake's
  // ACK (connection::fast_open_send_early); entering ESTABLISHED keeps it.
  bool early_cc = false;
};

}  // namespace synack
