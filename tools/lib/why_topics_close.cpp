// The topics of `synack demo --why` about the end of a connection and about half-open ones:
// time-wait, simultaneous-close, syn-flood (why_topics.cpp has the first two).
#include <fmt/format.h>

#include <algorithm>

#include "control.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/tcp.hpp"
#include "why_scenario.hpp"
#include "why_world.hpp"

namespace synack::why {
namespace {

using namespace std::chrono_literals;

// Two byte strings, one column per byte, with a marker under every byte that differs.
void compare_bytes(lang l, sink& out, const std::string& sent, const std::string& got) {
  auto printable = [](std::string v) {
    for (char& c : v) {
      if (c < 0x20 || c > 0x7e) c = '.';
    }
    return v;
  };
  std::string marks;
  for (std::size_t i = 0; i < std::max(sent.size(), got.size()); ++i) {
    marks += i < sent.size() && i < got.size() && sent[i] == got[i] ? ' ' : '^';
  }
  while (!marks.empty() && marks.back() == ' ') marks.pop_back();
  const std::size_t differ = static_cast<std::size_t>(std::count(marks.begin(), marks.end(), '^'));
  out.text(fmt::format("  {} \"{}\"", tr(l, "sent:  ", "发送："), printable(sent)));
  out.text(fmt::format("  {} \"{}\"", tr(l, "echoed:", "回显："), printable(got)));
  // The labels are 7 columns in English, 6 in Chinese (three double-width characters).
  if (!marks.empty()) out.text(std::string(l == lang::en ? 11 : 10, ' ') + marks);
  out.text(l == lang::en ? fmt::format("  {} of {} bytes differ", differ, sent.size())
                         : fmt::format("  {} 字节中有 {} 字节不同", sent.size(), differ));
}

// The echo server's turn: reads, writes back; true once the client's FIN came and all is echoed.
bool echo_step(world& w, std::string& buf, std::size_t& sent) {
  drain(w.server, *w.server_conn, buf);
  send_some(w.server, *w.server_conn, buf, sent);
  const auto st = w.server.status(*w.server_conn);
  return st && st->eof && st->readable == 0 && sent == buf.size();
}

// ---- time-wait, part 1: a delayed segment of the old incarnation --------------------------------

constexpr duration tw_latency = 100us;
constexpr duration think_time = 1ms;     // the client sends its line 1 ms after connecting
// How long the network holds the duplicate of the old connection's line: the copy reaches the
// server just before the new connection's line when TIME-WAIT is off, and during TIME-WAIT when
// it is on (it is the same run up to the reconnect).
constexpr duration stale_delay = 1601us;

tcp_config tw_tcp(bool time_wait) {
  tcp_config t;
  t.msl = 1s;
  t.time_wait = time_wait;
  // PAWS (RFC 7323) would be a second guard; the demo shows what TIME-WAIT alone does.
  t.timestamps = false;
  return t;
}

void stale_segment(lang l, std::uint64_t seed, sink& out, time_wait_run& f) {
  world_config wc;
  wc.seed = seed;
  wc.latency = tw_latency;
  wc.client_tcp = tw_tcp(f.time_wait);
  wc.server_tcp = tw_tcp(f.time_wait);
  world w(wc);
  w.language = l;
  w.listen(7, wc.server_tcp);
  out.part({f.time_wait ? std::string(tr(l, "1a. A delayed segment of the old connection, with TIME-WAIT (2 x MSL = 2 s)",
                                         "1a. 旧连接的一个迟到报文，有 TIME-WAIT（2 x MSL = 2 s）"))
                        : std::string(tr(l, "1b. The same, with TIME-WAIT disabled (a knob for demos and tests only)",
                                         "1b. 同样的情形，但关闭了 TIME-WAIT（仅供演示和测试的开关）")),
            setup_line(l, wc.latency, seed,
                       tr(l, "an echo server; the client sends its line 1 ms after connecting, then closes; the "
                             "network delivers a second copy of the first line 1.601 ms late; timestamps off",
                          "回显服务器；客户端连上 1 ms 后发送一行，然后关闭；网络把第一行的一个副本延迟 1.601 ms 后再送达；关闭时间戳选项")),
            tcp_state::closed, tcp_state::listen, false});
  std::string old_msg;
  while (old_msg.size() < 450) old_msg += "old connection's data, ";
  old_msg.resize(450);
  f.sent = "hello, synack: this line belongs to the new connection";
  int incarnation = 1;
  bool duplicated = false;
  w.client_side().filter = [&](const seg_view& s) {
    if (incarnation != 1 || duplicated || s.len == 0) return verdict{};
    duplicated = true;
    return verdict{fate::duplicate_later, stale_delay};
  };
  std::optional<seq_num> stale_seq;
  std::optional<seq_num> old_isn;
  std::optional<seq_num> new_isn;
  bool stale_seen = false;
  w.on_segment = [&](const segment_row& r) {
    std::string note;
    if (r.from_client && r.len > 0 && !stale_seq) {
      stale_seq = r.seq;
      note = tr(l, "the old connection's line; the network also keeps a copy of it, delayed",
                "旧连接发送的一行；网络中还滞留着它的一个副本");
    } else if (r.from_client && r.len > 0 && stale_seq && r.seq == *stale_seq && !stale_seen) {
      stale_seen = true;
      if (r.client_state == tcp_state::time_wait) {
        f.stale_absorbed = true;
        note = tr(l, "the stale copy arrives: the client still holds the 4-tuple in TIME-WAIT, so no new connection "
                     "exists to take it; the listener resets it, and TIME-WAIT ignores that RST (RFC 1337)",
                  "迟到的副本到达：客户端仍以 TIME-WAIT 占用该四元组，不存在可以接收它的新连接；监听者用 RST 回应，"
                  "TIME-WAIT 忽略这个 RST（RFC 1337）");
      } else {
        // The numbers of the run: how far the 4 us ISN clock moved, how many old bytes lie past it.
        const std::uint32_t ahead = old_isn && new_isn ? distance(*old_isn, *new_isn).n : 0;
        const std::uint32_t in_window = r.len > ahead ? r.len - ahead : 0;
        note = l == lang::en
                   ? fmt::format("the stale copy arrives: the new ISN is only {} ahead of the old one (the 4 us clock), "
                                 "so the last {} of its {} old bytes fall in the new connection's window and the new "
                                 "incarnation takes them as its own",
                                 ahead, in_window, r.len)
                   : fmt::format("迟到的副本到达：新 ISN 只比旧 ISN 大 {}（4 微秒时钟），所以它的 {} 个旧字节中最后 {} 个落在新连接的"
                                 "接收窗口内，被新连接当成了自己的数据",
                                 ahead, r.len, in_window);
      }
    } else if (r.from_client && has(r.flags, tcp_flag::syn) && incarnation == 2) {
      new_isn = r.seq;
      note = tr(l, "the same 4-tuple again: a new incarnation", "同一个四元组再次连接：新的化身");
    }
    if (r.from_client && has(r.flags, tcp_flag::syn) && incarnation == 1) old_isn = r.seq;
    out.segment(r, note);
  };
  w.on_state = [&](const state_row& r) { out.state(r, {}); };
  (void)w.connect(40000, 7);
  std::size_t sent = 0;
  std::string echoed;
  std::string server_buf;
  std::size_t server_sent = 0;
  bool client_closed = false;
  bool server_closed = false;
  bool done = false;
  std::optional<instant> send_at;
  auto app = [&] {
    const instant now = w.now();
    const std::string& msg = incarnation == 1 ? old_msg : f.sent;
    w.take_events();
    if (!client_closed && w.client.state(*w.client_conn) == tcp_state::established) {
      if (!send_at) {
        send_at = now + think_time;
        w.client_side().wake_at(*send_at);
      }
      if (now >= *send_at) send_some(w.client, *w.client_conn, msg, sent);
      drain(w.client, *w.client_conn, echoed);
      if (sent == msg.size() && echoed.size() >= msg.size()) {
        if (incarnation == 2) {
          f.echoed = echoed.substr(0, msg.size());
          done = true;
        }
        (void)w.client.close(now, *w.client_conn);
        client_closed = true;
        w.report_states("client calls close()", {});
      }
    }
    if (w.server_conn && !server_closed) {  // the echo server
      if (echo_step(w, server_buf, server_sent)) {
        (void)w.server.close(now, *w.server_conn);
        server_closed = true;
        w.report_states({}, "server calls close()");
      }
    }
    // The client opens the same 4-tuple again as soon as its first connection is over for it.
    // (Without TIME-WAIT the record lives 1 us, only to send the last ACK: the client waits it out.)
    if (incarnation == 1 && client_closed && server_closed &&
        (w.client_state() == tcp_state::closed || (f.time_wait && w.client_state() == tcp_state::time_wait))) {
      w.report_states(f.time_wait ? "" : "TIME-WAIT disabled");
      auto c = w.connect(40000, 7);
      if (!c) {
        if (!f.reconnect_refused) {
          f.reconnect_refused = true;
          out.text(fmt::format("{:>9.3f} ms  {}", w.now().seconds() * 1e3,
                               tr(l, "connect() from port 40000 again: address in use (TIME-WAIT); the client waits",
                                  "再次从 40000 端口 connect()：地址被占用（TIME-WAIT）；客户端只能等待")));
        }
        return;
      }
      incarnation = 2;
      sent = 0;
      send_at.reset();
      echoed.clear();
      server_buf.clear();
      server_sent = 0;
      client_closed = false;
      server_closed = false;
      w.server_conn.reset();
    }
  };
  w.run(app, [&] { return done; }, 60s);
  // How many of the bytes the new incarnation's server read are the old line's tail.
  for (std::size_t k = std::min(server_buf.size(), old_msg.size()); k > 0; --k) {
    if (server_buf.compare(0, k, old_msg, old_msg.size() - k, k) == 0) {
      f.stale_bytes_accepted = k;
      break;
    }
  }
  if (!done) {
    out.text("the run did not complete");
    return;
  }
  compare_bytes(l, out, f.sent, f.echoed);
}

// ---- time-wait, part 2: the final ACK is lost ----------------------------------------------------

void lost_final_ack(lang l, std::uint64_t seed, sink& out, time_wait_run& f) {
  world_config wc;
  wc.seed = seed;
  wc.client_tcp = tw_tcp(f.time_wait);
  wc.server_tcp = tw_tcp(f.time_wait);
  world w(wc);
  w.language = l;
  w.listen(7, wc.server_tcp);
  out.part({f.time_wait ? std::string(tr(l, "2a. The final ACK is lost, with TIME-WAIT", "2a. 最后一个 ACK 丢失，有 TIME-WAIT"))
                        : std::string(tr(l, "2b. The final ACK is lost, TIME-WAIT disabled",
                                         "2b. 最后一个 ACK 丢失，关闭了 TIME-WAIT")),
            setup_line(l, wc.latency, seed, tr(l, "the server shuts down and keeps its socket to see how it ends",
                                         "服务器调用 shutdown() 并保留套接字，以便看到连接如何结束")),
            tcp_state::closed, tcp_state::listen, false});
  bool dropped = false;
  w.client_side().filter = [&](const seg_view& s) {
    if (dropped || s.len != 0 || has(s.flags, tcp_flag::fin) || has(s.flags, tcp_flag::rst)) return verdict{};
    if (w.client_state() != tcp_state::time_wait && !(w.client_conn && w.client.state(*w.client_conn) == std::nullopt &&
                                                      w.client.time_wait_count() == 0 && w.client.connection_count() == 0)) {
      // Not yet past the client's close: only the ACK of the server's FIN is dropped.
      const connection* c = w.client.lookup(w.tuple);
      if (c != nullptr) return verdict{};
    }
    dropped = true;
    return verdict{fate::drop, {}};
  };
  int server_fins = 0;
  w.on_segment = [&](const segment_row& r) {
    std::string note;
    if (r.lost) {
      note = tr(l, "the client's final ACK is lost", "客户端最后的 ACK 丢失了");
    } else if (!r.from_client && has(r.flags, tcp_flag::fin) && ++server_fins == 2) {
      f.fin_retransmitted = true;
      note = f.time_wait ? tr(l, "no ACK came: the server retransmits its FIN; TIME-WAIT still knows the connection",
                              "没有收到 ACK：服务器重传 FIN；TIME-WAIT 仍记得这个连接")
                         : tr(l, "no ACK came: the server retransmits its FIN; the client has forgotten the connection",
                              "没有收到 ACK：服务器重传 FIN；客户端已经忘记了这个连接");
    } else if (r.from_client && server_fins == 2 && has(r.flags, tcp_flag::rst)) {
      f.fin_answered_by_rst = true;
      note = tr(l, "no connection for this FIN: RST; the server's close ends in an error", "这个 FIN 没有对应的连接：回 RST；服务器的关闭以错误告终");
    } else if (r.from_client && server_fins == 2 && r.ack && !has(r.flags, tcp_flag::rst)) {
      f.fin_answered_by_ack = true;
      note = tr(l, "TIME-WAIT ACKs the FIN again (and restarts its 2 x MSL); the server closes cleanly",
                "TIME-WAIT 再次确认 FIN（并重新开始 2 x MSL 计时）；服务器正常关闭");
    }
    out.segment(r, note);
  };
  w.on_state = [&](const state_row& r) { out.state(r, {}); };
  (void)w.connect(40000, 7);
  const std::string msg = "hello, synack\n";
  std::size_t sent = 0;
  std::string echoed;
  std::string server_buf;
  std::size_t server_sent = 0;
  bool client_closed = false;
  bool server_shut = false;
  auto app = [&] {
    const instant now = w.now();
    w.take_events();
    if (!client_closed && w.client.state(*w.client_conn) == tcp_state::established) {
      send_some(w.client, *w.client_conn, msg, sent);
      drain(w.client, *w.client_conn, echoed);
      if (echoed.size() >= msg.size()) {
        (void)w.client.close(now, *w.client_conn);
        client_closed = true;
        w.report_states("client calls close()", {});
      }
    }
    if (w.server_conn && !server_shut) {
      if (echo_step(w, server_buf, server_sent)) {
        (void)w.server.shutdown(now, *w.server_conn);
        server_shut = true;
        w.report_states({}, "server calls shutdown()");
      }
    }
  };
  w.run(app,
        [&] {
          const auto st = w.server_conn ? w.server.status(*w.server_conn) : std::nullopt;
          return server_shut && (!st || st->state == tcp_state::closed) && w.client.time_wait_count() == 0 &&
                 w.client.connection_count() == 0;
        },
        600s);
  if (const auto st = w.server_conn ? w.server.status(*w.server_conn) : std::nullopt) f.server_reason = st->reason;
  out.text(fmt::format("{}: {}", tr(l, "the server's connection ended with", "服务器的连接结束原因"),
                       f.server_reason == close_reason::none ? std::string(tr(l, "no error", "无错误"))
                                                             : std::string(to_string(f.server_reason))));
}

}  // namespace

void time_wait_topic(lang l, std::uint64_t seed, sink& out, time_wait_facts& f) {
  f.with.time_wait = true;
  f.without.time_wait = false;
  stale_segment(l, seed, out, f.with);
  stale_segment(l, seed, out, f.without);
  lost_final_ack(l, seed, out, f.with);
  lost_final_ack(l, seed, out, f.without);
  out.text(tr(l, "Why 2 x MSL: the side that closes first keeps the 4-tuple until every segment of the connection has "
                 "died in the network (1 MSL each way), so no new incarnation can take an old segment for its own, and "
                 "it is still there to ACK a retransmitted FIN if its last ACK was lost.",
              "为什么是 2 x MSL：先关闭的一方要占住这个四元组，直到该连接的所有报文都在网络中消亡（每个方向 1 个 MSL），"
              "这样新的化身不会把旧报文当成自己的；而且如果最后的 ACK 丢了，它仍在那里确认重传的 FIN。"));
}

// ---- simultaneous-close -------------------------------------------------------------------------

void simultaneous_close_topic(lang l, std::uint64_t seed, sink& out, simultaneous_close_facts& f) {
  echo_config c;
  c.seed = seed;
  c.simultaneous_close = true;
  c.tcp.msl = 1s;
  out.part({std::string(tr(l, "Both sides call close() at the same instant (RFC 9293 Figure 13)",
                           "双方在同一时刻调用 close()（RFC 9293 图 13）")),
            setup_line(l, c.latency, seed, tr(l, "MSL 1 s", "MSL 1 s")), tcp_state::closed, tcp_state::listen, false});
  echo_scenario sc(c);
  std::optional<instant> client_fin_sent;
  std::optional<instant> server_fin_sent;
  auto push = [](std::vector<tcp_state>& v, tcp_state s) {
    if (v.empty() && s != tcp_state::fin_wait_1) return;  // from the close on
    if (v.empty() || v.back() != s) v.push_back(s);
  };
  int fins = 0;
  int acks_after = 0;
  sc.on_segment([&](const segment_row& r) {
    std::string note;
    push(f.client_states, r.client_state);
    push(f.server_states, r.server_state);
    if (has(r.flags, tcp_flag::fin)) {
      ++fins;
      (r.from_client ? client_fin_sent : server_fin_sent) = r.at;
      note = tr(l, "the FINs cross: each arrives in FIN-WAIT-1, before the ACK of the receiver's own FIN, so it goes "
                   "to CLOSING",
                "两个 FIN 交错而过：各自在 FIN-WAIT-1 中收到对方的 FIN（自己的 FIN 还未被确认），于是进入 CLOSING");
      if (fins == 2) note.clear();
    } else if (fins == 2 && r.len == 0 && acks_after++ < 2) {
      if (acks_after == 1) {
        note = tr(l, "the ACK of its own FIN: CLOSING -> TIME-WAIT (Linux: TIME_WAIT)",
                  "收到对自己 FIN 的确认：CLOSING -> TIME-WAIT（Linux 写作 TIME_WAIT）");
      }
    }
    out.segment(r, note);
  });
  sc.on_state([&](state_row r) {
    r.cause = cause_text(l, r.cause);
    std::string note;
    if (r.client) {
      push(f.client_states, r.to);
    } else {
      push(f.server_states, r.to);
    }
    if (r.to == tcp_state::fin_wait_1 && r.client) {
      note = tr(l, "both send FIN in the same instant", "双方在同一时刻发送 FIN");
    }
    out.state(r, note);
  });
  const echo_outcome res = sc.run();
  f.completed = res.completed;
  // Each FIN arrived (one latency after it left) while its receiver was still in FIN-WAIT-1.
  f.fins_crossed = fins == 2 && client_fin_sent && server_fin_sent && *client_fin_sent == *server_fin_sent;
  out.text(tr(l, "Both sides went FIN-WAIT-1 -> CLOSING -> TIME-WAIT: each has sent a FIN and received one, so each "
                 "must wait 2 x MSL — there is no passive side to skip it.",
              "双方都经历了 FIN-WAIT-1 -> CLOSING -> TIME-WAIT：每一方都发过也收到过 FIN，所以双方都要等待 2 x MSL——"
              "没有可以跳过它的被动方。"));
}

// ---- syn-flood ------------------------------------------------------------------------------------

namespace {

constexpr std::size_t flood_syns = 20;
constexpr std::size_t flood_backlog = 8;

void flood_run(lang l, std::uint64_t seed, sink& out, syn_flood_run& f) {
  world_config wc;
  wc.seed = seed;
  wc.syncookies = f.cookies ? syncookies_mode::on_overflow : syncookies_mode::off;
  wc.syn_backlog = flood_backlog;
  wc.server_tcp.syn_r2 = 1s;  // the server gives up on a half-open connection after 1 s
  world w(wc);
  w.language = l;
  w.listen(80, wc.server_tcp);
  f.flood_syns = flood_syns;
  f.syn_backlog = flood_backlog;
  out.part({f.cookies ? std::string(tr(l, "With SYN cookies (Linux: net.ipv4.tcp_syncookies = 1)",
                                       "开启 SYN cookie（Linux：net.ipv4.tcp_syncookies = 1）"))
                      : std::string(tr(l, "Without SYN cookies (Linux: net.ipv4.tcp_syncookies = 0)",
                                       "不开启 SYN cookie（Linux：net.ipv4.tcp_syncookies = 0）")),
            setup_line(l, wc.latency, seed,
                       tr(l, "SYN queue of 8; the server gives up on a half-open connection after 1 s; only the real "
                             "client's segments are drawn",
                          "半连接队列长度 8；服务器 1 s 后放弃一个半连接；图中只画真实客户端的报文")),
            tcp_state::closed, tcp_state::listen, false});
  // The attacker: SYNs from random, unreachable sources, 50 us apart.
  rng r(seed * 0x9E3779B97F4A7C15ULL + 7);
  for (std::size_t i = 0; i < flood_syns; ++i) {
    ipv4_addr src;
    do {
      src = ipv4_addr{static_cast<std::uint32_t>(r.next_u64())};
    } while ((src.value >> 24) == 0 || (src.value >> 24) >= 224 || (src.value >> 24) == 127 ||
             (src.value >> 24) == 192);
    const auto port = static_cast<std::uint16_t>(1024 + r.next_u64() % 60000);
    w.client_side().inject(instant{} + i * 50us, make_syn(src, port, server_addr, 80, seq_num{static_cast<std::uint32_t>(r.next_u64())}));
  }
  std::optional<instant> connect_at;
  std::string netstat;  // the same entries as Linux's `netstat -nap | grep SYN_RECV` prints them
  int syns = 0;
  w.on_segment = [&](const segment_row& row) {
    std::string note;
    if (row.from_client && has(row.flags, tcp_flag::syn)) {
      ++syns;
      if (syns == 1) {
        f.half_open = w.server.half_open(*w.listener);
        f.first_syn_dropped = w.server.counters().drop_host[static_cast<std::size_t>(host_drop::syn_queue_full)] > 0;
        f.no_state_before_ack = w.server.lookup(w.server_tuple()) == nullptr;
        tools::stat_request half_open;
        half_open.states = {tcp_state::syn_received};
        std::string t = format_stat(w.server, w.now(), half_open, "server");
        t.resize(std::min(t.size(), t.find("\nTcp:")));
        f.half_open_table = t;
        for (const socket_info& i : w.server.snapshot()) {
          if (i.state != tcp_state::syn_received) continue;
          netstat += fmt::format("tcp        0      0 {:<23} {:<23} SYN_RECV    -\n",
                                 fmt::format("{}:{}", i.tuple.local_addr.to_string(), i.tuple.local_port),
                                 fmt::format("{}:{}", i.tuple.remote_addr.to_string(), i.tuple.remote_port));
        }
        note = fmt::format("{}", f.cookies ? tr(l, "the SYN queue is full, so the server answers with a SYN cookie and "
                                                   "keeps no state (still LISTEN for this client)",
                                                "半连接队列已满，服务器用 SYN cookie 回应，不保存任何状态（对这个客户端仍是 LISTEN）")
                                           : tr(l, "the SYN queue is full and cookies are off: the SYN is dropped, "
                                                   "no answer",
                                                "半连接队列已满且未开启 cookie：SYN 被丢弃，没有任何回应"));
      } else {
        note = tr(l, "the client's retransmission timer fired: SYN again; the flood's half-open entries have timed out",
                  "客户端重传计时器到期：再次发送 SYN；洪泛留下的半连接已经超时");
      }
    } else if (!row.from_client && has(row.flags, tcp_flag::syn) && f.cookies) {
      note = tr(l, "SYN-ACK whose sequence number is the cookie", "SYN-ACK 的序号就是 cookie");
    } else if (row.from_client && row.server_state == tcp_state::established && f.cookies && row.len == 0 &&
               !has(row.flags, tcp_flag::fin)) {
      note = tr(l, "the ACK brings the cookie back (ack-1): the server rebuilds the connection from it, ESTABLISHED",
                "ACK 带回了 cookie（ack-1）：服务器据此重建连接，进入 ESTABLISHED");
    }
    out.segment(row, note);
  };
  w.on_state = [&](const state_row& row) { out.state(row, {}); };
  std::optional<instant> established_at;
  auto app = [&] {
    w.take_events();
    // The client connects once the flood has reached the server.
    if (!connect_at && w.foreign_segments >= flood_syns) {
      connect_at = w.now();
      out.text(fmt::format("{:>9.3f} ms  {}", w.now().seconds() * 1e3,
                           l == lang::en ? fmt::format("{} spoofed SYNs from random sources have reached the server "
                                                       "(not drawn); the real client calls connect()",
                                                       flood_syns)
                                         : fmt::format("{} 个伪造源地址的 SYN 已到达服务器（未画出）；真实客户端调用 connect()",
                                                       flood_syns)));
      (void)w.connect(40000, 80);
    }
    if (connect_at && !established_at && w.client.state(*w.client_conn) == tcp_state::established) {
      established_at = w.now();
    }
  };
  w.run(app, [&] { return established_at && w.server_state() == tcp_state::established; }, 60s);
  f.connected = established_at.has_value();
  if (f.connected) f.connect_ms = static_cast<double>((*established_at - *connect_at).count()) / 1000.0;
  f.client_syn_retransmissions = w.client.counters().retrans_segs;
  f.cookies_sent = w.server.counters().syncookies_sent;
  out.text(fmt::format("{}", tr(l, "`synack stat --state SYN-RECEIVED` on the server when the real SYN arrived "
                                   "(netstat -nap on Linux shows these as SYN_RECV):",
                                "真实 SYN 到达时服务器上 `synack stat --state SYN-RECEIVED` 的输出（Linux 的 netstat -nap "
                                "显示为 SYN_RECV）：")));
  std::size_t start = 0;
  while (start < f.half_open_table.size()) {
    const std::size_t nl = f.half_open_table.find('\n', start);
    out.text("  " + f.half_open_table.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  if (!f.cookies) {
    out.text(tr(l, "The same entries as `netstat -nap | grep SYN_RECV` shows them on Linux:",
                "同样的条目在 Linux 上用 `netstat -nap | grep SYN_RECV` 查看是这样的："));
    std::size_t at = 0;
    while (at < netstat.size()) {
      const std::size_t nl = netstat.find('\n', at);
      out.text("  " + netstat.substr(at, nl - at));
      at = nl + 1;
    }
  }
  out.text(l == lang::en ? fmt::format("connected after {:.3f} ms, {} SYN retransmission(s), {} cookies sent",
                                       f.connect_ms, f.client_syn_retransmissions, f.cookies_sent)
                         : fmt::format("{:.3f} ms 后连上，SYN 重传 {} 次，发出 {} 个 cookie", f.connect_ms,
                                       f.client_syn_retransmissions, f.cookies_sent));
}

}  // namespace

void syn_flood_topic(lang l, std::uint64_t seed, sink& out, syn_flood_facts& f) {
  f.without_cookies.cookies = false;
  f.with_cookies.cookies = true;
  flood_run(l, seed, out, f.without_cookies);
  flood_run(l, seed, out, f.with_cookies);
  out.text(tr(l, "A SYN flood needs no connection: spoofed SYNs fill the queue of half-open (SYN-RECEIVED) entries and "
                 "a real client's SYN is dropped until one times out. A SYN cookie encodes the entry in the SYN-ACK's "
                 "sequence number, so the server keeps nothing until the ACK proves the client is real.",
              "SYN 洪泛不需要建立任何连接：伪造的 SYN 占满半连接（SYN-RECEIVED）队列，真实客户端的 SYN 被丢弃，直到有条目超时。"
              "SYN cookie 把这条记录编码进 SYN-ACK 的序号里，服务器在 ACK 证明客户端真实存在之前什么都不保存。"));
}

}  // namespace synack::why
