// Built with VLLORA_STATIC_MAX_LEVEL=2 (INFO): TRACE and DEBUG callsites are compiled out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/recording_layer.h"
#include "vllora/core/core.h"

namespace vllora {
namespace {

int g_evaluations = 0;
int Count() { return ++g_evaluations; }

TEST(StaticLevelTest, CallsitesBelowTheStaticLevelAreRemoved) {
  auto layer = testing::InstallRecording();  // wants everything at run time
  Span debug = VLLORA_DEBUG_SPAN("app", "debug", {"n", Count()});
  VLLORA_TRACE("trace {}", Count());
  VLLORA_DEBUG("debug {}", Count());
  EXPECT_TRUE(debug.IsDisabled());
  EXPECT_EQ(g_evaluations, 0);
  Span info = VLLORA_INFO_SPAN("app", "info", {"n", Count()});
  EXPECT_FALSE(info.IsDisabled());
  EXPECT_EQ(g_evaluations, 1);
  EXPECT_TRUE(StartSpan(Level::kDebug, "app", "dyn").IsDisabled());
}

}  // namespace
}  // namespace vllora
