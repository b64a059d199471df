#pragma once
// One std::error_category per error enum, from its name and a function that says each value in
// words: what every module's category is made of (sdp, rtp, rtcp, sip.parse, ...), written once.
//
//   std::string_view describe(my_errc e) noexcept { switch (e) { ... } return "..."; }
//   const std::error_category& my_category() noexcept {
//     static const junction::enum_category<my_errc> category{"module.part", describe};
//     return category;
//   }
#include <string>
#include <string_view>
#include <system_error>

namespace junction {

template <class E>
class enum_category final : public std::error_category {
 public:
  using describe_fn = std::string_view (*)(E) noexcept;
  constexpr enum_category(const char* name, describe_fn describe) noexcept : name_(name), describe_(describe) {}
  const char* name() const noexcept override { return name_; }
  std::string message(int ev) const override { return std::string(describe_(static_cast<E>(ev))); }

 private:
  const char* name_;
  describe_fn describe_;
};

}  // namespace junction
