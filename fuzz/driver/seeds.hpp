#pragma once
// The seed corpus: a handful of valid inputs per fuzz target, built from reprs and programs
// here, so the checked-in files under fuzz/corpus/<target>/ are reproducible
// (`fuzz_make_corpus DIR` writes them; tests/security checks the checked-in copy matches).
#include <string>
#include <string_view>
#include <vector>

#include "synack/wire/bytes.hpp"
#include "targets.hpp"

namespace synack::fuzz {

struct seed {
  std::string name;
  std::vector<std::byte> data;
};

[[nodiscard]] std::vector<seed> seeds_for(std::string_view target);

}  // namespace synack::fuzz
