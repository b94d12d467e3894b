// getsockopt() for a preloaded plug-in. packetdrill runs a `%{ ... }%` block of a script with
// the state the socket reports through TCP_INFO, TCP_CC_INFO and SO_MEMINFO, and reads them
// with the real getsockopt() on the socket's descriptor, not through the plug-in's interface:
// with --so_filename alone that descriptor is a dup of /dev/null and the block fails
// ("can't find getsockopt to get TCP info"). scripts/packetdrill.sh therefore also preloads
// the plug-in (LD_PRELOAD); packetdrill's dlopen() then finds the object already loaded, and
// this getsockopt() comes before libc's: a descriptor one of the plug-in's instances made is
// answered by that instance exactly as the interface's getsockopt would answer it, and every
// other descriptor goes on to libc's. Loaded only by dlopen(), nothing calls this definition.
#include <dlfcn.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "plugin.hpp"

namespace {

using getsockopt_fn = int (*)(int, int, int, void*, socklen_t*);

getsockopt_fn next_getsockopt() {
  static const getsockopt_fn next = reinterpret_cast<getsockopt_fn>(::dlsym(RTLD_NEXT, "getsockopt"));
  return next;
}

// Preloaded, the plug-in would be in LD_PRELOAD of every command a script runs (sh, tc,
// python3 for the %{ }% blocks): once loaded it takes LD_PRELOAD out of the environment, so they
// run as they would without it.
__attribute__((constructor)) void leave_the_scripts_commands_alone() {
  const char* p = std::getenv("LD_PRELOAD");
  if (p != nullptr && std::strstr(p, "synack_packetdrill") != nullptr) ::unsetenv("LD_PRELOAD");
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int getsockopt(int fd, int level, int name, void* __restrict value,
                                                                 socklen_t* __restrict len) noexcept {
  if (auto r = synack::packetdrill::plugin::answer_getsockopt(fd, level, name, value, len)) return *r;
  const getsockopt_fn next = next_getsockopt();
  if (next == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return next(fd, level, name, value, len);
}
