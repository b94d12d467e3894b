#pragma once
// Where a test helper was called from, for failure messages. std::source_location needs
// __builtin_source_location, which clang 14 lacks; __builtin_FILE/__builtin_LINE work on
// both g++ 12 and clang 14 as default arguments.
namespace synack::test {

struct source_loc {
  const char* file = "";
  unsigned line_no = 0;
  static constexpr source_loc current(const char* f = __builtin_FILE(), unsigned l = __builtin_LINE()) {
    return source_loc{f, l};
  }
  [[nodiscard]] constexpr const char* file_name() const { return file; }
  [[nodiscard]] constexpr unsigned line() const { return line_no; }
};

}  // namespace synack::test
