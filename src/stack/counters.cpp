#include "synack/stack/counters.hpp"

#include <numeric>

namespace synack {

std::string_view to_string(host_drop d) {
  switch (d) {
    case host_drop::not_for_us: return "not_for_us";
    case host_drop::bad_source: return "bad_source";
    case host_drop::martian_loopback: return "martian_loopback";
    case host_drop::martian_own_address: return "martian_own_address";
    case host_drop::martian_broadcast: return "martian_broadcast";
    case host_drop::martian_class_e: return "martian_class_e";
    case host_drop::martian_v4_mapped: return "martian_v4_mapped";
    case host_drop::zero_hop_limit: return "zero_hop_limit";
    case host_drop::unsupported_protocol: return "unsupported_protocol";
    case host_drop::listen_overflow: return "listen_overflow";
    case host_drop::syn_queue_full: return "syn_queue_full";
    case host_drop::syn_pending_full: return "syn_pending_full";
    case host_drop::too_many_connections: return "too_many_connections";
    case host_drop::reply_queue_full: return "reply_queue_full";
    case host_drop::icmp_unmatched: return "icmp_unmatched";
    case host_drop::icmp_ignored: return "icmp_ignored";
    case host_drop::udp_no_port: return "udp_no_port";
    case host_drop::udp_zero_checksum: return "udp_zero_checksum";
    case host_drop::count_: return "count_";
  }
  return "?";
}

std::array<named_counter, memory_counter_count> memory_counters(const memory_stats& m) {
  return {named_counter{"pressure_entered", m.pressure_entered}, named_counter{"hard_entered", m.hard_entered},
          named_counter{"ooo_pruned_bytes", m.ooo_pruned_bytes}, named_counter{"send_refused", m.send_refused},
          named_counter{"window_clamped", m.window_clamped}, named_counter{"storage_released", m.storage_released},
          named_counter{"zero_window_aborts", m.zero_window_aborts}, named_counter{"orphan_resets", m.orphan_resets}};
}

std::uint64_t host_counters::total_drops() const {
  auto sum = [](const auto& a) { return std::accumulate(a.begin(), a.end(), std::uint64_t{0}); };
  return sum(drop_wire) + sum(drop_tcp) + sum(drop_host);
}

}  // namespace synack
