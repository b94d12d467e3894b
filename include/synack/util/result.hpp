#pragma once
// A small result<T, E>: C++20 has no std::expected. Errors are plain enums (DESIGN.md §2,
// "three error channels"); no exceptions anywhere in the sans-IO core.
#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace synack {

template <class E>
struct unexpected {
  E error;
};
template <class E>
unexpected(E) -> unexpected<E>;

template <class T, class E>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  result(unexpected<E> err) : v_(std::in_place_index<1>, err.error) {}  // NOLINT

  [[nodiscard]] bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  [[nodiscard]] T& value() & {
    assert(has_value());
    return *std::get_if<0>(&v_);
  }
  [[nodiscard]] const T& value() const& {
    assert(has_value());
    return *std::get_if<0>(&v_);
  }
  [[nodiscard]] T&& value() && {
    assert(has_value());
    return std::move(*std::get_if<0>(&v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  [[nodiscard]] E error() const {
    assert(!has_value());
    return *std::get_if<1>(&v_);
  }

 private:
  std::variant<T, E> v_;
};

// result<void, E>: success or an error.
template <class E>
class [[nodiscard]] result<void, E> {
 public:
  result() = default;
  result(unexpected<E> err) : err_(err.error), ok_(false) {}  // NOLINT
  [[nodiscard]] bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  [[nodiscard]] E error() const {
    assert(!ok_);
    return err_;
  }

 private:
  E err_{};
  bool ok_ = true;
};

}  // namespace synack
