// io_uring batching for tun_link; see tun_uring.hpp. Without liburing at build time, open()
// always fails and tun_link uses read()/write().
#include "tun_uring.hpp"

#ifdef SYNACK_HAVE_URING
#include <liburing.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>
#endif

namespace synack::io::detail {

#ifndef SYNACK_HAVE_URING

result<std::unique_ptr<tun_uring>, std::string> tun_uring::open(int /*tun_fd*/, std::size_t /*packet_len*/) {
  return unexpected{std::string{"built without liburing"}};
}

#else

namespace {

// IORING_OP_READ_MULTISHOT (Linux 6.7); Debian 12's liburing 2.3 headers predate it. The value
// is part of the kernel ABI; the probe below checks the running kernel knows it.
constexpr std::uint8_t op_read_multishot = 49;
// Buffers of MTU-sized packets; a quarter as many of 64 KiB super-packets (about 8 MiB each
// way). The receive count is a power of two (buffer ring).
constexpr unsigned rx_buffers_small = 512;
constexpr unsigned tx_slots_small = 256;
constexpr unsigned rx_buffers_large = 128;
constexpr unsigned tx_slots_large = 128;
constexpr std::size_t large_packet = 16384;
constexpr unsigned rx_cq_entries = 1024;
constexpr std::uint16_t rx_group = 1;
constexpr std::uint64_t rx_tag = ~std::uint64_t{0};

class uring_impl final : public tun_uring {
 public:
  uring_impl(int fd, std::size_t packet_len)
      : fd_(fd),
        len_(packet_len),
        rx_buffers_(packet_len > large_packet ? rx_buffers_large : rx_buffers_small),
        tx_slots_(packet_len > large_packet ? tx_slots_large : tx_slots_small) {}
  ~uring_impl() override {
    // The multishot read holds a reference to the TUN file until it completes. The ring's own
    // teardown is asynchronous (a kernel worker), so without this the device would outlive the
    // descriptor for a while and a new TUNSETIFF on its name would fail with EBUSY.
    if (rx_ok_ && armed_) cancel_read();
    if (rx_ok_) io_uring_queue_exit(&rx_);
    if (tx_ok_) io_uring_queue_exit(&tx_);
    if (br_ != nullptr) ::munmap(br_, br_bytes());
  }
  uring_impl(const uring_impl&) = delete;
  uring_impl& operator=(const uring_impl&) = delete;

  // Empty on success, else why io_uring cannot be used (liburing returns -errno).
  std::string init() {
    // DEFER_TASKRUN: without it the kernel reads each arriving packet in task work that it
    // signals to this thread (TIF_NOTIFY_SIGNAL), which makes any blocking call with a timeout
    // (the control socket's SO_RCVTIMEO read) fail with EINTR under a SYN flood. With it the
    // reads happen inside receive(), bounded by the buffers. Readiness comes from the TUN
    // descriptor itself (tun_link::fd()), not from an eventfd registered with the ring: whether
    // the kernel signals such an eventfd when it defers work differs between kernel builds, and
    // on some a packet that arrived while the loop slept waited for an unrelated timer.
    constexpr unsigned flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    io_uring_params p{};
    p.flags = IORING_SETUP_CQSIZE | flags;
    p.cq_entries = rx_cq_entries;
    if (const int r = io_uring_queue_init_params(64, &rx_, &p); r < 0) return why("io_uring_setup", r);
    rx_ok_ = true;
    io_uring_probe* probe = io_uring_get_probe_ring(&rx_);
    const bool multishot = probe != nullptr && io_uring_opcode_supported(probe, op_read_multishot) != 0;
    if (probe != nullptr) io_uring_free_probe(probe);
    if (!multishot) return "no multishot read in this kernel (Linux 6.7+)";
    io_uring_params tp{};
    tp.flags = flags;
    if (const int r = io_uring_queue_init_params(tx_slots_, &tx_, &tp); r < 0) return why("io_uring_setup", r);
    tx_ok_ = true;
    void* mem = ::mmap(nullptr, br_bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return why("mmap", -errno);
    br_ = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uintptr_t>(br_);  // NOLINT: the kernel wants an address
    reg.ring_entries = rx_buffers_;
    reg.bgid = rx_group;
    if (const int r = io_uring_register_buf_ring(&rx_, &reg, 0); r < 0) return why("io_uring_register_buf_ring", r);
    io_uring_buf_ring_init(br_);
    // Uninitialised: a buffer is touched (and resident) only once the kernel fills it, not at
    // start (with offload 16 MiB of 64 KiB buffers for a host that may stay idle).
    rx_mem_.reset(new std::byte[rx_buffers_ * len_]);  // NOLINT: uninitialised on purpose
    for (unsigned i = 0; i < rx_buffers_; ++i) {
      io_uring_buf_ring_add(br_, rx_buf(i), static_cast<unsigned>(len_), static_cast<unsigned short>(i),
                            io_uring_buf_ring_mask(rx_buffers_), static_cast<int>(i));
    }
    io_uring_buf_ring_advance(br_, static_cast<int>(rx_buffers_));
    tx_mem_.reset(new std::byte[tx_slots_ * len_]);  // NOLINT: as rx_mem_
    for (unsigned i = 0; i < tx_slots_; ++i) free_.push_back(tx_slots_ - 1 - i);
    if (!arm()) return "cannot submit the multishot read";
    // A kernel that refuses the request answers at once; a working one waits for a packet.
    (void)io_uring_get_events(&rx_);
    io_uring_cqe* cqe = nullptr;
    if (io_uring_peek_cqe(&rx_, &cqe) == 0 && cqe->res < 0 && (cqe->flags & IORING_CQE_F_MORE) == 0) {
      return why("multishot read", cqe->res);
    }
    return {};
  }

  [[nodiscard]] bool rx_pending() const override {
    // Completions the ring already holds: the TUN descriptor no longer signals them.
    return io_uring_cq_ready(&rx_) > 0;
  }

  std::size_t receive(std::size_t max, const raw_sink& sink, link_stats& st) override {
    std::size_t got = drain(max, sink, st);
    if (got < max) {
      (void)io_uring_get_events(&rx_);  // the kernel does the reads it deferred, posting them
      got += drain(max - got, sink, st);
    }
    if (!armed_) (void)arm();  // out of buffers or CQ space: the buffers are back, go on
    // The descriptor is level-triggered: while packets wait in the TUN queue it stays readable,
    // so if the ring did not take them (its read not armed, or a kernel that defers differently)
    // read them here rather than let epoll report the same readiness for ever.
    if (got == 0) got = read_direct(max, sink, st);
    return got;
  }

  bool send(bytes header, bytes packet, link_stats& st) override {
    if (header.size() + packet.size() > len_) {
      ++st.tx_dropped;
      return false;
    }
    if (free_.empty()) {
      submit(st);
      if (free_.empty()) {
        (void)io_uring_submit_and_wait(&tx_, 1);
        reap(st);
      }
      if (free_.empty()) {
        ++st.tx_dropped;
        return false;
      }
    }
    io_uring_sqe* sqe = io_uring_get_sqe(&tx_);
    if (sqe == nullptr) {
      submit(st);
      sqe = io_uring_get_sqe(&tx_);
      if (sqe == nullptr) {
        ++st.tx_dropped;
        return false;
      }
    }
    const unsigned slot = free_.back();
    free_.pop_back();
    if (!header.empty()) std::memcpy(tx_buf(slot), header.data(), header.size());
    std::memcpy(tx_buf(slot) + header.size(), packet.data(), packet.size());
    io_uring_prep_write(sqe, fd_, tx_buf(slot), static_cast<unsigned>(header.size() + packet.size()), 0);
    io_uring_sqe_set_data64(sqe, slot);
    ++queued_;
    return true;
  }

  void submit(link_stats& st) override {
    if (queued_ > 0) {
      // Submits and runs any deferred completion in the same io_uring_enter.
      (void)io_uring_submit_and_get_events(&tx_);
      queued_ = 0;
    }
    reap(st);
  }

 private:
  [[nodiscard]] std::size_t br_bytes() const { return rx_buffers_ * sizeof(io_uring_buf); }
  std::byte* rx_buf(unsigned i) { return rx_mem_.get() + static_cast<std::size_t>(i) * len_; }
  std::byte* tx_buf(unsigned i) { return tx_mem_.get() + static_cast<std::size_t>(i) * len_; }

  static std::string why(const char* what, int neg_errno) {
    return std::string{what} + ": " + std::strerror(-neg_errno);
  }

  // Completions already posted, up to `max` packets to the sink.
  std::size_t drain(std::size_t max, const raw_sink& sink, link_stats& st) {
    std::size_t got = 0;
    io_uring_cqe* cqe = nullptr;
    while (got < max && io_uring_peek_cqe(&rx_, &cqe) == 0) {
      const int res = cqe->res;
      const std::uint32_t flags = cqe->flags;
      io_uring_cqe_seen(&rx_, cqe);
      if ((flags & IORING_CQE_F_MORE) == 0) armed_ = false;
      if ((flags & IORING_CQE_F_BUFFER) != 0) {
        const auto bid = static_cast<unsigned short>(flags >> IORING_CQE_BUFFER_SHIFT);
        if (res > 0) {
          ++got;
          ++st.rx_packets;
          st.rx_bytes += static_cast<std::uint64_t>(res);
          sink(bytes{rx_buf(bid), static_cast<std::size_t>(res)});
        }
        io_uring_buf_ring_add(br_, rx_buf(bid), static_cast<unsigned>(len_), bid, io_uring_buf_ring_mask(rx_buffers_), 0);
        io_uring_buf_ring_advance(br_, 1);
      } else if (res < 0 && res != -ENOBUFS) {
        ++st.rx_errors;
      }
    }
    return got;
  }

  // Plain non-blocking reads, for packets the ring has not taken (counted as direct_reads).
  std::size_t read_direct(std::size_t max, const raw_sink& sink, link_stats& st) {
    std::size_t got = 0;
    while (got < max) {
      const ssize_t n = ::read(fd_, direct_.data(), direct_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      ++got;
      ++st.rx_packets;
      ++st.rx_direct_reads;
      st.rx_bytes += static_cast<std::uint64_t>(n);
      sink(bytes{direct_.data(), static_cast<std::size_t>(n)});
    }
    return got;
  }

  // Cancels the multishot read and waits (bounded) for its last completion.
  void cancel_read() {
    io_uring_sqe* sqe = io_uring_get_sqe(&rx_);
    if (sqe == nullptr) return;
    io_uring_prep_cancel64(sqe, rx_tag, 0);
    io_uring_sqe_set_data64(sqe, rx_tag - 1);
    if (io_uring_submit(&rx_) != 1) return;
    for (int i = 0; i < 64 && armed_; ++i) {
      io_uring_cqe* cqe = nullptr;
      __kernel_timespec ts{0, 100'000'000};  // 100 ms each, at most
      if (io_uring_wait_cqe_timeout(&rx_, &cqe, &ts) != 0) return;
      const bool last_read = io_uring_cqe_get_data64(cqe) == rx_tag && (cqe->flags & IORING_CQE_F_MORE) == 0;
      io_uring_cqe_seen(&rx_, cqe);
      if (last_read) armed_ = false;
    }
  }

  bool arm() {
    io_uring_sqe* sqe = io_uring_get_sqe(&rx_);
    if (sqe == nullptr) return false;
    io_uring_prep_rw(op_read_multishot, sqe, fd_, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = rx_group;
    io_uring_sqe_set_data64(sqe, rx_tag);
    armed_ = io_uring_submit(&rx_) == 1;
    return armed_;
  }

  void reap(link_stats& st) {
    io_uring_cqe* cqe = nullptr;
    while (io_uring_peek_cqe(&tx_, &cqe) == 0) {
      if (cqe->res >= 0) {
        ++st.tx_packets;
        st.tx_bytes += static_cast<std::uint64_t>(cqe->res);
      } else {
        ++st.tx_dropped;  // EAGAIN (queue full), EINVAL (malformed), EIO (interface down)
      }
      free_.push_back(static_cast<unsigned>(io_uring_cqe_get_data64(cqe)));
      io_uring_cqe_seen(&tx_, cqe);
    }
  }

  int fd_;
  std::size_t len_;
  const unsigned rx_buffers_;  // power of two
  const unsigned tx_slots_;
  io_uring rx_{};
  io_uring tx_{};
  bool rx_ok_ = false;
  bool tx_ok_ = false;
  bool armed_ = false;
  std::vector<std::byte> direct_ = std::vector<std::byte>(len_);
  io_uring_buf_ring* br_ = nullptr;
  std::unique_ptr<std::byte[]> rx_mem_;
  std::unique_ptr<std::byte[]> tx_mem_;
  std::vector<unsigned> free_;
  unsigned queued_ = 0;
};

}  // namespace

result<std::unique_ptr<tun_uring>, std::string> tun_uring::open(int tun_fd, std::size_t packet_len) {
  auto u = std::make_unique<uring_impl>(tun_fd, packet_len);
  if (std::string err = u->init(); !err.empty()) return unexpected{std::move(err)};
  return std::unique_ptr<tun_uring>{std::move(u)};
}

#endif

}  // namespace synack::io::detail
