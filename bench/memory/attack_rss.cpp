// attack_rss: memory under the two attacks of issue #13 that aim at buffers (docs/performance.md
// "Memory per connection").
//   attack_rss [ooo N] [zero N]   (default: ooo 200, zero 500)
// Two synack hosts back to back in memory (bench/host_pair.hpp); the process's resident set
// (/proc/self/statm) is read before and after, and the server host's own account
// (host::memory(): ring and out-of-order storage) beside it.
//
// Case 4, out-of-order multiplier: N connections each receive 32 one-octet segments spread over
// the window (forged from the client's 4-tuple: a gap at RCV.NXT, then one octet every 2,000).
// Before memory followed the bytes this grew every receive ring to the window (~99 KB per
// connection for ~1.3 KB of attack traffic).
//
// Case 5, zero-window holders: N clients with 4 KiB receive buffers that never read, and a
// server that writes 256 KiB into each. Without a budget every send ring grows to 256 KiB;
// with the default budget (host_config::memory: pressure 64 MiB, hard 96 MiB) growth stops,
// and after tcp_config::zero_window_timeout (60 s of virtual time) under pressure the holders
// are reset and their memory given back (to glibc, which keeps it: the last line trims).
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "memory_common.hpp"

namespace {

using namespace synack;
using namespace synack::bench;

// A one-octet segment at `seq` from the client's side of `t` (the server's view of the tuple).
std::vector<std::byte> forged(const four_tuple& t, seq_num seq, seq_num ack) {
  static const std::byte octet[1] = {std::byte{'a'}};
  tcp_repr r;
  r.src_port = t.remote_port;
  r.dst_port = t.local_port;
  r.seq = seq;
  r.ack = ack;
  r.flags = tcp_flag::ack;
  r.window = 0xFFFF;
  r.payload = bytes{octet, 1};
  std::vector<std::byte> pkt(20 + r.buffer_len());
  ipv4_repr ip;
  ip.src = t.remote_addr.v4();
  ip.dst = t.local_addr.v4();
  ip.protocol = ip_proto::tcp;
  ip.payload_len = static_cast<std::uint16_t>(r.buffer_len());
  ip.emit(pkt);
  r.emit(mutable_bytes{pkt}.subspan(20), t.remote_addr, t.local_addr);
  return pkt;
}

void ooo_attack(std::size_t n) {
  host_pair p{bench_config(client_addr), bench_config(server_addr)};
  const std::vector<conn_handle> servers = open_connections(p, n).servers;
  const double before = rss_kib();
  const std::size_t acct_before = p.server.memory().allocated;
  std::size_t attack_bytes = 0;
  for (const conn_handle h : servers) {
    const tcb_snapshot s = p.server.find(h)->snapshot();
    for (std::uint32_t i = 0; i < 32; ++i) {
      const auto pkt = forged(s.tuple, s.rcv.nxt + seq_len{1 + i * 2000}, s.snd.nxt);
      attack_bytes += pkt.size();
      p.server.on_packet(p.now, pkt);
    }
  }
  p.pump();  // the duplicate ACKs go to the client, which ignores them
  const double after = rss_kib();
  std::size_t held = 0;
  for (const conn_handle h : servers) held += p.server.find(h)->snapshot().recv_ooo_bytes;
  const double per = (after - before) / static_cast<double>(n);
  std::printf("case 4 (out of order): %zu connections x 32 one-octet segments over the window\n", n);
  std::printf("  attack traffic        %8.2f KiB per connection (IP packets)\n",
              static_cast<double>(attack_bytes) / 1024.0 / static_cast<double>(n));
  std::printf("  octets held           %8zu per connection\n", held / n);
  std::printf("  RSS delta             %8.2f KiB per connection\n", per);
  std::printf("  host account          %8.2f KiB per connection (ring + out-of-order storage)\n",
              static_cast<double>(p.server.memory().allocated - acct_before) / 1024.0 / static_cast<double>(n));
}

void zero_window(std::size_t n, bool budget) {
  host_config cc = bench_config(client_addr);
  cc.tcp.recv_buffer = 4096;
  host_config sc = bench_config(server_addr);
  if (!budget) sc.memory = memory_limits{};
  host_pair p{cc, sc};
  const std::vector<conn_handle> servers = open_connections(p, n).servers;
  const double before = rss_kib();
  std::vector<std::byte> chunk(64 * 1024, std::byte{'z'});
  std::size_t queued = 0;
  for (std::size_t round = 0; round < 8; ++round) {  // 8 x 64 KiB offered: the 256 KiB buffer fills
    for (const conn_handle h : servers) {
      if (auto r = p.server.send(h, bytes{chunk})) queued += *r;
    }
    p.pump();
  }
  const double held = rss_kib();
  const host_memory m = p.server.memory();
  // The holders keep the window at 0 (the clients never read) for two minutes of virtual time.
  for (int s = 0; s < 120; ++s) {
    p.now += std::chrono::seconds(1);
    p.pump();
  }
  const double later = rss_kib();
  const host_memory m2 = p.server.memory();
  std::size_t alive = 0;
  for (const conn_handle h : servers) {
    if (p.server.state(h) == tcp_state::established) ++alive;
  }
  std::printf("case 5 (zero window): %zu connections, server offers 512 KiB to each, budget %s\n", n,
              budget ? "default (pressure 64 MiB, hard 96 MiB)" : "off");
  std::printf("  taken by send()       %8.1f MiB (%.1f KiB per connection)\n", static_cast<double>(queued) / 1048576.0,
              static_cast<double>(queued) / 1024.0 / static_cast<double>(n));
  std::printf("  RSS delta             %8.1f MiB while held; host account %.1f MiB (peak %.1f), level %s\n",
              (held - before) / 1024.0, static_cast<double>(m.allocated) / 1048576.0,
              static_cast<double>(m.peak) / 1048576.0, to_string(m.level));
  std::printf("  after 120 s           %8.1f MiB RSS delta; host account %.1f MiB, level %s; %zu still established, "
              "%llu zero-window holders reset\n",
              (later - before) / 1024.0, static_cast<double>(m2.allocated) / 1048576.0, to_string(m2.level), alive,
              static_cast<unsigned long long>(p.server.counters().memory.zero_window_aborts));
  // What the host freed went back to glibc, which keeps it for reuse; trimming shows how much.
  (void)::malloc_trim(0);
  std::printf("  after malloc_trim(0)  %8.1f MiB RSS delta\n", (rss_kib() - before) / 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t ooo = 200;
  std::size_t zero = 500;
  for (int i = 1; i + 1 < argc; i += 2) {
    const auto v = static_cast<std::size_t>(std::strtoul(argv[i + 1], nullptr, 10));
    if (std::strcmp(argv[i], "ooo") == 0) ooo = v;
    if (std::strcmp(argv[i], "zero") == 0) zero = v;
  }
  if (ooo != 0) ooo_attack(ooo);
  if (zero != 0) {
    zero_window(zero, false);
    zero_window(zero, true);
  }
  return 0;
}
