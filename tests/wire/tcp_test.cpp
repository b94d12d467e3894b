// WORKAROUND: g++ 12 at -O2 -DNDEBUG reports "potential null pointer dereference" inside
// result<T, E>'s get_if-based accessors (it cannot rule out a valueless variant). The fix
// belongs in util/result.hpp (tell the optimiser get_if is non-null); until then this file
// silences the warning. It must precede every include that reaches result.hpp.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include "synack/wire/tcp.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "synack/util/rng.hpp"
#include "synack/wire/checksum.hpp"
#include "wire/test_bytes.hpp"

namespace synack {
namespace {

const ipv4_addr host_a = ipv4_addr::from_octets(10, 0, 0, 1);
const ipv4_addr host_b = ipv4_addr::from_octets(10, 0, 0, 2);

// The TCP part of a SYN the Linux kernel sent from 10.0.0.1 to 10.0.0.2:80 over a TUN device
// (captured for these tests). Options in Linux's order: MSS 1460, SACK-permitted + TS, NOP WS 10.
constexpr std::string_view linux_syn =
    "ae 8a 00 50 c8 d0 a5 70 00 00 00 00 a0 02 fa f0 63 81 00 00"
    " 02 04 05 b4 04 02 08 0a 7f bb 38 b1 00 00 00 00 01 03 03 0a";

// A 20-byte header (ports 1234 -> 80, ACK set) followed by `area` as options and `payload`,
// with a valid checksum for host_a -> host_b. `area` must be a multiple of 4 bytes.
std::vector<std::byte> segment_with(std::string_view area_hex, std::string_view payload = "") {
  const auto area = test::from_hex(area_hex);
  auto seg = test::from_hex("04 d2 00 50 ff ff ff f0 00 00 00 07 00 10 20 00 00 00 00 00");
  seg[12] = static_cast<std::byte>(((20 + area.size()) / 4) << 4);
  seg.insert(seg.end(), area.begin(), area.end());
  for (char c : payload) seg.push_back(static_cast<std::byte>(c));
  tcp_repr::fill_checksum(seg, host_a, host_b);
  return seg;
}

// tcp_repr::parse fills a caller's repr; tests read more easily with a value or an error.
result<tcp_repr, wire_error> parse_repr(const tcp_view& v, ipv4_addr src, ipv4_addr dst) {
  tcp_repr r;
  if (const auto e = tcp_repr::parse(v, src, dst, r)) return unexpected{*e};
  return r;
}

// The repr's spans point into `seg`, so a temporary segment is refused.
result<tcp_repr, wire_error> parse_segment(std::vector<std::byte>&&) = delete;
result<tcp_repr, wire_error> parse_segment(const std::vector<std::byte>& seg) {
  const auto v = tcp_view::parse(seg);
  if (!v) return unexpected{v.error()};
  return parse_repr(*v, host_a, host_b);
}

wire_error option_error(std::string_view area_hex) {
  const auto seg = segment_with(area_hex);
  const auto r = parse_segment(seg);
  EXPECT_FALSE(r.has_value()) << area_hex;
  return r ? wire_error::count_ : r.error();
}

std::vector<std::byte> emit(const tcp_repr& r) {
  std::vector<std::byte> out(r.buffer_len());
  r.emit(out, host_a, host_b);
  return out;
}

std::vector<std::byte> emit_options(const tcp_options& o) {
  std::vector<std::byte> out(o.buffer_len());
  o.emit(out);
  return out;
}

// --- A real segment --------------------------------------------------------------------

TEST(Tcp, ParsesARealLinuxSyn) {
  const auto seg = test::from_hex(linux_syn);
  const auto v = tcp_view::parse(seg);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->src_port(), 44682);
  EXPECT_EQ(v->dst_port(), 80);
  EXPECT_EQ(v->seq(), seq_num{0xc8d0a570});
  EXPECT_EQ(v->header_len(), 40u);
  EXPECT_EQ(v->flags(), tcp_flag::syn);
  EXPECT_EQ(v->window(), 64240);
  EXPECT_EQ(v->checksum(), 0x6381);
  EXPECT_EQ(v->options().size(), 20u);
  EXPECT_EQ(v->payload().size(), 0u);
  EXPECT_TRUE(v->verify_checksum(host_a, host_b));

  const auto r = parse_repr(*v, host_a, host_b);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->syn());
  EXPECT_FALSE(r->ack.has_value());
  EXPECT_EQ(r->flags, tcp_flag::syn);
  EXPECT_EQ(r->options.mss, 1460);
  EXPECT_TRUE(r->options.sack_permitted);
  ASSERT_TRUE(r->options.timestamps.has_value());
  EXPECT_EQ(r->options.timestamps->tsval, 0x7fbb38b1u);
  EXPECT_EQ(r->options.timestamps->tsecr, 0u);
  EXPECT_EQ(r->options.window_scale, 10);
  EXPECT_EQ(r->options.sack_count, 0);
  EXPECT_EQ(r->options.unknown_count, 0);
  EXPECT_EQ(r->seg_len(), 1u);
}

TEST(Tcp, EmitReproducesTheRealSynByteForByte) {
  const auto seg = test::from_hex(linux_syn);
  const auto r = parse_repr(*tcp_view::parse(seg), host_a, host_b);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(test::to_hex(emit(*r)), test::to_hex(seg));
}

TEST(Tcp, WrongPseudoHeaderFailsTheChecksum) {
  const auto seg = test::from_hex(linux_syn);
  const auto v = tcp_view::parse(seg);
  ASSERT_TRUE(v.has_value());
  // The pseudo-header sum is commutative in src and dst, so only a changed address is caught.
  EXPECT_TRUE(v->verify_checksum(host_b, host_a));
  EXPECT_FALSE(v->verify_checksum(ipv4_addr::from_octets(10, 0, 0, 3), host_b));
  const auto r = parse_repr(*v, host_a, ipv4_addr::from_octets(10, 0, 0, 3));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), wire_error::bad_checksum);
}

// The host parses every segment into one reused repr: nothing of the previous segment may
// survive (options, ACK, payload), even in the arrays beyond the counts that are never read.
TEST(Tcp, ParsingIntoAReusedReprForgetsThePreviousSegment) {
  const auto full = test::from_hex(linux_syn);
  const auto sack = segment_with("01 01 05 0a 00 00 00 01 00 00 00 02 2a 04 00 00", "data");
  const auto plain = segment_with("", "");
  tcp_repr reused;
  for (const auto* seg : {&full, &sack, &plain, &full, &plain}) {
    const auto v = tcp_view::parse(*seg);
    ASSERT_TRUE(v.has_value());
    ASSERT_FALSE(tcp_repr::parse(*v, host_a, host_b, reused).has_value());
    tcp_repr fresh;
    ASSERT_FALSE(tcp_repr::parse(*v, host_a, host_b, fresh).has_value());
    EXPECT_EQ(reused, fresh) << test::to_hex(*seg);
    EXPECT_EQ(reused.options.sack_count, fresh.options.sack_count);
    EXPECT_EQ(reused.options.unknown_count, fresh.options.unknown_count);
    EXPECT_EQ(reused.ack.has_value(), fresh.ack.has_value());
  }
}

// emit_tcp_datagram: an IPv4 header (protocol TCP, payload length set) then the segment; both
// parse back, checksums valid.
TEST(Tcp, DatagramParsesBackAsIpv4AndTcp) {
  tcp_repr seg;
  seg.src_port = 40000;
  seg.dst_port = 80;
  seg.seq = seq_num{0xFFFFFFF0u};
  seg.flags = tcp_flag::syn;
  seg.window = 29200;
  seg.options.mss = 1460;
  const std::string text = "xyz";
  seg.payload = std::as_bytes(std::span{text.data(), text.size()});
  std::vector<std::byte> out(ipv4_repr::buffer_len() + seg.buffer_len() + 5);
  const std::size_t n = emit_tcp_datagram(out, ipv4_repr{.src = host_a, .dst = host_b, .protocol = ip_proto::icmp, .ttl = 9}, seg);
  ASSERT_EQ(n, 20 + seg.buffer_len());
  const auto ip = ipv4_view::parse(bytes{out}.first(n));
  ASSERT_TRUE(ip.has_value());
  EXPECT_EQ(ip->protocol(), ip_proto::tcp);  // set by the call, whatever the template said
  EXPECT_EQ(ip->src(), host_a);
  EXPECT_EQ(ip->dst(), host_b);
  EXPECT_EQ(ipv4_repr::parse(*ip).ttl, 9);
  EXPECT_EQ(ip->payload().size(), seg.buffer_len());
  const auto t = tcp_view::parse(ip->payload());
  ASSERT_TRUE(t.has_value());
  tcp_repr back;
  ASSERT_FALSE(tcp_repr::parse(*t, host_a, host_b, back).has_value());  // checksum verified
  EXPECT_EQ(back, seg);
}

// tcp_repr::clear() is what the connection uses to reuse one header for every segment it
// builds: after it, a repr that carried everything equals a default-constructed one and emits
// the same bytes.
TEST(Tcp, ClearedReprEqualsAFreshOneAndEmitsTheSameBytes) {
  const auto full = test::from_hex(linux_syn);
  const auto sack = segment_with("01 01 05 0a 00 00 00 01 00 00 00 02 2a 04 00 00 fd 04 ab cd", "data");
  for (const auto* seg : {&full, &sack}) {
    const auto v = tcp_view::parse(*seg);
    ASSERT_TRUE(v.has_value());
    tcp_repr reused;
    ASSERT_FALSE(tcp_repr::parse(*v, host_a, host_b, reused).has_value());
    reused.options.mss = 1460;
    reused.options.window_scale = 7;
    reused.options.sack_permitted = true;
    ASSERT_NE(reused, tcp_repr{});
    reused.clear();
    EXPECT_EQ(reused, tcp_repr{}) << test::to_hex(*seg);
    EXPECT_FALSE(reused.ack.has_value());
    EXPECT_EQ(reused.options.sack_count, 0);
    EXPECT_EQ(reused.options.unknown_count, 0);
    EXPECT_TRUE(reused.payload.empty());
    // Filled again as a connection fills it: the bytes equal a fresh repr's.
    tcp_repr fresh;
    for (tcp_repr* r : {&reused, &fresh}) {
      r->src_port = 1234;
      r->dst_port = 80;
      r->seq = seq_num{0xFFFFFFF0u};
      r->ack = seq_num{7};
      r->window = 512;
      r->options.timestamps = tcp_timestamps{1, 2};
    }
    std::vector<std::byte> a(60), b(60);
    reused.emit(a, host_a, host_b);
    fresh.emit(b, host_a, host_b);
    EXPECT_EQ(test::to_hex(a), test::to_hex(b));
    EXPECT_EQ(reused.buffer_len(), fresh.buffer_len());
  }
}

TEST(Tcp, EverySingleBitFlipFailsTheChecksum) {
  const auto good = segment_with("02 04 05 b4", "hello, world");
  for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
    auto seg = good;
    seg[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    const auto v = tcp_view::parse(seg);
    if (!v) continue;  // a data-offset flip can fail the view first
    EXPECT_FALSE(v->verify_checksum(host_a, host_b)) << "bit " << bit;
    const auto r = parse_repr(*v, host_a, host_b);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), wire_error::bad_checksum) << "bit " << bit;
  }
}

// --- The view ----------------------------------------------------------------------------

TEST(Tcp, ViewTruncated) {
  auto seg = test::from_hex(linux_syn);
  seg.resize(19);
  const auto v = tcp_view::parse(seg);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error(), wire_error::truncated);
}

TEST(Tcp, ViewBadDataOffset) {
  auto seg = test::from_hex(linux_syn);
  for (unsigned off = 0; off < 5; ++off) {
    seg[12] = static_cast<std::byte>(off << 4);
    const auto v = tcp_view::parse(seg);
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error(), wire_error::bad_data_offset) << off;
  }
  seg[12] = std::byte{0xB0};  // 44 bytes of header in a 40-byte segment
  EXPECT_EQ(tcp_view::parse(seg).error(), wire_error::bad_data_offset);
  seg[12] = std::byte{0xA0};  // exactly the segment
  EXPECT_TRUE(tcp_view::parse(seg).has_value());
  seg[12] = std::byte{0x50};  // options become payload
  const auto v = tcp_view::parse(seg);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->payload().size(), 20u);
  EXPECT_EQ(v->options().size(), 0u);
}

TEST(Tcp, ReservedBitsAreIgnored) {
  auto seg = segment_with("");
  seg[12] |= std::byte{0x0F};  // the four reserved bits after the data offset
  tcp_repr::fill_checksum(seg, host_a, host_b);
  const auto r = parse_segment(seg);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->flags, 0);
  // and are sent as zero
  EXPECT_EQ(emit(*r)[12], std::byte{0x50});
}

// --- Flags and the ACK field ---------------------------------------------------------------

TEST(Tcp, AckPresentIffTheAckBitIsSet) {
  auto seg = segment_with("");
  auto r = parse_segment(seg);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->ack, seq_num{7});
  EXPECT_EQ(r->flags, 0);
  EXPECT_EQ(r->wire_flags(), tcp_flag::ack);

  seg[13] = std::byte{tcp_flag::rst};  // ACK clear, ack field still 7 on the wire
  tcp_repr::fill_checksum(seg, host_a, host_b);
  r = parse_segment(seg);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->ack.has_value());
  EXPECT_TRUE(r->rst());
  // Emitted with the field zeroed (RFC 9293 §3.1 says nothing else is meaningful).
  const auto out = emit(*r);
  EXPECT_EQ(load_be32(&out[8]), 0u);
}

TEST(Tcp, AllFlagBitsSurvive) {
  auto seg = segment_with("");
  seg[13] = std::byte{0xFF};
  tcp_repr::fill_checksum(seg, host_a, host_b);
  const auto r = parse_segment(seg);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->flags, 0xFF & ~tcp_flag::ack);
  EXPECT_TRUE(r->ack.has_value());
  EXPECT_TRUE(r->syn() && r->fin() && r->rst() && r->psh() && r->urg());
  EXPECT_EQ(r->wire_flags(), 0xFF);
  EXPECT_EQ(emit(*r)[13], std::byte{0xFF});
}

// --- Option parsing: accepted forms ---------------------------------------------------------

TEST(TcpOptions, UnalignedOptionsParse) {
  // RFC 9293 MUST-64: an option may begin on any octet boundary. No NOPs at all here.
  const auto seg = segment_with(
      "03 03 07 02 04 05 b4 08 0a 00 00 00 01 ff ff ff ff 04 02 05 0a 00 00 00 10 00 00 00 20 00 00 00");
  const auto r = parse_segment(seg);
  ASSERT_TRUE(r.has_value()) << to_string(r.error());
  EXPECT_EQ(r->options.window_scale, 7);
  EXPECT_EQ(r->options.mss, 1460);
  ASSERT_TRUE(r->options.timestamps.has_value());
  EXPECT_EQ(r->options.timestamps->tsval, 1u);
  EXPECT_EQ(r->options.timestamps->tsecr, 0xFFFFFFFFu);
  EXPECT_TRUE(r->options.sack_permitted);
  ASSERT_EQ(r->options.sack_count, 1);
  EXPECT_EQ(r->options.sack[0], (sack_block{seq_num{0x10}, seq_num{0x20}}));
}

TEST(TcpOptions, OptionsOnNonSynSegmentsAreParsed) {
  // RFC 9293 MUST-5: every option is understood in any segment; which ones matter is the TCP
  // layer's business, not the parser's.
  const auto seg = segment_with("02 04 02 18 01 03 03 02", "data");
  const auto r = parse_segment(seg);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->syn());
  EXPECT_TRUE(r->ack.has_value());
  EXPECT_EQ(r->options.mss, 536);
  EXPECT_EQ(r->options.window_scale, 2);
  EXPECT_EQ(test::to_hex(r->payload), "64 61 74 61");
}

TEST(TcpOptions, EolEndsProcessing) {
  // After EOL the rest is padding, even if it would not parse.
  const auto seg = segment_with("02 04 05 b4 00 02 00 ff");
  const auto r = parse_segment(seg);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->options.mss, 1460);
  EXPECT_EQ(r->options.unknown_count, 0);
  const auto eol_first_seg = segment_with("00 02 04 05");
  const auto eol_first = parse_segment(eol_first_seg);
  ASSERT_TRUE(eol_first.has_value());
  EXPECT_FALSE(eol_first->options.mss.has_value());
}

TEST(TcpOptions, NopsOnly) {
  const auto seg = segment_with("01 01 01 01 01 01 01 01");
  const auto r = parse_segment(seg);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->options, tcp_options{});
}

TEST(TcpOptions, DuplicatesLastOneWins) {
  const auto seg = segment_with("02 04 05 b4 02 04 02 18 03 03 01 03 03 09 01 01");
  const auto r = parse_segment(seg);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->options.mss, 536);
  EXPECT_EQ(r->options.window_scale, 9);
}

TEST(TcpOptions, WindowScaleIsKeptAsReceived) {
  // RFC 7323 §2.3 clamps a shift above 14; that is the TCP layer's job, with a log.
  const auto seg = segment_with("01 03 03 ff");
  const auto r = parse_segment(seg);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->options.window_scale, 255);
}

TEST(TcpOptions, SackBlocksAcrossTheWrap) {
  const auto seg = segment_with(
      "01 01 05 1a ff ff ff f0 00 00 00 10 00 00 00 20 00 00 00 30 ff ff 00 00 ff ff 01 00");
  const auto r = parse_segment(seg);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->options.sack_count, 3);
  EXPECT_EQ(r->options.sack[0], (sack_block{seq_num{0xFFFFFFF0}, seq_num{0x10}}));
  EXPECT_EQ(r->options.sack[1], (sack_block{seq_num{0x20}, seq_num{0x30}}));
  EXPECT_EQ(r->options.sack[2], (sack_block{seq_num{0xFFFF0000}, seq_num{0xFFFF0100}}));
  EXPECT_EQ(distance(r->options.sack[0].left, r->options.sack[0].right), seq_len{0x20});
}

TEST(TcpOptions, FourSackBlocksFill) {
  // 2 + 4 * 8 = 34 bytes: with NOP NOP, 36, the most that fits beside nothing else.
  tcp_options o;
  for (std::uint32_t k = 0; k < 4; ++k) o.add_sack({seq_num{k * 100}, seq_num{k * 100 + 50}});
  o.add_sack({seq_num{1}, seq_num{2}});  // a fifth is refused
  EXPECT_EQ(o.sack_count, 4);
  EXPECT_EQ(o.buffer_len(), 36u);
  const auto out = emit_options(o);
  const auto back = tcp_options::parse(out);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, o);
}

// --- Option parsing: each malformed-option reason --------------------------------------------

TEST(TcpOptions, LengthZeroOrOne) {
  EXPECT_EQ(option_error("02 00 05 b4"), wire_error::option_len_zero);
  EXPECT_EQ(option_error("03 01 01 01"), wire_error::option_len_zero);
  EXPECT_EQ(option_error("01 01 fd 00"), wire_error::option_len_zero);  // unknown kind too
  EXPECT_EQ(option_error("01 01 fd 01"), wire_error::option_len_zero);
}

TEST(TcpOptions, PastTheHeader) {
  EXPECT_EQ(option_error("01 01 01 02"), wire_error::option_past_header);  // no length octet
  EXPECT_EQ(option_error("01 01 01 fe"), wire_error::option_past_header);  // unknown, no length
  EXPECT_EQ(option_error("01 01 08 0a"), wire_error::option_past_header);  // TS needs 10
  EXPECT_EQ(option_error("fd 05 00 00"), wire_error::option_past_header);  // unknown runs over
  EXPECT_EQ(option_error("01 02 ff 00"), wire_error::option_past_header);
  // The area ends at the data offset, not at the segment: payload does not extend it.
  const auto seg = segment_with("01 01 02 04", "\x05\xb4xx");
  const auto r = parse_segment(seg);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), wire_error::option_past_header);
}

TEST(TcpOptions, KnownOptionsWithTheWrongLength) {
  EXPECT_EQ(option_error("02 03 05 01"), wire_error::bad_option_len);               // MSS 3
  EXPECT_EQ(option_error("02 05 05 b4 00 01 01 01"), wire_error::bad_option_len);   // MSS 5
  EXPECT_EQ(option_error("03 04 07 00"), wire_error::bad_option_len);               // WS 4
  EXPECT_EQ(option_error("03 02 01 01"), wire_error::bad_option_len);               // WS 2
  EXPECT_EQ(option_error("04 03 00 01"), wire_error::bad_option_len);               // SACK-perm 3
  EXPECT_EQ(option_error("08 08 00 00 00 01 00 00"), wire_error::bad_option_len);   // TS 8
  EXPECT_EQ(option_error("08 0c 00 00 00 01 00 00 00 02 00 00"), wire_error::bad_option_len);
  EXPECT_EQ(option_error("01 01 05 02"), wire_error::bad_option_len);               // SACK, no block
  EXPECT_EQ(option_error("05 09 00 00 00 01 00 00 00 02 01 01"), wire_error::bad_option_len);
  EXPECT_EQ(option_error("05 0b 00 00 00 01 00 00 00 02 00 00"), wire_error::bad_option_len);
}

TEST(TcpOptions, FiveSackBlocksAreTooMany) {
  // 42 bytes cannot fit a real header, but the option parser judges the area it is given.
  std::vector<std::byte> area(44, std::byte{0});
  area[0] = std::byte{5};
  area[1] = std::byte{42};
  const auto r = tcp_options::parse(area);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), wire_error::bad_option_len);
}

TEST(TcpOptions, ErrorsAfterGoodOptionsStillReject) {
  EXPECT_EQ(option_error("02 04 05 b4 01 03 03 07 04 03 00 00"), wire_error::bad_option_len);
  EXPECT_EQ(option_error("02 04 05 b4 01 03 03 07 01 01 08 09"), wire_error::option_past_header);
}

// --- Unknown options ------------------------------------------------------------------------

TEST(TcpOptions, UnknownOptionsAreKeptAndReEmitted) {
  // MPTCP-like kind 30 with 2 bytes, an empty kind 29, and kind 254 (RFC 6994 experimental)
  // with 4 bytes (TFO's ExID with a 2-octet cookie, which RFC 7413 does not allow); MSS in
  // between, unaligned.
  const auto seg = segment_with("1e 04 ab cd 1d 02 02 04 05 b4 fe 06 f9 89 01 02");
  const auto r = parse_segment(seg);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->options.mss, 1460);
  ASSERT_EQ(r->options.unknown_count, 3);
  EXPECT_EQ(r->options.unknown[0].kind, 30);
  EXPECT_EQ(test::to_hex(r->options.unknown[0].data), "ab cd");
  EXPECT_EQ(r->options.unknown[1].kind, 29);
  EXPECT_TRUE(r->options.unknown[1].data.empty());
  EXPECT_EQ(r->options.unknown[2].kind, 254);
  EXPECT_EQ(test::to_hex(r->options.unknown[2].data), "f9 89 01 02");

  // Re-emitted after the known ones, raw, then EOL padding.
  const auto opts = emit_options(r->options);
  EXPECT_EQ(test::to_hex(opts), "02 04 05 b4 1e 04 ab cd 1d 02 fe 06 f9 89 01 02");
  const auto out = emit(*r);
  const auto again = parse_segment(out);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *r);
}

TEST(TcpOptions, UnknownBeyondTheLimitAreSkipped) {
  // Ten empty unknown options (kind 200 + k): the first max_unknown are kept, the rest skipped,
  // and options after them are still parsed.
  std::string area;
  for (int k = 0; k < 10; ++k) {
    // Appended piece by piece: `"c" + std::to_string(k)` inserts at the front of a temporary,
    // which g++ 12 at -O3 flags with a false -Wrestrict in its inlined memcpy.
    area += 'c';
    area += std::to_string(k);
    area += " 02 ";
  }
  area += "02 04 05 b4";
  const auto seg = segment_with(area);
  const auto r = parse_segment(seg);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->options.unknown_count, tcp_options::max_unknown);
  EXPECT_EQ(r->options.unknown[7].kind, 0xc7);
  EXPECT_EQ(r->options.mss, 1460);
}

TEST(TcpOptions, UnknownOptionEqualityIsByContent) {
  const auto x = test::from_hex("01 02 03");
  const auto y = test::from_hex("01 02 03");
  const auto z = test::from_hex("01 02 04");
  EXPECT_EQ((unknown_option{9, x}), (unknown_option{9, y}));
  EXPECT_NE((unknown_option{9, x}), (unknown_option{9, z}));
  EXPECT_NE((unknown_option{9, x}), (unknown_option{10, y}));
  // Entries past the counts do not take part.
  tcp_options a;
  tcp_options b;
  b.unknown[3] = unknown_option{9, x};
  b.sack[2] = sack_block{seq_num{1}, seq_num{2}};
  EXPECT_EQ(a, b);
}

// --- Option emission layout --------------------------------------------------------------------

TEST(TcpOptions, EmitLayouts) {
  tcp_options o;
  EXPECT_EQ(o.buffer_len(), 0u);
  o.mss = 1460;
  EXPECT_EQ(test::to_hex(emit_options(o)), "02 04 05 b4");
  o.sack_permitted = true;
  EXPECT_EQ(test::to_hex(emit_options(o)), "02 04 05 b4 01 01 04 02");
  o.timestamps = tcp_timestamps{0x01020304, 0x05060708};
  EXPECT_EQ(test::to_hex(emit_options(o)), "02 04 05 b4 04 02 08 0a 01 02 03 04 05 06 07 08");
  o.sack_permitted = false;
  EXPECT_EQ(test::to_hex(emit_options(o)), "02 04 05 b4 01 01 08 0a 01 02 03 04 05 06 07 08");
  o.window_scale = 7;
  EXPECT_EQ(test::to_hex(emit_options(o)), "02 04 05 b4 01 01 08 0a 01 02 03 04 05 06 07 08 01 03 03 07");
  o = tcp_options{};
  o.add_sack({seq_num{0xFFFFFFFE}, seq_num{4}});
  EXPECT_EQ(test::to_hex(emit_options(o)), "01 01 05 0a ff ff ff fe 00 00 00 04");
  o = tcp_options{};
  const auto data = test::from_hex("aa");
  o.unknown[0] = unknown_option{0xfd, data};
  o.unknown_count = 1;
  EXPECT_EQ(o.buffer_len(), 4u);
  EXPECT_EQ(test::to_hex(emit_options(o)), "fd 03 aa 00");  // EOL pads to 4
}

TEST(TcpOptions, LargestLinuxSynFitsIn20Bytes) {
  tcp_options o;
  o.mss = 1460;
  o.sack_permitted = true;
  o.timestamps = tcp_timestamps{1, 0};
  o.window_scale = 7;
  EXPECT_EQ(o.buffer_len(), 20u);
}

// --- emit_header + fill_checksum -------------------------------------------------------------

TEST(Tcp, EmitHeaderThenFillChecksumEqualsEmit) {
  const auto payload = test::from_hex("de ad be ef 01");
  tcp_repr r;
  r.src_port = 5555;
  r.dst_port = 443;
  r.seq = seq_num{0xFFFFFFFF};
  r.ack = seq_num{0x7};
  r.flags = tcp_flag::psh;
  r.window = 512;
  r.options.timestamps = tcp_timestamps{10, 20};
  r.payload = payload;
  const auto full = emit(r);

  std::vector<std::byte> split(r.buffer_len(), std::byte{0xEE});
  r.emit_header(split);
  EXPECT_EQ(load_be16(&split[16]), 0);
  std::copy(payload.begin(), payload.end(), split.begin() + static_cast<std::ptrdiff_t>(r.header_len()));
  tcp_repr::fill_checksum(split, host_a, host_b);
  EXPECT_EQ(test::to_hex(split), test::to_hex(full));
}

// --- Round-trip property ------------------------------------------------------------------------

tcp_options random_options(rng& g, std::vector<std::vector<std::byte>>& storage) {
  tcp_options o;
  if (g.chance(0.5)) o.mss = static_cast<std::uint16_t>(g.below(0x10000));
  if (g.chance(0.5)) o.window_scale = static_cast<std::uint8_t>(g.below(256));
  o.sack_permitted = g.chance(0.5);
  if (g.chance(0.5)) o.timestamps = tcp_timestamps{g.next_u32(), g.next_u32()};
  const std::size_t blocks = g.below(5);
  for (std::size_t k = 0; k < blocks; ++k) {
    const seq_num left{0xFFFFFFFFu - static_cast<std::uint32_t>(g.below(5000))};
    o.add_sack({left, left + seq_len{static_cast<std::uint32_t>(g.below(3000))}});
  }
  const std::size_t unknowns = g.chance(0.7) ? 0 : g.below(4);
  for (std::size_t k = 0; k < unknowns; ++k) {
    std::uint8_t kind = 0;
    do {  // any kind the parser does not know
      kind = static_cast<std::uint8_t>(g.below(256));
    } while (kind <= 5 || kind == tcp_option_kind::timestamps || kind == tcp_option_kind::fast_open ||
             kind == tcp_option_kind::experimental);
    auto& data = storage.emplace_back(g.below(7));
    for (auto& b : data) b = static_cast<std::byte>(g.below(256));
    o.unknown[o.unknown_count++] = unknown_option{kind, data};
  }
  if (g.chance(0.3)) {  // RFC 7413: a request or a 4..16-octet even cookie, either form
    tcp_fast_open f;
    f.len = g.chance(0.3) ? 0 : static_cast<std::uint8_t>(4 + 2 * g.below(7));
    for (std::size_t k = 0; k < f.len; ++k) f.cookie[k] = static_cast<std::byte>(g.below(256));
    f.experimental = g.chance(0.3);
    o.fast_open = f;
  }
  return o;
}

TEST(Tcp, RoundTripProperty) {
  rng g{0x7C9};
  int tested = 0;
  for (int i = 0; i < 5000; ++i) {
    std::vector<std::vector<std::byte>> storage;
    storage.reserve(8);  // spans into it must stay valid
    std::vector<std::byte> payload(g.chance(0.3) ? 0 : g.below(200));
    for (auto& b : payload) b = static_cast<std::byte>(g.below(256));

    tcp_repr r;
    r.src_port = static_cast<std::uint16_t>(g.below(0x10000));
    r.dst_port = static_cast<std::uint16_t>(g.below(0x10000));
    r.seq = seq_num{0xFFFFFFFFu - static_cast<std::uint32_t>(g.below(2000))};  // near the wrap
    if (g.chance(0.8)) r.ack = seq_num{static_cast<std::uint32_t>(g.below(2000)) - 1000u};
    r.flags = static_cast<std::uint8_t>(g.below(256) & 0xEFu);
    r.window = static_cast<std::uint16_t>(g.below(0x10000));
    r.urgent_ptr = static_cast<std::uint16_t>(g.below(0x10000));
    r.options = random_options(g, storage);
    r.payload = payload;
    if (r.options.buffer_len() > 40) continue;
    ++tested;

    // emit writes exactly buffer_len() bytes: nothing past it is touched.
    std::vector<std::byte> buf(r.buffer_len() + 16, std::byte{0xA5});
    r.emit(buf, host_a, host_b);
    for (std::size_t k = r.buffer_len(); k < buf.size(); ++k) ASSERT_EQ(buf[k], std::byte{0xA5});
    const bytes seg = bytes{buf}.first(r.buffer_len());
    ASSERT_EQ(r.options.buffer_len() % 4, 0u);

    const auto v = tcp_view::parse(seg);
    ASSERT_TRUE(v.has_value());
    ASSERT_EQ(v->header_len(), r.header_len());
    ASSERT_EQ(v->flags(), r.wire_flags());
    const auto back = parse_repr(*v, host_a, host_b);
    ASSERT_TRUE(back.has_value()) << to_string(back.error()) << " at " << i;
    ASSERT_EQ(*back, r) << "at " << i << ": " << test::to_hex(seg);
  }
  EXPECT_GT(tested, 3000);
}

}  // namespace
}  // namespace synack
