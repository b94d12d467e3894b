#pragma once
// Initial sequence numbers, RFC 9293 §3.4.1 / RFC 6528:
//   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
// M is a 4-microsecond clock (the instant passed in) and F is SipHash-2-4 keyed by a secret
// that the host's owner supplies (the runtime from the OS CSPRNG, the simulator from its seed).
#include "synack/tcp/four_tuple.hpp"
#include "synack/util/siphash.hpp"
#include "synack/util/time.hpp"
#include "synack/wire/seq.hpp"

namespace synack {

// What a connection opening takes from its isn_source: its ISS and its timestamp offset.
struct initial_numbers {
  seq_num isn;
  std::uint32_t ts_offset = 0;
};

class isn_source {
 public:
  virtual ~isn_source() = default;
  [[nodiscard]] virtual seq_num isn(const four_tuple& t, instant now) const = 0;
  // RFC 7323 §5.4 / RFC 9293 §3.4.1's spirit: a per-connection offset added to the timestamp
  // clock, so TSval reveals neither the host's uptime nor other connections' clocks.
  [[nodiscard]] virtual std::uint32_t ts_offset(const four_tuple& t) const = 0;
  // Both, for an opening connection: isn(t, now) and ts_offset(t). A source that derives them
  // from one evaluation of its function (rfc6528_isn) does it once.
  [[nodiscard]] virtual initial_numbers initial(const four_tuple& t, instant now) const {
    return initial_numbers{isn(t, now), ts_offset(t)};
  }
};

class rfc6528_isn final : public isn_source {
 public:
  explicit rfc6528_isn(siphash_key key) : key_(key) {}
  [[nodiscard]] seq_num isn(const four_tuple& t, instant now) const override;
  [[nodiscard]] std::uint32_t ts_offset(const four_tuple& t) const override;
  [[nodiscard]] initial_numbers initial(const four_tuple& t, instant now) const override;

 private:
  [[nodiscard]] std::uint64_t prf(const four_tuple& t) const;
  siphash_key key_;
};

// Always the same ISN: for exact-segment tests (put it just below 2^32 to exercise the wrap).
class fixed_isn final : public isn_source {
 public:
  explicit fixed_isn(seq_num v, std::uint32_t ts_offset = 0) : v_(v), ts_(ts_offset) {}
  [[nodiscard]] seq_num isn(const four_tuple&, instant) const override { return v_; }
  [[nodiscard]] std::uint32_t ts_offset(const four_tuple&) const override { return ts_; }

 private:
  seq_num v_;
  std::uint32_t ts_;
};

}  // namespace synack
