// Writes the seed corpus: `fuzz_make_corpus DIR` creates DIR/<target>/<seed> for every fuzz
// target (fuzz/driver/seeds.cpp builds the seeds). The checked-in fuzz/corpus/ is its output;
// tests/security fails if they drift apart.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "driver/seeds.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  namespace fs = std::filesystem;
  for (const std::string_view target : synack::fuzz::target_names) {
    const fs::path dir = fs::path(argv[1]) / target;
    fs::create_directories(dir);
    for (const auto& s : synack::fuzz::seeds_for(target)) {
      std::ofstream out(dir / s.name, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(s.data.data()), static_cast<std::streamsize>(s.data.size()));
      if (!out) {
        std::fprintf(stderr, "cannot write %s\n", (dir / s.name).c_str());
        return 1;
      }
    }
  }
  return 0;
}
