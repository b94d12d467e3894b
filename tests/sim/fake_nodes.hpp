#pragma once
// Small fake nodes for the simulator's own tests. They speak a toy protocol over hand-built
// IPv4 headers (protocol 253, "for experimentation", RFC 3692), independent of the TCP stack.
//
// Payload layout: [0..1] internet checksum over the payload (with this field zero),
// [2..5] sequence number, then filler bytes. The IPv4 header checksum plus this one catch any
// single flipped bit, as a real receiver's checksums would.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "synack/io/sim/world.hpp"
#include "synack/wire/bytes.hpp"

namespace synack::sim::test {

constexpr std::size_t ip_header_len = 20;
constexpr std::size_t toy_header_len = 6;
constexpr std::uint8_t toy_protocol = 253;

constexpr ipv4_addr addr(std::uint8_t d) { return ipv4_addr::from_octets(10, 0, 0, d); }

inline std::uint16_t internet_checksum(bytes data) {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    sum += load_be16(data.data() + i);
  }
  if (i < data.size()) {
    sum += static_cast<std::uint32_t>(load_u8(data.data() + i)) << 8;
  }
  while ((sum >> 16) != 0) {
    sum = (sum & 0xFFFFU) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(~sum & 0xFFFFU);
}

// An IPv4 packet of `total_len` bytes (at least header + toy header) from src to dst.
inline std::vector<std::byte> make_packet(ipv4_addr src, ipv4_addr dst, std::uint32_t seq,
                                          std::size_t total_len = 100) {
  total_len = std::max(total_len, ip_header_len + toy_header_len);
  std::vector<std::byte> p(total_len);
  std::byte* h = p.data();
  store_u8(h + 0, 0x45);  // version 4, IHL 5
  store_u8(h + 1, 0);
  store_be16(h + 2, static_cast<std::uint16_t>(total_len));
  store_be16(h + 4, static_cast<std::uint16_t>(seq));  // identification
  store_be16(h + 6, 0x4000);                          // DF
  store_u8(h + 8, 64);                                 // TTL
  store_u8(h + 9, toy_protocol);
  store_be32(h + 12, src.value);
  store_be32(h + 16, dst.value);
  store_be16(h + 10, internet_checksum(bytes{p}.first(ip_header_len)));

  std::byte* payload = h + ip_header_len;
  store_be32(payload + 2, seq);
  for (std::size_t i = ip_header_len + toy_header_len; i < total_len; ++i) {
    p[i] = static_cast<std::byte>(i * 7 + seq);
  }
  store_be16(payload, internet_checksum(bytes{p}.subspan(ip_header_len)));
  return p;
}

// Both checksums verify (a checksum over data including its own field sums to zero).
inline bool packet_valid(bytes p) {
  if (p.size() < ip_header_len + toy_header_len) {
    return false;
  }
  return internet_checksum(p.first(ip_header_len)) == 0 && internet_checksum(p.subspan(ip_header_len)) == 0;
}
inline std::uint32_t packet_seq(bytes p) { return load_be32(p.data() + ip_header_len + 2); }
inline ipv4_addr packet_src(bytes p) { return ipv4_addr{load_be32(p.data() + 12)}; }
inline ipv4_addr packet_dst(bytes p) { return ipv4_addr{load_be32(p.data() + 16)}; }

struct received {
  instant at;
  std::uint32_t seq;
  ipv4_addr src;
  bool valid;
  std::vector<std::byte> data;
};

// Sends scripted packets at scripted times (its deadline is the next send time) and records
// what it receives.
class scripted_node : public node {
 public:
  void send_at(instant t, std::vector<std::byte> packet) {
    const auto pos = std::upper_bound(script_.begin(), script_.end(), t,
                                      [](instant x, const scheduled& s) { return x < s.at; });
    script_.insert(pos, scheduled{t, std::move(packet)});
  }
  // Queues a packet for the next poll, as a host would after a user call.
  void send_now(std::vector<std::byte> packet) { ready_.push_back(std::move(packet)); }

  void on_packet(instant now, bytes packet) override {
    const bool ok = packet_valid(packet);
    rx.push_back(received{now, ok ? packet_seq(packet) : 0, ok ? packet_src(packet) : ipv4_addr{}, ok,
                          std::vector<std::byte>(packet.begin(), packet.end())});
  }
  void on_timeout(instant now) override {
    timeouts.push_back(now);
    while (!script_.empty() && script_.front().at <= now) {
      ready_.push_back(std::move(script_.front().packet));
      script_.pop_front();
    }
  }
  std::optional<std::size_t> poll_transmit(instant /*now*/, mutable_bytes out) override {
    if (ready_.empty()) {
      return std::nullopt;
    }
    const std::vector<std::byte> p = std::move(ready_.front());
    ready_.pop_front();
    std::copy(p.begin(), p.end(), out.begin());
    return p.size();
  }
  [[nodiscard]] std::optional<instant> next_deadline() const override {
    if (script_.empty()) {
      return std::nullopt;
    }
    return script_.front().at;
  }

  std::vector<received> rx;
  std::vector<instant> timeouts;

 private:
  struct scheduled {
    instant at;
    std::vector<std::byte> packet;
  };
  std::deque<scheduled> script_;
  std::deque<std::vector<std::byte>> ready_;
};

// Answers every valid packet with the same payload, source and destination swapped.
class echo_node : public node {
 public:
  void on_packet(instant now, bytes packet) override {
    arrivals.push_back(now);
    if (!packet_valid(packet)) {
      ++invalid;
      return;
    }
    std::vector<std::byte> reply(packet.begin(), packet.end());
    store_be32(reply.data() + 12, packet_dst(packet).value);
    store_be32(reply.data() + 16, packet_src(packet).value);  // header checksum is unchanged
    pending_.push_back(std::move(reply));
  }
  void on_timeout(instant /*now*/) override {}
  std::optional<std::size_t> poll_transmit(instant /*now*/, mutable_bytes out) override {
    if (pending_.empty()) {
      return std::nullopt;
    }
    const std::vector<std::byte> p = std::move(pending_.front());
    pending_.pop_front();
    std::copy(p.begin(), p.end(), out.begin());
    return p.size();
  }
  [[nodiscard]] std::optional<instant> next_deadline() const override { return std::nullopt; }

  std::vector<instant> arrivals;
  std::uint64_t invalid = 0;

 private:
  std::deque<std::vector<std::byte>> pending_;
};

}  // namespace synack::sim::test
