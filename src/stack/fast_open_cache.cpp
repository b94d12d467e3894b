// RFC 7413: the client's cookie cache and the server's cookie (stack/fast_open_cache.hpp).
#include "synack/stack/fast_open_cache.hpp"

#include <algorithm>

#include "synack/util/siphash.hpp"
#include "synack/wire/bytes.hpp"

namespace synack {

fast_open_cache::entry* fast_open_cache::lookup(const ip_addr& server) {
  const auto it = std::ranges::find_if(entries_, [&](const entry& e) { return e.server == server; });
  return it == entries_.end() ? nullptr : &*it;
}

const fast_open_cache::entry* fast_open_cache::find(const ip_addr& server) {
  entry* e = lookup(server);
  if (e != nullptr) e->used = ++clock_;
  return e;
}

void fast_open_cache::learn(const ip_addr& server, const fast_open_news& n) {
  if (cap_ == 0) return;
  entry* e = lookup(server);
  if (e == nullptr) {
    if (!n.cookie && n.mss == 0) return;  // nothing worth a place
    if (entries_.size() < cap_) {
      e = &entries_.emplace_back();
    } else {
      e = &*std::ranges::min_element(entries_, {}, &entry::used);
      ++evictions_;
      *e = entry{};
    }
    e->server = server;
  }
  if (n.cookie) e->cookie = n.cookie;
  if (n.mss != 0) e->mss = n.mss;
  e->used = ++clock_;
}

void fast_open_cache::forget(const ip_addr& server) {
  std::erase_if(entries_, [&](const entry& e) { return e.server == server; });
}

tcp_fast_open fast_open_cookie(const std::array<std::uint64_t, 2>& key, const ip_addr& client, const ip_addr& server,
                               bool experimental) {
  std::array<std::byte, 32> msg{};
  std::size_t n = 0;
  for (const ip_addr* a : {&client, &server}) {
    if (a->is_v4()) {
      store_be32(&msg[n], a->v4().value);
      n += 4;
    } else {
      for (const std::uint8_t o : a->v6().octets) msg[n++] = static_cast<std::byte>(o);
    }
  }
  const std::uint64_t h = siphash24(siphash_key{key[0], key[1]}, std::span{msg}.first(n));
  std::array<std::byte, 8> cookie{};
  for (std::size_t k = 0; k < cookie.size(); ++k) cookie[k] = static_cast<std::byte>(h >> (8 * k));
  return tcp_fast_open::of(cookie, experimental);
}

}  // namespace synack
