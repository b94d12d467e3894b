// The topics of `synack demo --why`. Each one runs the stack with the fault that makes a rule of
// TCP necessary, annotates the segments that matter from what the run did, and records the
// facts it claims (why_scenario.hpp) for the tests.
#include <fmt/format.h>

#include <array>

#include "why_scenario.hpp"
#include "why_world.hpp"

namespace synack::why {
namespace {

using namespace std::chrono_literals;

constexpr std::array<topic_info, 5> topic_list{{
    {"three-way", "why opening takes three segments: an old duplicate SYN is reset",
     "为什么建立连接要三次握手：旧的重复 SYN 被复位"},
    {"four-way", "why closing takes four segments: a half-close, the response still flowing",
     "为什么关闭连接要四次挥手：半关闭之后响应仍在发送"},
    {"time-wait", "why the side that closes first waits 2 x MSL: stale bytes and a lost final ACK",
     "为什么先关闭的一方要等待 2 x MSL：迟到的旧数据与丢失的最后一个 ACK"},
    {"simultaneous-close", "both sides close at once: FIN-WAIT-1 -> CLOSING -> TIME-WAIT",
     "双方同时关闭：FIN-WAIT-1 -> CLOSING -> TIME-WAIT"},
    {"syn-flood", "a SYN flood fills the SYN queue; SYN cookies let a real client in at once",
     "SYN 洪泛占满半连接队列；SYN cookie 让真实客户端立即连上"},
}};

// ---- three-way -------------------------------------------------------------------------------

void three_way(lang l, std::uint64_t seed, sink& out, three_way_facts& f) {
  world_config wc;
  wc.seed = seed;
  world w(wc);
  w.language = l;
  w.listen(7, wc.server_tcp);
  out.part({std::string(tr(l, "An old duplicate SYN arrives before the real one (RFC 9293 §3.5, Figure 8)",
                           "旧的重复 SYN 先于真正的 SYN 到达（RFC 9293 §3.5，图 8）")),
            setup_line(l, wc.latency, seed,
                       tr(l, "absolute sequence numbers; J = the client's ISN, K = the server's",
                          "绝对序号；J = 客户端的 ISN，K = 服务器的 ISN")),
            tcp_state::closed, tcp_state::listen, true});
  // The client's real SYN is held up in the network for 30 ms; a SYN of an earlier incarnation
  // of the same 4-tuple (one second of the RFC 6528 4 us clock earlier) overtakes it.
  bool held = false;
  w.client_side().filter = [&](const seg_view& s) {
    if (held || !has(s.flags, tcp_flag::syn)) return verdict{};
    held = true;
    f.j = s.seq.raw;
    f.old_isn = (s.seq - seq_len{250'000}).raw;
    w.client_side().inject(s.at, make_syn(client_addr, 40000, server_addr, 7, seq_num{f.old_isn}));
    return verdict{fate::delay, 30ms};
  };
  int syns_seen = 0;
  bool reset_seen = false;
  w.on_segment = [&](const segment_row& r) {
    std::string note;
    if (r.from_client && has(r.flags, tcp_flag::syn)) {
      ++syns_seen;
      if (r.seq.raw == f.old_isn) {
        note = fmt::format("{}", tr(l, "an old duplicate SYN (seq=J-250000) of an earlier connection; the server cannot tell it is old",
                                    "早先连接的旧重复 SYN（seq=J-250000）；服务器无法判断它是旧的"));
      } else {
        note = fmt::format("{}", tr(l, "the real SYN, seq=J", "真正的 SYN，seq=J"));
      }
    } else if (!r.from_client && has(r.flags, tcp_flag::syn) && r.ack) {
      if (r.ack->raw == f.old_isn + 1) {
        f.old_syn_answered = true;
        note = tr(l, "ack=J-250000+1: a two-message handshake would stop here, the server ESTABLISHED on a connection "
                     "nobody asked for, with the wrong initial sequence number",
                  "ack=J-250000+1：若只有两次握手，服务器此时已进入 ESTABLISHED——一个没人请求的连接，初始序号也是错的");
      } else {
        f.k = r.seq.raw;
        f.server_acked_j1 = r.ack->raw == f.j + 1;
        note = tr(l, "seq=K, ack=J+1: the server acknowledges the client's ISN + 1",
                  "seq=K，ack=J+1：服务器确认客户端的 ISN + 1");
      }
    } else if (r.from_client && has(r.flags, tcp_flag::rst)) {
      reset_seen = true;
      f.old_syn_reset = r.seq.raw == f.old_isn + 1;
      f.server_back_to_listen = r.server_state == tcp_state::listen;
      note = tr(l, "the client (SYN-SENT, ISN J) expected ack=J+1: it resets the old one (seq=its ack); the server "
                   "drops it and is back in LISTEN",
                "客户端（SYN-SENT，ISN 为 J）期待 ack=J+1：它用 RST（seq=对方的 ack）复位旧连接；服务器丢弃它，回到 LISTEN");
    } else if (r.from_client && reset_seen && r.ack && f.k != 0 && r.ack->raw == f.k + 1 && r.len == 0) {
      f.client_acked_k1 = true;
      note = tr(l, "ack=K+1: the client acknowledges the server's ISN + 1; the third segment is what tells the server "
                   "that this connection, and not the old one, is wanted",
                "ack=K+1：客户端确认服务器的 ISN + 1；正是第三个报文让服务器知道对方要的是这个连接，而不是旧的那个");
    }
    out.segment(r, note);
  };
  w.on_state = [&](const state_row& r) { out.state(r, {}); };
  (void)w.connect(40000, 7);
  w.run({}, [&] { return w.client_state() == tcp_state::established && w.server_state() == tcp_state::established; },
        10s);
  f.established = w.client_state() == tcp_state::established && w.server_state() == tcp_state::established &&
                  f.server_acked_j1 && f.client_acked_k1;
  out.text(fmt::format("J = {}, K = {}", f.j, f.k));
  out.text(tr(l, "Why three: each side must see the other acknowledge its own ISN. The third segment (or, as here, the "
                 "RST) is how the client tells the server whether a SYN it answered belongs to a connection the client "
                 "is really opening.",
              "为什么是三次：每一方都必须看到对方确认了自己的 ISN。第三个报文（或像这里的 RST）就是客户端告诉服务器：它回应的 "
              "SYN 是否属于客户端真正在建立的连接。"));
}

// ---- four-way --------------------------------------------------------------------------------

void four_way(lang l, std::uint64_t seed, sink& out, four_way_facts& f) {
  world_config wc;
  wc.seed = seed;
  wc.client_tcp.mss = 200;  // the server's segments carry 200 bytes: a response of several
  wc.client_tcp.msl = 1s;
  wc.server_tcp.msl = 1s;
  world w(wc);
  w.language = l;
  w.listen(7, wc.server_tcp);
  out.part({std::string(tr(l, "Half-close: the client's FIN, then the server's response, then its FIN",
                           "半关闭：客户端先发 FIN，服务器继续发送响应，最后才发 FIN")),
            setup_line(l, wc.latency, seed,
                       tr(l, "the client announces MSS 200; the server answers once it has read the whole request (EOF); MSL 1 s",
                          "客户端通告 MSS 200；服务器读完整个请求（EOF）后才回应；MSL 1 s")),
            tcp_state::closed, tcp_state::listen, false});
  const std::string request = "GET /report\n";
  std::string response;
  for (int i = 1; response.size() < 600; ++i) response += fmt::format("line {:02} of the report .............\n", i);
  response.resize(600);
  std::size_t req_sent = 0;
  std::size_t resp_sent = 0;
  std::string got_request;
  std::string got_response;
  bool client_shut = false;
  bool server_closed = false;
  bool client_closed = false;
  bool server_eof = false;
  std::optional<seq_num> client_fin;
  bool fin_acked = false;
  bool final_ack_noted = false;
  w.on_segment = [&](const segment_row& r) {
    std::string note;
    if (r.from_client && has(r.flags, tcp_flag::fin)) {
      client_fin = r.seq + seq_len{r.len};
      note = tr(l, "the client has sent its request: FIN (half-close); it can still receive",
                "客户端的请求已发完：FIN（半关闭）；它仍然可以接收");
    } else if (!r.from_client && client_fin && !fin_acked && r.ack && *r.ack == *client_fin + seq_len{1}) {
      fin_acked = true;
      f.fin_acked_alone = !has(r.flags, tcp_flag::fin) && r.len == 0;
      f.fin_ack_offset = distance(*client_fin, *r.ack).n;
      note = tr(l, "ack=FIN+1: the FIN takes one sequence number; the server ACKs it at once but still has a response "
                   "to send, so no FIN yet (CLOSE-WAIT)",
                "ack=FIN+1：FIN 占用一个序号；服务器立即确认，但响应还没发，所以暂不发 FIN（CLOSE-WAIT）");
    } else if (!r.from_client && r.len > 0 && r.server_state == tcp_state::close_wait) {
      if (f.data_segments_in_close_wait++ == 0) {
        note = tr(l, "the response flows after the client's FIN, in CLOSE-WAIT", "响应在客户端 FIN 之后、于 CLOSE-WAIT 中继续发送");
      }
    } else if (!r.from_client && has(r.flags, tcp_flag::fin)) {
      f.server_fin_separate = r.len == 0 && f.data_segments_in_close_wait > 0;
      note = tr(l, "only when its application closes does the server send its FIN (LAST-ACK)",
                "直到应用调用 close()，服务器才发送自己的 FIN（LAST-ACK）");
    } else if (r.from_client && r.client_state == tcp_state::time_wait && r.len == 0 && !has(r.flags, tcp_flag::fin) &&
               f.server_fin_separate && !final_ack_noted) {
      final_ack_noted = true;
      note = tr(l, "the fourth segment: the client ACKs the server's FIN and waits 2 x MSL in TIME-WAIT",
                "第四个报文：客户端确认服务器的 FIN，并在 TIME-WAIT 中等待 2 x MSL");
    }
    out.segment(r, note);
  };
  w.on_state = [&](const state_row& r) { out.state(r, {}); };
  (void)w.connect(40000, 7);
  auto app = [&] {
    const instant now = w.now();
    w.take_events();
    if (w.client.state(*w.client_conn) == tcp_state::established && !client_shut) {
      send_some(w.client, *w.client_conn, request, req_sent);
      const auto st = w.client.status(*w.client_conn);
      if (req_sent == request.size() && st && st->send_queued == 0) {  // the request is acknowledged
        (void)w.client.shutdown(now, *w.client_conn);
        client_shut = true;
        w.report_states("client calls shutdown()", {});
      }
    }
    if (w.server_conn && !server_closed) {
      drain(w.server, *w.server_conn, got_request);
      const auto st = w.server.status(*w.server_conn);
      if (st && st->eof && st->readable == 0) server_eof = true;
      if (server_eof) send_some(w.server, *w.server_conn, response, resp_sent);
      // It closes once the whole response is acknowledged (as a server lingering on close).
      const auto after = w.server.status(*w.server_conn);
      if (server_eof && resp_sent == response.size() && after && after->send_queued == 0) {
        (void)w.server.close(now, *w.server_conn);
        server_closed = true;
        w.report_states({}, "server calls close()");
      }
    }
    if (!client_closed) {
      drain(w.client, *w.client_conn, got_response);
      const auto st = w.client.status(*w.client_conn);
      if (st && st->eof && st->readable == 0) {
        (void)w.client.close(now, *w.client_conn);
        client_closed = true;
      }
    }
  };
  const bool done = w.run(app,
                          [&] {
                            return client_closed && server_closed && w.client.connection_count() == 0 &&
                                   w.client.time_wait_count() == 0 && w.server.connection_count() == 0;
                          },
                          600s);
  f.response_received = got_response;
  f.closed_cleanly = done && got_response == response && got_request == request;
  out.text(tr(l, fmt::format("request {} bytes, response {} bytes in {} segments after the client's FIN", request.size(),
                             got_response.size(), f.data_segments_in_close_wait),
              fmt::format("请求 {} 字节；客户端 FIN 之后，响应 {} 字节分 {} 个报文送达", request.size(), got_response.size(),
                          f.data_segments_in_close_wait)));
  out.text(tr(l, "Why four: on open the server has nothing to wait for, so its SYN rides on the ACK; on close the ACK "
                 "of a FIN is owed at once, but the FIN belongs to the application, which may still have data to send.",
              "为什么是四次：建立连接时服务器无需等待，SYN 可以和 ACK 合在一个报文里；关闭时对 FIN 的 ACK 必须立即发出，"
              "而自己的 FIN 要等应用决定——它可能还有数据要发。"));
}

}  // namespace

std::span<const topic_info> topics() { return topic_list; }

bool run(std::string_view topic, lang l, std::uint64_t seed, sink& out, facts& f) {
  if (topic == "three-way") {
    three_way(l, seed, out, f.three_way);
  } else if (topic == "four-way") {
    four_way(l, seed, out, f.four_way);
  } else if (topic == "time-wait") {
    time_wait_topic(l, seed, out, f.time_wait);
  } else if (topic == "simultaneous-close") {
    simultaneous_close_topic(l, seed, out, f.simultaneous_close);
  } else if (topic == "syn-flood") {
    syn_flood_topic(l, seed, out, f.syn_flood);
  } else {
    return false;
  }
  return true;
}

}  // namespace synack::why
