#include "control.hpp"

#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <unordered_map>

namespace synack::tools {
namespace {

// "10.77.0.2:80", "[fd00:77::2]:80" (RFC 5952 §6), "*:*" for none.
std::string endpoint(const ip_addr& a, std::uint16_t port) {
  return a.is_unspecified() && port == 0 ? "*:*" : a.with_port(port);
}

std::string timer_text(const socket_info& s, instant now, bool json) {
  if (!s.timer || !s.deadline) return json ? "null" : "";
  const double left = std::max<double>(0.0, static_cast<double>((*s.deadline - now).count()) / 1e6);
  if (json) return fmt::format("{{\"kind\":\"{}\",\"expires_s\":{:.3f}}}", to_string(*s.timer), left);
  return fmt::format("{}({:.1f}s)", to_string(*s.timer), left);
}

std::string listen_address(const socket_info& s) {
  // As ss: "*:80" for IPv4 any, "[::]:80" for IPv6 (or both families).
  const ip_addr& a = s.tuple.local_addr;
  return a.is_v4() && a.is_unspecified() ? fmt::format("*:{}", s.tuple.local_port) : a.with_port(s.tuple.local_port);
}

// `synack proxy`'s sessions by their client side's 4-tuple (the synack connection's).
using link_index = std::unordered_map<four_tuple, const proxy_link*, four_tuple_hash>;
link_index index_links(const io_report* io) {
  link_index out;
  if (io == nullptr) return out;
  out.reserve(io->proxy_links.size());
  for (const proxy_link& l : io->proxy_links) out.emplace(l.client, &l);
  return out;
}
const proxy_link* link_of(const link_index& links, const socket_info& s) {
  if (links.empty() || s.state == tcp_state::listen) return nullptr;
  auto it = links.find(s.tuple);
  return it == links.end() ? nullptr : it->second;
}

// The upstream side of a proxied connection: "upstream 198.51.100.1:40312 -> 198.51.100.10:80
// ESTABLISHED" (" via SOCKS5" before the state with --socks5; the phase where the kernel socket
// tells no state).
std::string upstream_text(const proxy_link& l) {
  return fmt::format("upstream {} -> {}{} {}", endpoint(l.upstream_local_addr, l.upstream_local_port),
                     l.upstream_addr.with_port(l.upstream_port), l.socks5 ? " via SOCKS5" : "",
                     l.upstream_state ? to_string(*l.upstream_state) : to_string(l.phase));
}

// The "upstream" object of a proxied connection in the JSON (null for the others).
std::string upstream_json(const proxy_link* l) {
  if (l == nullptr) return "null";
  return fmt::format(
      "{{\"phase\":\"{}\",\"local_addr\":\"{}\",\"local_port\":{},\"peer_addr\":\"{}\",\"peer_port\":{},"
      "\"socks5\":{},\"kernel_state\":{},\"relayed_up\":{},\"relayed_down\":{}}}",
      to_string(l->phase), l->upstream_local_addr.to_string(), l->upstream_local_port, l->upstream_addr.to_string(),
      l->upstream_port, l->socks5,
      l->upstream_state ? fmt::format("\"{}\"", to_string(*l->upstream_state)) : std::string{"null"}, l->bytes_up,
      l->bytes_down);
}

// The SYN-flood view: one row per listener, like `ss -ltn` plus the SYN queue and cookies.
void append_listeners_text(std::string& out, const std::vector<socket_info>& rows) {
  out += fmt::format("{:<21} {:>9} {:>9} {:>8} {:>8} {:>12} {:>12} {:>9}\n", "Local Address:Port", "SYN-Q", "SYN-max",
                     "Accept-Q", "Backlog", "Cookies-sent", "Cookies-recv", "SYN-drops");
  for (const auto& s : rows) {
    if (s.state != tcp_state::listen) continue;
    out += fmt::format("{:<21} {:>9} {:>9} {:>8} {:>8} {:>12} {:>12} {:>9}\n", listen_address(s), s.syn_queue,
                       s.syn_backlog, s.accept_queue, s.backlog, s.cookies_sent, s.cookies_recv, s.syn_drops);
  }
}

void append_counters_json(std::string& out, const host_counters& c) {
  out += fmt::format(
      "\"counters\":{{\"active_opens\":{},\"passive_opens\":{},\"attempt_fails\":{},\"estab_resets\":{},"
      "\"curr_estab\":{},\"in_segs\":{},\"out_segs\":{},\"retrans_segs\":{},\"in_errs\":{},\"out_rsts\":{},"
      "\"listen_overflows\":{},\"listen_drops\":{},\"ip_in_receives\":{},\"ip_out_requests\":{},"
      "\"icmp_in_echos\":{},\"icmp_out_echo_reps\":{},\"time_wait_recycled\":{},\"drops\":{}",
      c.active_opens, c.passive_opens, c.attempt_fails, c.estab_resets, c.curr_estab, c.in_segs, c.out_segs,
      c.retrans_segs, c.in_errs, c.out_rsts, c.listen_overflows, c.listen_drops, c.ip_in_receives,
      c.ip_out_requests, c.icmp_in_echos, c.icmp_out_echo_reps, c.time_wait_recycled, c.total_drops());
  out += fmt::format(",\"syncookies_sent\":{},\"syncookies_recv\":{},\"syncookies_failed\":{}", c.syncookies_sent,
                     c.syncookies_recv, c.syncookies_failed);
  out += fmt::format(
      ",\"syn_deferred\":{},\"syn_deferred_retransmits\":{},\"syn_deferred_accepted\":{},"
      "\"syn_deferred_refused\":{},\"syn_deferred_unreachable\":{},\"syn_deferred_expired\":{},"
      "\"syn_deferred_reset\":{},\"syn_deferred_overflow\":{}",
      c.syn_deferred, c.syn_deferred_retransmits, c.syn_deferred_accepted, c.syn_deferred_refused,
      c.syn_deferred_unreachable, c.syn_deferred_expired, c.syn_deferred_reset, c.syn_deferred_overflow);
  out += fmt::format(",\"r1_negative_advice\":{}", c.r1_negative_advice);
  out += fmt::format(
      ",\"icmp_in_errors_matched\":{},\"icmp_soft_errors\":{},\"icmp_hard_aborts\":{},\"pmtu_reductions\":{},"
      "\"icmp_errors_ignored\":{},\"icmp_out_errors\":{},\"icmp_errors_rate_limited\":{}",
      c.icmp_in_errors_matched, c.icmp_soft_errors, c.icmp_hard_aborts, c.pmtu_reductions, c.icmp_errors_ignored,
      c.icmp_out_errors, c.icmp_errors_rate_limited);
  for (const named_counter& m : memory_counters(c.memory)) out += fmt::format(",\"memory_{}\":{}", m.name, m.value);
  out += ",\"drop_reasons\":{";
  bool first = true;
  auto add = [&](std::string_view layer, std::string_view name, std::uint64_t v) {
    if (v == 0) return;
    out += fmt::format("{}\"{}.{}\":{}", first ? "" : ",", layer, name, v);
    first = false;
  };
  for (std::size_t i = 0; i < c.drop_wire.size(); ++i) add("wire", to_string(static_cast<wire_error>(i)), c.drop_wire[i]);
  for (std::size_t i = 0; i < c.drop_tcp.size(); ++i) add("tcp", to_string(static_cast<rx_verdict>(i)), c.drop_tcp[i]);
  for (std::size_t i = 0; i < c.drop_host.size(); ++i) add("host", to_string(static_cast<host_drop>(i)), c.drop_host[i]);
  out += "}}";
}

// "pressure_entered 0 hard_entered 0 ..." (the Mem: line).
std::string memory_text(const memory_stats& stats) {
  std::string s;
  for (const named_counter& m : memory_counters(stats)) s += fmt::format("{}{} {}", s.empty() ? "" : " ", m.name, m.value);
  return s;
}

void append_counters_text(std::string& out, const host_counters& c) {
  out += fmt::format(
      "\nTcp: active_opens {} passive_opens {} attempt_fails {} estab_resets {} curr_estab {}\n"
      "     in_segs {} out_segs {} retrans_segs {} in_errs {} out_rsts {}\n"
      "     listen_overflows {} listen_drops {} time_wait_recycled {} r1_negative_advice {}\n"
      "     syncookies_sent {} syncookies_recv {} syncookies_failed {}\n"
      "     syn_deferred {} retransmits {} accepted {} refused {} unreachable {} expired {} reset {} overflow {}\n"
      "Ip:  in_receives {} out_requests {}\n"
      "Icmp: in_echos {} out_echo_reps {} in_errors_matched {} soft_errors {} hard_aborts {}\n"
      "      pmtu_reductions {} errors_ignored {} out_errors {} out_errors_rate_limited {}\n"
      "Mem: {}\n"
      "Drops: {}",
      c.active_opens, c.passive_opens, c.attempt_fails, c.estab_resets, c.curr_estab, c.in_segs, c.out_segs,
      c.retrans_segs, c.in_errs, c.out_rsts, c.listen_overflows, c.listen_drops, c.time_wait_recycled,
      c.r1_negative_advice, c.syncookies_sent, c.syncookies_recv, c.syncookies_failed, c.syn_deferred,
      c.syn_deferred_retransmits, c.syn_deferred_accepted, c.syn_deferred_refused, c.syn_deferred_unreachable,
      c.syn_deferred_expired, c.syn_deferred_reset, c.syn_deferred_overflow, c.ip_in_receives,
      c.ip_out_requests, c.icmp_in_echos, c.icmp_out_echo_reps, c.icmp_in_errors_matched, c.icmp_soft_errors,
      c.icmp_hard_aborts, c.pmtu_reductions, c.icmp_errors_ignored, c.icmp_out_errors, c.icmp_errors_rate_limited,
      memory_text(c.memory), c.total_drops());
  auto add = [&](std::string_view layer, std::string_view name, std::uint64_t v) {
    if (v != 0) out += fmt::format(" {}.{}={}", layer, name, v);
  };
  for (std::size_t i = 0; i < c.drop_wire.size(); ++i) add("wire", to_string(static_cast<wire_error>(i)), c.drop_wire[i]);
  for (std::size_t i = 0; i < c.drop_tcp.size(); ++i) add("tcp", to_string(static_cast<rx_verdict>(i)), c.drop_tcp[i]);
  for (std::size_t i = 0; i < c.drop_host.size(); ++i) add("host", to_string(static_cast<host_drop>(i)), c.drop_host[i]);
  out += "\n";
}

void append_io_json(std::string& out, const io_report& io) {
  const auto& l = io.loop;
  out += fmt::format(
      ",\"io\":{{\"mode\":\"{}\",\"rx_packets\":{},\"tx_packets\":{},\"tx_dropped\":{},\"rx_errors\":{},"
      "\"rx_direct_reads\":{},\"loop_iterations\":{},\"rx_batches\":{},\"wake_link\":{},\"wake_fd\":{},"
      "\"wake_timer\":{},\"wake_timeout\":{},\"wake_no_sleep\":{},\"offload\":{},\"rx_super_packets\":{},"
      "\"tx_super_packets\":{},\"rx_coalesced_runs\":{},\"rx_coalesced_segments\":{},\"memory_trims\":{},"
      "\"fine_waits\":{},\"coarse_waits\":{},\"fine_wait_fallbacks\":{}}}",
      io.mode, io.link.rx_packets, io.link.tx_packets, io.link.tx_dropped, io.link.rx_errors,
      io.link.rx_direct_reads, l.iterations, l.rx_batches, l.wake_link, l.wake_fd, l.wake_timer, l.wake_timeout,
      l.wake_no_sleep, io.offload, io.link.rx_super_packets, io.link.tx_super_packets, l.rx_coalesced_runs,
      l.rx_coalesced_segments, l.memory_trims, l.fine_waits, l.coarse_waits, l.fine_wait_fallbacks);
}

// `synack proxy`'s counters; null from the other tools (every key is always present).
void append_proxy_json(std::string& out, const io_report* io) {
  if (io == nullptr || !io->proxy) {
    out += ",\"proxy\":null";
    return;
  }
  const proxy_stats& p = *io->proxy;
  out += fmt::format(
      ",\"proxy\":{{\"sessions_opened\":{},\"sessions_active\":{},\"syns_held\":{},\"bytes_up\":{},"
      "\"bytes_down\":{},\"failed_refused\":{},\"failed_unreachable\":{},\"failed_timeout\":{},"
      "\"failed_other\":{},\"resets_client\":{},\"resets_upstream\":{}",
      p.sessions_opened, p.sessions_active, p.syns_held, p.bytes_up, p.bytes_down, p.failed_refused,
      p.failed_unreachable, p.failed_timeout, p.failed_other, p.resets_client, p.resets_upstream);
  out += fmt::format(
      ",\"socks5\":{},\"socks5_connected\":{},\"socks5_auth_failed\":{},\"socks5_rejected\":{},"
      "\"socks5_malformed\":{}",
      p.socks5, p.socks5_connected, p.socks5_auth_failed, p.socks5_rejected, p.socks5_malformed);
  const socks5_udp_stats& a = p.socks5_udp;
  out += fmt::format(
      ",\"socks5_udp_associations\":{},\"socks5_udp_failed\":{},\"socks5_udp_closed\":{},"
      "\"socks5_udp_dropped_frag\":{},\"socks5_udp_malformed\":{},\"socks5_udp_foreign\":{}",
      a.associations, a.failed, a.closed, a.dropped_frag, a.malformed, a.foreign);
  // The UDP relay's counters go inside "proxy" (null with --no-udp).
  if (!p.udp) {
    out += ",\"udp\":null}";
    return;
  }
  const udp_relay_stats& u = *p.udp;
  out += fmt::format(
      ",\"udp\":{{\"sessions_opened\":{},\"sessions_active\":{},\"sessions_expired\":{},\"sessions_evicted\":{},"
      "\"datagrams_up\":{},\"bytes_up\":{},\"datagrams_down\":{},\"bytes_down\":{},\"upstream_errors\":{},"
      "\"unreachable_sent\":{},\"dropped\":{}}}}}",
      u.sessions_opened, u.sessions_active, u.sessions_expired, u.sessions_evicted, u.datagrams_up, u.bytes_up,
      u.datagrams_down, u.bytes_down, u.upstream_errors, u.unreachable_sent, u.dropped);
}

void append_io_text(std::string& out, const io_report& io) {
  const auto& l = io.loop;
  out += fmt::format(
      "Io:  mode {} rx_packets {} tx_packets {} tx_dropped {} rx_errors {} rx_direct_reads {}\n"
      "     wakes: link {} fd {} timer {} timeout {} no_sleep {} (iterations {}, rx_batches {})\n"
      "     sleeps: fine {} coarse {} fine_wait_fallbacks {}\n"
      "     offload {} rx_super_packets {} tx_super_packets {} rx_coalesced_runs {} rx_coalesced_segments {}\n"
      "     memory_trims {}\n",
      io.mode, io.link.rx_packets, io.link.tx_packets, io.link.tx_dropped, io.link.rx_errors,
      io.link.rx_direct_reads, l.wake_link, l.wake_fd, l.wake_timer, l.wake_timeout, l.wake_no_sleep, l.iterations,
      l.rx_batches, l.fine_waits, l.coarse_waits, l.fine_wait_fallbacks, io.offload ? "on" : "off", io.link.rx_super_packets, io.link.tx_super_packets,
      l.rx_coalesced_runs, l.rx_coalesced_segments, l.memory_trims);
  if (io.proxy) {
    const proxy_stats& p = *io.proxy;
    out += fmt::format(
        "Proxy: sessions_opened {} sessions_active {} syns_held {} bytes_up {} bytes_down {} failed_refused {} "
        "failed_unreachable {} failed_timeout {} failed_other {} resets_client {} resets_upstream {}\n",
        p.sessions_opened, p.sessions_active, p.syns_held, p.bytes_up, p.bytes_down, p.failed_refused,
        p.failed_unreachable, p.failed_timeout, p.failed_other, p.resets_client, p.resets_upstream);
    if (p.socks5) {
      out += fmt::format("       socks5_connected {} socks5_auth_failed {} socks5_rejected {} socks5_malformed {}\n",
                         p.socks5_connected, p.socks5_auth_failed, p.socks5_rejected, p.socks5_malformed);
      const socks5_udp_stats& a = p.socks5_udp;
      out += fmt::format(
          "       socks5_udp_associations {} socks5_udp_failed {} socks5_udp_closed {} socks5_udp_dropped_frag {} "
          "socks5_udp_malformed {} socks5_udp_foreign {}\n",
          a.associations, a.failed, a.closed, a.dropped_frag, a.malformed, a.foreign);
    }
    if (p.udp) {
      const udp_relay_stats& u = *p.udp;
      out += fmt::format(
          "Proxy UDP: sessions_opened {} sessions_active {} sessions_expired {} sessions_evicted {} "
          "datagrams_up {} bytes_up {} datagrams_down {} bytes_down {} upstream_errors {} unreachable_sent {} "
          "dropped {}\n",
          u.sessions_opened, u.sessions_active, u.sessions_expired, u.sessions_evicted, u.datagrams_up, u.bytes_up,
          u.datagrams_down, u.bytes_down, u.upstream_errors, u.unreachable_sent, u.dropped);
    }
  }
}


std::string ms(duration d) { return fmt::format("{:g}", static_cast<double>(d.count()) / 1000.0); }


// BBR's model as JSON (null for the other congestion controls).
std::string bbr_json(const std::optional<bbr_summary>& b) {
  if (!b) return "null";
  return fmt::format("{{\"mode\":\"{}\",\"btlbw_Bps\":{},\"min_rtt_us\":{},\"pacing_gain\":{:.3f},\"cwnd_gain\":{:.3f}}}",
                     to_string(b->mode), b->btlbw, b->min_rtt ? fmt::format("{}", b->min_rtt->count()) : "null",
                     b->pacing_gain, b->cwnd_gain);
}

std::string internals_json(const std::optional<tcp_internals>& in) {
  if (!in) return "null";
  const tcp_internals& t = *in;
  const auto us = [](duration d) { return static_cast<std::uint64_t>(d.count()); };
  return fmt::format(
      "{{\"congestion\":\"{}\",\"srtt_us\":{},\"rttvar_us\":{},\"rto_us\":{},\"mss\":{},\"advmss\":{},"
      "\"cwnd_bytes\":{},\"ssthresh_bytes\":{},\"flight_bytes\":{},\"sacked_bytes\":{},\"snd_wnd\":{},"
      "\"rcv_wnd\":{},\"snd_wscale\":{},\"rcv_wscale\":{},\"wscale\":{},\"timestamps\":{},\"sack\":{},"
      "\"bbr\":{},\"in_recovery\":{},\"dup_acks\":{},\"rto_streak\":{},\"retransmissions\":{},\"fast_retransmits\":{},"
      "\"timeouts\":{},\"bytes_sent\":{},"
      "\"bytes_acked\":{},\"bytes_received\":{},\"notsent\":{},\"ooo_ranges\":{},\"ooo_bytes\":{},"
      "\"spurious_undos\":{},\"loss_probes\":{},\"probe_recoveries\":{},\"rack_losses\":{},"
      "\"reo_wnd_adaptations\":{},\"frto_spurious\":{},\"dupthresh\":{},\"pacing_rate_Bps\":{},"
      "\"ecn\":{},\"ecn_ce_received\":{},\"ecn_ece_received\":{},\"ecn_reductions\":{}}}",
      to_string(t.congestion), t.srtt ? fmt::format("{}", us(*t.srtt)) : "null", t.srtt ? us(t.rttvar) : 0,
      us(t.rto), t.mss, t.advmss, t.cwnd,
      t.ssthresh < tcp_internals::infinite_ssthresh ? fmt::format("{}", t.ssthresh) : "null", t.flight, t.sacked,
      t.snd_wnd, t.rcv_wnd, t.snd_wscale, t.rcv_wscale, t.wscale_ok, t.timestamps, t.sack, bbr_json(t.bbr), t.in_recovery,
      t.dup_acks, t.rto_streak, t.retransmissions, t.fast_retransmits, t.timeouts, t.bytes_sent, t.bytes_acked, t.bytes_received, t.notsent,
      t.ooo_ranges, t.ooo_bytes, t.spurious_undos, t.loss_probes, t.probe_recoveries, t.rack_losses,
      t.reo_wnd_adaptations, t.frto_spurious, t.dupthresh, t.pacing_rate, t.ecn, t.ecn_ce_received,
      t.ecn_ece_received, t.ecn_reductions);
}

constexpr std::array all_states{tcp_state::listen,     tcp_state::syn_sent,   tcp_state::syn_received,
                                tcp_state::established, tcp_state::fin_wait_1, tcp_state::fin_wait_2,
                                tcp_state::close_wait, tcp_state::closing,    tcp_state::last_ack,
                                tcp_state::time_wait,  tcp_state::closed};

// ss -s: how many connections in each state.
std::vector<std::pair<tcp_state, std::size_t>> state_counts(const std::vector<socket_info>& rows,
                                                             const stat_request& req, std::size_t& total,
                                                             std::size_t& orphans) {
  std::vector<std::pair<tcp_state, std::size_t>> out;
  total = 0, orphans = 0;
  for (tcp_state k : all_states) out.emplace_back(k, 0);
  for (const auto& s : rows) {
    if (!req.matches(s)) continue;
    ++total;
    orphans += s.orphan && s.state != tcp_state::time_wait ? 1 : 0;
    for (auto& [k, n] : out) n += k == s.state ? 1 : 0;
  }
  return out;
}
}  // namespace

// ss -i's second line: the connection's internals (cwnd and ssthresh in segments, as ss).
std::string internals_text(const tcp_internals& t) {
  const std::uint32_t mss = std::max<std::uint32_t>(t.mss, 1);
  std::string out = fmt::format("\t {}", to_string(t.congestion));
  if (t.wscale_ok) out += fmt::format(" wscale:{},{}", t.snd_wscale, t.rcv_wscale);
  if (t.timestamps) out += " ts";
  if (t.sack) out += " sack";
  if (t.ecn) out += " ecn";
  out += fmt::format(" rto:{}", ms(t.rto));
  if (t.srtt) out += fmt::format(" rtt:{}/{}", ms(*t.srtt), ms(t.rttvar));
  out += fmt::format(" mss:{} advmss:{} cwnd:{}", t.mss, t.advmss, t.cwnd / mss);
  if (t.ssthresh < tcp_internals::infinite_ssthresh && !t.bbr) out += fmt::format(" ssthresh:{}", t.ssthresh / mss);
  // As ss -i shows BBR: bbr:(mode,bw,mrtt,pacing_gain,cwnd_gain).
  if (t.bbr) {
    out += fmt::format(" bbr:({},bw:{:.1f}Mbps,mrtt:{},pacing_gain:{:.2f},cwnd_gain:{:.2f})", to_string(t.bbr->mode),
                       static_cast<double>(t.bbr->btlbw) * 8 / 1e6, t.bbr->min_rtt ? ms(*t.bbr->min_rtt) : "-",
                       t.bbr->pacing_gain, t.bbr->cwnd_gain);
  }
  out += fmt::format(" bytes_sent:{} bytes_acked:{} bytes_received:{}", t.bytes_sent, t.bytes_acked, t.bytes_received);
  if (t.retransmissions > 0 || t.rto_streak > 0) out += fmt::format(" retrans:{}/{}", t.rto_streak, t.retransmissions);
  // Recovery episodes begun without the timer / retransmission timeouts.
  if (t.fast_retransmits > 0 || t.timeouts > 0) out += fmt::format(" recoveries:{} timeouts:{}", t.fast_retransmits, t.timeouts);
  if (t.spurious_undos > 0) out += fmt::format(" spurious_undos:{}", t.spurious_undos);
  // Timeouts F-RTO found spurious (RFC 5682); DupThresh once reordering raised it.
  if (t.frto_spurious > 0) out += fmt::format(" frto:{}", t.frto_spurious);
  if (t.dupthresh != 3) out += fmt::format(" dupthresh:{}", t.dupthresh);
  // Tail Loss Probes sent / of them, repairs of a tail loss (RFC 8985 §7).
  if (t.loss_probes > 0) out += fmt::format(" loss_probes:{}/{}", t.loss_probes, t.probe_recoveries);
  // Segments RACK marked lost / reo_wnd_mult increments on D-SACK (RFC 8985 §6).
  if (t.rack_losses > 0 || t.reo_wnd_adaptations > 0) out += fmt::format(" rack:{}/{}", t.rack_losses, t.reo_wnd_adaptations);
  // ss's pacing_rate, in bits per second (tcp_config::pacing).
  if (t.pacing_rate > 0) out += fmt::format(" pacing_rate:{:.1f}Mbps", static_cast<double>(t.pacing_rate) * 8 / 1e6);
  // RFC 3168: CE marks received / ECE flags received / cwnd reductions by ECE.
  if (t.ecn_ce_received > 0 || t.ecn_ece_received > 0) {
    out += fmt::format(" ecn_marks:{}/{}/{}", t.ecn_ce_received, t.ecn_ece_received, t.ecn_reductions);
  }
  if (t.flight > 0) out += fmt::format(" unacked:{}", (t.flight + mss - 1) / mss);
  if (t.sacked > 0) out += fmt::format(" sacked:{}", (t.sacked + mss - 1) / mss);
  if (t.in_recovery) out += " recovery";
  if (t.dup_acks > 0) out += fmt::format(" dupacks:{}", t.dup_acks);
  out += fmt::format(" snd_wnd:{} rcv_wnd:{}", t.snd_wnd, t.rcv_wnd);
  if (t.notsent > 0) out += fmt::format(" notsent:{}", t.notsent);
  if (t.ooo_ranges > 0) out += fmt::format(" ooo:{}/{}", t.ooo_ranges, t.ooo_bytes);
  return out + "\n";
}

std::string stat_request::encode() const {
  std::string out = fmt::format("stat {}", json ? "json" : "text");
  if (listeners) out += " listeners";
  if (internals) out += " info";
  if (no_header) out += " noheader";
  if (summary) out += " summary";
  for (std::size_t i = 0; i < states.size(); ++i) out += fmt::format("{}{}", i == 0 ? " state=" : ",", to_string(states[i]));
  if (sport) out += fmt::format(" sport={}", *sport);
  if (dport) out += fmt::format(" dport={}", *dport);
  if (src) out += fmt::format(" src={}", src->to_string());
  if (dst) out += fmt::format(" dst={}", dst->to_string());
  return out;
}

result<stat_request, std::string> stat_request::parse(std::string_view line) {
  std::istringstream in{std::string{line}};
  std::string verb;
  std::string format;
  in >> verb >> format;
  if (verb != "stat" || (format != "text" && format != "json")) {
    return unexpected{std::string{"unknown request (want: stat text|json [options])"}};
  }
  stat_request r;
  r.json = format == "json";
  auto port = [](std::string_view v) -> std::optional<std::uint16_t> {
    unsigned n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || p != v.data() + v.size() || n > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(n);
  };
  for (std::string tok; in >> tok;) {
    const auto eq = tok.find('=');
    const std::string key = tok.substr(0, eq);
    const std::string val = eq == std::string::npos ? std::string{} : tok.substr(eq + 1);
    if (tok == "listeners") {
      r.listeners = true;
    } else if (tok == "info") {
      r.internals = true;
    } else if (tok == "noheader") {
      r.no_header = true;
    } else if (tok == "summary") {
      r.summary = true;
    } else if (key == "state" || eq == std::string::npos) {  // "stat text TIME-WAIT": the older form
      for (std::string_view rest = eq == std::string::npos ? std::string_view{tok} : std::string_view{val};
           !rest.empty();) {
        const auto comma = rest.find(',');
        const std::string_view name = rest.substr(0, comma);
        auto k = parse_tcp_state(name);
        if (!k) return unexpected{fmt::format("unknown state '{}'", name)};
        r.states.push_back(*k);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    } else if (key == "sport" || key == "dport") {
      auto n = port(val);
      if (!n) return unexpected{fmt::format("bad port '{}'", val)};
      (key == "sport" ? r.sport : r.dport) = *n;
    } else if (key == "src" || key == "dst") {
      auto a = ip_addr::parse(val);
      if (!a) return unexpected{fmt::format("bad address '{}'", val)};
      (key == "src" ? r.src : r.dst) = *a;
    } else {
      return unexpected{fmt::format("unknown option '{}'", tok)};
    }
  }
  return r;
}

bool stat_request::matches(const socket_info& s) const {
  if (listeners) return s.state == tcp_state::listen;
  if (!states.empty() && std::find(states.begin(), states.end(), s.state) == states.end()) return false;
  if (sport && s.tuple.local_port != *sport) return false;
  if (dport && s.tuple.remote_port != *dport) return false;
  if (src && s.tuple.local_addr != *src) return false;
  if (dst && s.tuple.remote_addr != *dst) return false;
  return true;
}

std::string format_stat(const host& h, instant now, const stat_request& req, const std::string& who,
                        const io_report* io) {
  const std::vector<socket_info> rows = h.snapshot();
  std::size_t total = 0;
  std::size_t orphans = 0;
  const auto counts = state_counts(rows, req, total, orphans);
  const link_index links = req.summary || req.listeners ? link_index{} : index_links(io);
  std::string out;
  if (req.json) {
    // One shape always (docs/architecture.md): every key present, null where there is nothing.
    out += fmt::format("{{\"host\":\"{}\",\"who\":\"{}\",\"connections\":[", h.addr().to_string(), who);
    bool first = true;
    for (const auto& s : rows) {
      if (!req.matches(s)) continue;
      const bool lis = s.state == tcp_state::listen;
      out += fmt::format(
          "{}{{\"state\":\"{}\",\"local_addr\":\"{}\",\"local_port\":{},\"peer_addr\":\"{}\","
          "\"peer_port\":{},\"recv_q\":{},\"send_q\":{},\"timer\":{},\"time_wait_record\":{},\"orphan\":{},"
          "\"listener\":",
          first ? "" : ",", to_string(s.state), s.tuple.local_addr.to_string(), s.tuple.local_port,
          s.tuple.remote_addr.to_string(), s.tuple.remote_port, lis ? s.accept_queue : s.recv_queue,
          lis ? s.backlog : s.send_queue, timer_text(s, now, true), s.time_wait_record, s.orphan);
      if (lis) {
        out += fmt::format(
            "{{\"syn_queue\":{},\"accept_queue\":{},\"backlog\":{},\"syn_backlog\":{},\"cookies_sent\":{},"
            "\"cookies_recv\":{},\"syn_drops\":{}}}",
            s.syn_queue, s.accept_queue, s.backlog, s.syn_backlog, s.cookies_sent, s.cookies_recv, s.syn_drops);
      } else {
        out += "null";
      }
      out += fmt::format(",\"internals\":{},\"upstream\":{}}}", internals_json(s.internals),
                         upstream_json(link_of(links, s)));
      first = false;
    }
    out += fmt::format("],\"summary\":{{\"total\":{},\"orphans\":{},\"states\":{{", total, orphans);
    for (std::size_t i = 0; i < counts.size(); ++i) {
      out += fmt::format("{}\"{}\":{}", i == 0 ? "" : ",", to_string(counts[i].first), counts[i].second);
    }
    const host_memory mem = h.memory();
    out += fmt::format(
        "}},\"memory\":{{\"allocated\":{},\"peak\":{},\"level\":\"{}\",\"low\":{},\"pressure\":{},"
        "\"hard\":{},\"orphans\":{},\"max_orphans\":{}}}}},",
        mem.allocated, mem.peak, to_string(mem.level), mem.limits.low, mem.limits.pressure, mem.limits.hard,
        mem.orphans, mem.max_orphans);
    append_counters_json(out, h.counters());
    if (io != nullptr) {
      append_io_json(out, *io);
    } else {
      out += ",\"io\":null";
    }
    append_proxy_json(out, io);
    out += "}\n";
    return out;
  }
  if (!req.no_header) out += fmt::format("# {} ({})\n", h.addr().to_string(), who);
  if (req.summary) {  // ss -s
    out += fmt::format("Total: {} (orphaned {})\n", total, orphans);
    for (const auto& [k, n] : counts) {
      if (n > 0) out += fmt::format("  {:<13} {}\n", to_string(k), n);
    }
    const host_memory mem = h.memory();
    out += fmt::format("Memory: {} bytes allocated (peak {}), {}; limits low {} pressure {} hard {}; orphans {}/{}\n",
                       mem.allocated, mem.peak, to_string(mem.level), mem.limits.low, mem.limits.pressure,
                       mem.limits.hard, mem.orphans, mem.max_orphans);
  } else if (req.listeners) {
    append_listeners_text(out, rows);
  } else {
    if (!req.no_header) {
      out += fmt::format("{:<12} {:>7} {:>7} {:<21} {:<21} {}\n", "State", "Recv-Q", "Send-Q", "Local Address:Port",
                         "Peer Address:Port", "Timer");
    }
    for (const auto& s : rows) {
      if (!req.matches(s)) continue;
      // For listeners, like ss: Recv-Q is the accept queue, Send-Q the backlog.
      const bool lis = s.state == tcp_state::listen;
      const std::string local = lis ? listen_address(s) : endpoint(s.tuple.local_addr, s.tuple.local_port);
      std::string extra = timer_text(s, now, false);
      if (lis) extra = fmt::format("syn-queue {}/{} cookies {}", s.syn_queue, s.syn_backlog, s.cookies_sent);
      if (s.orphan) extra += extra.empty() ? "orphan" : " orphan";
      if (const proxy_link* l = link_of(links, s)) extra += (extra.empty() ? "" : " ") + upstream_text(*l);
      out += fmt::format("{:<12} {:>7} {:>7} {:<21} {:<21} {}\n", to_string(s.state),
                         lis ? s.accept_queue : s.recv_queue, lis ? s.backlog : s.send_queue, local,
                         lis ? std::string{"*:*"} : endpoint(s.tuple.remote_addr, s.tuple.remote_port), extra);
      if (req.internals && s.internals) out += internals_text(*s.internals);
    }
  }
  if (req.no_header) return out;  // the rows alone, for scripts
  append_counters_text(out, h.counters());
  if (io != nullptr) append_io_text(out, *io);
  return out;
}

// ---- server ---------------------------------------------------------------------------------

result<std::unique_ptr<control_server>, std::string> control_server::open(const std::string& path,
                                                                         runtime::event_loop& loop,
                                                                         std::string ifname,
                                                                         std::function<io_report()> io) {
  sockaddr_un sa{};
  if (path.size() >= sizeof sa.sun_path) return unexpected{fmt::format("control socket path too long: {}", path)};
  std::error_code ec;
  const auto dir = std::filesystem::path{path}.parent_path();
  if (!dir.empty()) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return unexpected{fmt::format("cannot create {}: {} (use --ctl PATH or --no-ctl)", dir.string(), ec.message())};
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return unexpected{fmt::format("socket(AF_UNIX): {}", std::strerror(errno))};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 || ::listen(fd, 16) < 0) {  // NOLINT
    const int err = errno;
    ::close(fd);
    return unexpected{fmt::format("control socket {}: {}", path, std::strerror(err))};
  }
  ::chmod(path.c_str(), 0600);
  std::unique_ptr<control_server> s{new control_server(path, fd, loop, std::move(ifname), std::move(io))};
  control_server* self = s.get();
  if (!loop.watch(fd, EPOLLIN, [self](std::uint32_t) { self->on_accept(); })) {
    return unexpected{std::string{"cannot watch the control socket"}};
  }
  return s;
}

control_server::control_server(std::string path, int fd, runtime::event_loop& loop, std::string ifname,
                               std::function<io_report()> io)
    : path_(std::move(path)), fd_(fd), loop_(loop), ifname_(std::move(ifname)), io_(std::move(io)) {}

control_server::~control_server() {
  loop_.unwatch(fd_);
  ::close(fd_);
  ::unlink(path_.c_str());
}

void control_server::on_accept() {
  for (;;) {
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);  // blocking: one short exchange
    if (c < 0) return;
    serve_client(c);
    ::close(c);
  }
}

void control_server::serve_client(int c) {
  timeval tv{1, 0};  // a client that never writes cannot stall the loop for long
  ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string line;
  char buf[256];
  while (line.find('\n') == std::string::npos && line.size() < 1024) {
    const ssize_t n = ::read(c, buf, sizeof buf);
    // With SO_RCVTIMEO a signal makes read() fail with EINTR instead of restarting it.
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
  }
  if (auto nl = line.find('\n'); nl != std::string::npos) line.resize(nl);
  std::string answer;
  auto req = stat_request::parse(line);
  if (!req) {
    answer = fmt::format("error: {}\n", req.error());
  } else {
    const std::optional<io_report> io = io_ ? std::optional{io_()} : std::nullopt;
    answer = format_stat(loop_.host(), runtime::clock_now(), *req, fmt::format("pid {} {}", ::getpid(), ifname_),
                         io ? &*io : nullptr);
  }
  std::size_t off = 0;
  while (off < answer.size()) {
    const ssize_t n = ::write(c, answer.data() + off, answer.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
}

// ---- client ---------------------------------------------------------------------------------

result<std::string, std::string> control_query(const std::string& path, const std::string& request) {
  sockaddr_un sa{};
  if (path.size() >= sizeof sa.sun_path) return unexpected{fmt::format("path too long: {}", path)};
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return unexpected{fmt::format("socket: {}", std::strerror(errno))};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {  // NOLINT
    const int err = errno;
    ::close(fd);
    return unexpected{fmt::format("{}: {}", path, std::strerror(err))};
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string line = request + "\n";
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    ::close(fd);
    return unexpected{fmt::format("{}: write failed", path)};
  }
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::vector<std::string> control_sockets(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const auto& p = e.path();
    if (p.extension() != ".sock") continue;
    // PID.sock: skip sockets whose process is gone.
    const std::string stem = p.stem().string();
    if (!stem.empty() && std::all_of(stem.begin(), stem.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      if (!std::filesystem::exists("/proc/" + stem, ec)) continue;
    }
    out.push_back(p.string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace synack::tools
