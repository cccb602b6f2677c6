#include <catch2/catch_test_macros.hpp>

#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include <sepal/error.hpp>
#include <sepal/secret.hpp>

TEST_CASE("result holds a value or an error with std::expected's names", "[error]") {
  sepal::result<int> ok = 7;
  REQUIRE(ok.has_value());
  REQUIRE(static_cast<bool>(ok));
  CHECK(*ok == 7);
  CHECK(ok.value() == 7);
  CHECK(ok.value_or(3) == 7);

  sepal::result<int> bad = sepal::errc::invalid_key;
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error() == sepal::errc::invalid_key);
  CHECK(bad.value_or(3) == 3);
  try {
    (void)bad.value();
    FAIL("value() on an error must throw");
  } catch (const sepal::error& e) {
    CHECK(e.code() == sepal::errc::invalid_key);
    CHECK(std::string(e.what()) == "invalid key");
  }
}

TEST_CASE("result<void> and invalid_signature", "[error]") {
  sepal::result<void> ok;
  CHECK(ok.has_value());
  CHECK_NOTHROW(ok.value());
  sepal::result<void> bad = sepal::errc::io_error;
  CHECK_FALSE(bad);
  CHECK_THROWS_AS(bad.value(), sepal::error);
  try {
    throw sepal::invalid_signature();
  } catch (const sepal::error& e) {
    CHECK(e.code() == sepal::errc::invalid_signature);
  }
}

TEST_CASE("secret_bytes is move-only, empties its source and compares in constant time", "[secret]") {
  const std::uint8_t raw[] = {1, 2, 3};
  auto a = sepal::secret_bytes::copy_of(raw);
  auto b = sepal::secret_bytes::copy_of(raw);
  CHECK(sepal::constant_time_equal(a, b));
  auto c = std::move(a);
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  CHECK(c.size() == 3);
  const std::uint8_t other[] = {1, 2, 4};
  CHECK_FALSE(sepal::constant_time_equal(c.reveal(), std::span<const std::uint8_t>(other)));
  CHECK_FALSE(sepal::constant_time_equal(c.reveal(), std::span<const std::uint8_t>(other, 2)));
}

TEST_CASE("errc and results print their description; every code has its own", "[error]") {
  std::ostringstream os;
  os << sepal::errc::unknown_identity << " | " << sepal::result<int>(7) << " | " << sepal::result<int>(sepal::errc::replayed)
     << " | " << sepal::result<void>();
  CHECK(os.str() == "peer identity not allowed | 7 | replayed or too old | ok");
  std::set<std::string_view> seen;
  for (int c = 1; c <= static_cast<int>(sepal::errc::timed_out); ++c) {
    const auto d = sepal::describe(static_cast<sepal::errc>(c));
    CHECK(d != "unknown error");
    CHECK(seen.insert(d).second);  // distinct, so logs can tell them apart
  }
}
