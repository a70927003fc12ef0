// main() of every weft test executable: GoogleTest plus a watchdog per test.

#include "watchdog.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace {

class watchdog_listener : public ::testing::EmptyTestEventListener {
public:
  void OnTestStart(const ::testing::TestInfo& info) override {
    m_watchdog = std::make_unique<weft::test::watchdog>(
        weft::test::test_watchdog_bound(), std::string("test ") + info.test_suite_name() + "." + info.name());
  }
  void OnTestEnd(const ::testing::TestInfo&) override { m_watchdog.reset(); }

private:
  std::unique_ptr<weft::test::watchdog> m_watchdog;
};

} // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::UnitTest::GetInstance()->listeners().Append(new watchdog_listener);
  return RUN_ALL_TESTS();
}
