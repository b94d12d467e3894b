#pragma once
// `synack demo --why TOPIC`: the classic questions about TCP's handshake and close (why three
// segments to open, four to close, why TIME-WAIT, what a SYN flood is), each answered by a
// deterministic run of the real stack on the simulator with the fault that makes the rule
// necessary. The topic code drives the hosts, decides the annotations from what the run did,
// and hands rows to a sink (the demo's ladder); the facts it claims are returned as data, so
// tests check the explanation against the stack's behaviour (tests/tools/why_test.cpp).
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "echo_scenario.hpp"

namespace synack::why {

enum class lang : std::uint8_t { en, zh };

struct topic_info {
  std::string_view name;
  std::string_view summary_en;
  std::string_view summary_zh;
};
[[nodiscard]] std::span<const topic_info> topics();

// One part of a topic: a ladder of its own, with the conditions it runs under.
struct part_info {
  std::string title;
  std::string setup;  // one line: addresses, latency, the knobs that differ
  tcp_state client_start = tcp_state::closed;
  tcp_state server_start = tcp_state::listen;
  bool absolute_seq = false;
};

// What renders a topic (the demo's ladder; tests use a recording sink).
class sink {
 public:
  virtual ~sink() = default;
  virtual void part(const part_info& p) = 0;
  // `note` is empty for a segment or state change with nothing to say.
  virtual void segment(const segment_row& r, std::string_view note) = 0;
  virtual void state(const state_row& r, std::string_view note) = 0;
  virtual void text(std::string_view line) = 0;  // a line below the ladder
};

// The facts each topic claims, measured from its run.
struct three_way_facts {
  std::uint32_t old_isn = 0;           // the old duplicate SYN's sequence number
  std::uint32_t j = 0;                 // the client's ISN
  std::uint32_t k = 0;                 // the server's ISN (of the real connection)
  bool old_syn_answered = false;       // the server sent SYN-ACK ack=old+1
  bool old_syn_reset = false;          // the client sent RST seq=old+1
  bool server_back_to_listen = false;  // the RST took the server back to LISTEN
  bool server_acked_j1 = false;        // SYN-ACK ack = J+1
  bool client_acked_k1 = false;        // ACK ack = K+1
  bool established = false;            // both sides ESTABLISHED on J and K
};

struct four_way_facts {
  bool fin_acked_alone = false;           // the server's ACK of the client's FIN carries no FIN
  std::uint32_t fin_ack_offset = 0;       // ACK of the client's FIN minus its sequence number (1)
  int data_segments_in_close_wait = 0;    // server data segments sent while CLOSE-WAIT
  bool server_fin_separate = false;       // the server's FIN came after its data, in LAST-ACK
  bool closed_cleanly = false;            // response complete, both CLOSED
  std::string response_received;
};

struct time_wait_run {
  bool time_wait = true;
  bool reconnect_refused = false;      // connect() on the same 4-tuple failed at once (address in use)
  bool stale_absorbed = false;         // the stale segment met the TIME-WAIT record
  std::size_t stale_bytes_accepted = 0;  // stale bytes the new incarnation took as its own
  std::string sent;                    // what the new incarnation sent
  std::string echoed;                  // the first sent.size() bytes it got back
  // Part 2: the final ACK lost.
  bool fin_retransmitted = false;
  bool fin_answered_by_ack = false;
  bool fin_answered_by_rst = false;
  close_reason server_reason = close_reason::none;
};
struct time_wait_facts {
  time_wait_run with;
  time_wait_run without;
};

struct simultaneous_close_facts {
  std::vector<tcp_state> client_states;  // from ESTABLISHED on
  std::vector<tcp_state> server_states;
  bool fins_crossed = false;  // each FIN was sent before the other arrived
  bool completed = false;
};

struct syn_flood_run {
  bool cookies = false;
  std::size_t flood_syns = 0;
  std::size_t half_open = 0;          // SYN-RECEIVED entries when the legitimate SYN arrived
  std::size_t syn_backlog = 0;
  std::string half_open_table;        // as `synack stat --state SYN-RECEIVED` prints it
  std::uint64_t client_syn_retransmissions = 0;
  bool first_syn_dropped = false;
  bool connected = false;
  double connect_ms = 0;              // virtual time from connect() to ESTABLISHED
  std::uint64_t cookies_sent = 0;
  bool no_state_before_ack = false;   // with cookies: no TCB for the client until its ACK
};
struct syn_flood_facts {
  syn_flood_run without_cookies;
  syn_flood_run with_cookies;
};

struct facts {
  three_way_facts three_way;
  four_way_facts four_way;
  time_wait_facts time_wait;
  simultaneous_close_facts simultaneous_close;
  syn_flood_facts syn_flood;
};

// Runs a topic (a name from topics()) into `out`; false if the topic is unknown. The seed keys
// the hosts' ISNs and ports and the flood's spoofed sources; the facts hold for every seed.
bool run(std::string_view topic, lang l, std::uint64_t seed, sink& out, facts& f);

}  // namespace synack::why
