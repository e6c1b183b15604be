#include "vllora/subscriber/filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace vllora {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Metadata Meta(std::string_view target, Level level) {
  return Metadata{"x", target, level, CallsiteKind::kEvent, "f.cc", 1};
}

TEST(TargetMatchesTest, MatchesOnPathBoundaries) {
  EXPECT_TRUE(TargetMatches("app::runtime", "app::runtime"));
  EXPECT_TRUE(TargetMatches("app::runtime::execution", "app::runtime"));
  EXPECT_FALSE(TargetMatches("app::runtimes", "app::runtime"));
  EXPECT_FALSE(TargetMatches("app::runtime:x", "app::runtime"));
  EXPECT_FALSE(TargetMatches("app", "app::runtime"));
  EXPECT_TRUE(TargetMatches("anything", ""));
  EXPECT_TRUE(TargetMatches("vllora::user_tracing::run", "vllora"));
}

TEST(TargetFilterTest, PrefixAndLevel) {
  TargetFilter filter("vllora::user_tracing", LevelFilter::kInfo);
  EXPECT_TRUE(filter.Enabled(Meta("vllora::user_tracing::run", Level::kInfo)));
  EXPECT_TRUE(filter.Enabled(Meta("vllora::user_tracing", Level::kError)));
  EXPECT_FALSE(filter.Enabled(Meta("vllora::user_tracing::run", Level::kDebug)));
  EXPECT_FALSE(filter.Enabled(Meta("vllora::user_tracingx", Level::kInfo)));
  EXPECT_FALSE(filter.Enabled(Meta("app::runtime", Level::kInfo)));
}

TEST(EnvFilterTest, BareLevel) {
  EnvFilter filter = EnvFilter::Parse("info");
  EXPECT_TRUE(filter.Enabled(Meta("any::thing", Level::kInfo)));
  EXPECT_FALSE(filter.Enabled(Meta("any::thing", Level::kDebug)));
  EXPECT_EQ(filter.MaxLevel(), LevelFilter::kInfo);
}

TEST(EnvFilterTest, MostSpecificTargetWins) {
  EnvFilter filter = EnvFilter::Parse("warn,app::runtime=trace,app::runtime::noisy=error,vllora");
  EXPECT_EQ(filter.LevelFor("other"), LevelFilter::kWarn);
  EXPECT_EQ(filter.LevelFor("app::runtime::execution"), LevelFilter::kTrace);
  EXPECT_EQ(filter.LevelFor("app::runtime::noisy::deep"), LevelFilter::kError);
  EXPECT_EQ(filter.LevelFor("app::runtimes"), LevelFilter::kWarn);
  EXPECT_EQ(filter.LevelFor("vllora::user_tracing"), LevelFilter::kTrace);
  EXPECT_EQ(filter.MaxLevel(), LevelFilter::kTrace);
}

TEST(EnvFilterTest, WithoutDefaultUnnamedTargetsAreOff) {
  EnvFilter filter = EnvFilter::Parse("vllora=debug");
  EXPECT_TRUE(filter.Enabled(Meta("vllora::x", Level::kDebug)));
  EXPECT_FALSE(filter.Enabled(Meta("app", Level::kError)));
}

TEST(EnvFilterTest, LaterDirectiveForTheSameTargetWins) {
  EnvFilter filter = EnvFilter::Parse("app=debug, app=error ,,");
  EXPECT_EQ(filter.LevelFor("app"), LevelFilter::kError);
  EXPECT_EQ(filter.directives().size(), 1u);
}

TEST(EnvFilterTest, MalformedDirectivesAreNamedAndTheRestApplies) {
  std::vector<std::string> errors;
  EnvFilter filter =
      EnvFilter::Parse("info,app=loud,=debug,bad target,x[span]=debug,db=WARN", &errors);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_THAT(errors[0], HasSubstr("'app=loud'"));
  EXPECT_THAT(errors[0], HasSubstr("unknown level 'loud'"));
  EXPECT_THAT(errors[1], HasSubstr("'=debug'"));
  EXPECT_THAT(errors[2], HasSubstr("'bad target'"));
  EXPECT_THAT(errors[3], HasSubstr("not supported"));
  EXPECT_EQ(filter.LevelFor("db"), LevelFilter::kWarn);
  EXPECT_EQ(filter.LevelFor("app"), LevelFilter::kInfo);
}

TEST(EnvFilterTest, FromEnvReadsTheVariableOrTheDefault) {
  ::unsetenv("VLLORA_TEST_LOG");
  EXPECT_EQ(EnvFilter::FromEnv("debug", "VLLORA_TEST_LOG").LevelFor("x"), LevelFilter::kDebug);
  ::setenv("VLLORA_TEST_LOG", "app=trace", 1);
  EnvFilter filter = EnvFilter::FromEnv("debug", "VLLORA_TEST_LOG");
  EXPECT_EQ(filter.LevelFor("app::a"), LevelFilter::kTrace);
  EXPECT_EQ(filter.LevelFor("x"), LevelFilter::kOff);
  ::setenv("VLLORA_TEST_LOG", "nonsense=, =", 1);  // nothing valid: the default applies
  EXPECT_EQ(EnvFilter::FromEnv("warn", "VLLORA_TEST_LOG").LevelFor("x"), LevelFilter::kWarn);
  ::unsetenv("VLLORA_TEST_LOG");
}

TEST(LevelTest, ParseAndOrder) {
  EXPECT_EQ(ParseLevelFilter("WARN"), LevelFilter::kWarn);
  EXPECT_EQ(ParseLevelFilter("warning"), LevelFilter::kWarn);
  EXPECT_EQ(ParseLevelFilter("Off"), LevelFilter::kOff);
  EXPECT_EQ(ParseLevelFilter("verbose"), std::nullopt);
  EXPECT_TRUE(LevelEnabled(Level::kError, LevelFilter::kInfo));
  EXPECT_FALSE(LevelEnabled(Level::kError, LevelFilter::kOff));
  EXPECT_FALSE(LevelEnabled(Level::kTrace, LevelFilter::kDebug));
}

}  // namespace
}  // namespace vllora
