// One libFuzzer entry point, built once per target (fuzz/CMakeLists.txt sets
// SYNACK_FUZZ_TARGET to its name): a broken property prints what broke and aborts, which
// libFuzzer reports as a crash and saves the input.
#include <cstdio>
#include <cstdlib>
#include <span>

#include "driver/targets.hpp"

// A small ASan quarantine: the stack target creates two hosts per input, and with the default
// 256 MB quarantine every run touches fresh pages (3x slower). Use-after-free is still caught
// for anything freed within the last megabyte of frees.
extern "C" const char* __asan_default_options() { return "quarantine_size_mb=1"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto failure = synack::fuzz::run_target(SYNACK_FUZZ_TARGET, std::as_bytes(std::span{data, size}));
  if (failure) {
    std::fprintf(stderr, "%s: %s\n", SYNACK_FUZZ_TARGET, failure->c_str());
    std::abort();
  }
  return 0;
}
