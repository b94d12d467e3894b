#pragma once
// getsockopt(IPPROTO_TCP, TCP_INFO): Linux's struct tcp_info (include/uapi/linux/tcp.h) up to
// tcpi_snd_wnd, field for field, so a caller may read it as the kernel's own struct.
// tests/posix/constants_test.cpp checks size and offsets against <linux/tcp.h>.
// Units as Linux: times in microseconds (rto, ato, rtt, rttvar, min_rtt) or milliseconds
// (last_*), windows and thresholds in segments (snd_cwnd, snd_ssthresh), sizes in bytes.
#include <array>
#include <cstdint>
#include <optional>

#include "synack/tcp/state.hpp"

namespace synack::posix {

// tcpi_state: Linux's TCP_ESTABLISHED (1) ... TCP_CLOSING (11), include/net/tcp_states.h, in
// order. Both directions read this one table: TCP_INFO fills it in (socket_info.cpp), and
// `synack proxy` reads its kernel sockets' states back by their RFC names.
inline constexpr std::array<tcp_state, 11> linux_tcp_states{
    tcp_state::established, tcp_state::syn_sent,  tcp_state::syn_received, tcp_state::fin_wait_1,
    tcp_state::fin_wait_2,  tcp_state::time_wait, tcp_state::closed,       tcp_state::close_wait,
    tcp_state::last_ack,    tcp_state::listen,    tcp_state::closing};
[[nodiscard]] constexpr std::uint8_t linux_state(tcp_state s) {
  for (std::size_t i = 0; i < linux_tcp_states.size(); ++i) {
    if (linux_tcp_states[i] == s) return static_cast<std::uint8_t>(i + 1);
  }
  return 7;  // TCP_CLOSE
}
// nullopt for 0 and for the kernel's own states past TCP_CLOSING (TCP_NEW_SYN_RECV, ...), never
// a connected socket's.
[[nodiscard]] constexpr std::optional<tcp_state> from_linux_state(std::uint8_t n) {
  if (n == 0 || n > linux_tcp_states.size()) return std::nullopt;
  return linux_tcp_states[n - 1];
}

// tcpi_options bits.
inline constexpr std::uint8_t tcpi_opt_timestamps = 1;
inline constexpr std::uint8_t tcpi_opt_sack = 2;
inline constexpr std::uint8_t tcpi_opt_wscale = 4;
inline constexpr std::uint8_t tcpi_opt_ecn = 8;
inline constexpr std::uint8_t tcpi_opt_syn_data = 32;   // RFC 7413: the SYN's data was taken
inline constexpr std::uint8_t tcpi_opt_tfo_child = 128;  // made by a Fast Open SYN

// tcpi_ca_state values (enum tcp_ca_state).
inline constexpr std::uint8_t tcp_ca_open = 0;
inline constexpr std::uint8_t tcp_ca_disorder = 1;
inline constexpr std::uint8_t tcp_ca_cwr = 2;
inline constexpr std::uint8_t tcp_ca_recovery = 3;
inline constexpr std::uint8_t tcp_ca_loss = 4;

// tcpi_ssthresh before any loss: TCP_INFINITE_SSTHRESH.
inline constexpr std::uint32_t tcp_infinite_ssthresh = 0x7fffffff;

struct tcp_info_data {
  std::uint8_t state = 0;  // Linux's TCP_ESTABLISHED (1) ... TCP_CLOSING (11)
  std::uint8_t ca_state = 0;
  std::uint8_t retransmits = 0;
  std::uint8_t probes = 0;
  std::uint8_t backoff = 0;
  std::uint8_t options = 0;
  std::uint8_t wscales = 0;  // tcpi_snd_wscale : 4 (low nibble), tcpi_rcv_wscale : 4 (high)
  std::uint8_t app_limited_fastopen_fail = 0;

  std::uint32_t rto = 0;
  std::uint32_t ato = 0;
  std::uint32_t snd_mss = 0;
  std::uint32_t rcv_mss = 0;

  std::uint32_t unacked = 0;
  std::uint32_t sacked = 0;
  std::uint32_t lost = 0;
  std::uint32_t retrans = 0;
  std::uint32_t fackets = 0;

  std::uint32_t last_data_sent = 0;
  std::uint32_t last_ack_sent = 0;
  std::uint32_t last_data_recv = 0;
  std::uint32_t last_ack_recv = 0;

  std::uint32_t pmtu = 0;
  std::uint32_t rcv_ssthresh = 0;
  std::uint32_t rtt = 0;
  std::uint32_t rttvar = 0;
  std::uint32_t snd_ssthresh = 0;
  std::uint32_t snd_cwnd = 0;
  std::uint32_t advmss = 0;
  std::uint32_t reordering = 0;

  std::uint32_t rcv_rtt = 0;
  std::uint32_t rcv_space = 0;

  std::uint32_t total_retrans = 0;

  std::uint64_t pacing_rate = 0;
  std::uint64_t max_pacing_rate = 0;
  std::uint64_t bytes_acked = 0;
  std::uint64_t bytes_received = 0;
  std::uint32_t segs_out = 0;
  std::uint32_t segs_in = 0;

  std::uint32_t notsent_bytes = 0;
  std::uint32_t min_rtt = 0;
  std::uint32_t data_segs_in = 0;
  std::uint32_t data_segs_out = 0;

  std::uint64_t delivery_rate = 0;

  std::uint64_t busy_time = 0;
  std::uint64_t rwnd_limited = 0;
  std::uint64_t sndbuf_limited = 0;

  std::uint32_t delivered = 0;
  std::uint32_t delivered_ce = 0;

  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_retrans = 0;
  std::uint32_t dsack_dups = 0;
  std::uint32_t reord_seen = 0;

  std::uint32_t rcv_ooopack = 0;

  std::uint32_t snd_wnd = 0;
  // Linux 6.7 to 6.18 (include/uapi/linux/tcp.h): fields newer than most distributions'
  // headers. packetdrill asks for all of them (its %{ }% blocks need the whole struct).
  std::uint32_t rcv_wnd = 0;
  std::uint32_t rehash = 0;
  std::uint16_t total_rto = 0;
  std::uint16_t total_rto_recoveries = 0;
  std::uint32_t total_rto_time = 0;  // ms
  std::uint32_t received_ce = 0;
  std::uint32_t delivered_e1_bytes = 0;  // Accurate ECN counters (synack has no ECN: 0)
  std::uint32_t delivered_e0_bytes = 0;
  std::uint32_t delivered_ce_bytes = 0;
  std::uint32_t received_e1_bytes = 0;
  std::uint32_t received_e0_bytes = 0;
  std::uint32_t received_ce_bytes = 0;
  std::uint32_t ecn_bits = 0;  // tcpi_ecn_mode:2, accecn_opt_seen:2, accecn_fail_mode:4, options2:24
};

}  // namespace synack::posix
