#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "support/recording_layer.h"
#include "vllora/core/core.h"
#include "vllora/subscriber/filter.h"

namespace vllora {
namespace {

using ::testing::ElementsAre;
using testing::InstallRecording;

int g_evaluations = 0;
int Expensive() {
  ++g_evaluations;
  return 42;
}

TEST(SpanTest, DisabledCallsiteDoesNotEvaluateFields) {
  auto layer = InstallRecording(std::make_shared<TargetFilter>("app", LevelFilter::kInfo));
  g_evaluations = 0;
  for (int i = 0; i < 3; ++i) {
    Span span = VLLORA_DEBUG_SPAN("app::x", "debug_span", {"v", Expensive()});
    EXPECT_TRUE(span.IsDisabled());
    VLLORA_EVENT(Level::kDebug, "app::x", "value {}", Expensive()).With("v", Expensive());
    Span other = VLLORA_INFO_SPAN("other::x", "other_target", {"v", Expensive()});
    EXPECT_TRUE(other.IsDisabled());
    span.Record("v", Expensive());  // a disabled span ignores records, but C++ evaluates args
  }
  EXPECT_EQ(g_evaluations, 3);  // only the arguments of Record on the (disabled) handle
  EXPECT_TRUE(layer->Take().empty());
  Span enabled = VLLORA_INFO_SPAN("app::x", "enabled", {"v", Expensive()});
  EXPECT_FALSE(enabled.IsDisabled());
  EXPECT_EQ(g_evaluations, 4);
}

TEST(SpanTest, FieldsRecordParentAndClose) {
  auto layer = InstallRecording();
  {
    Span outer = VLLORA_INFO_SPAN("app::runtime::execution", "execution", {"execution_id", 123});
    outer.Record("status", "ok");
    {
      auto entered = outer.Enter();
      Span inner = VLLORA_INFO_SPAN("app::runtime", "inner", {"a", true}, {"b", 1.5});
      EXPECT_EQ(Span::Current(), outer);
      inner.InScope([&] {
        EXPECT_EQ(Span::Current(), inner);
        Span::Current().Record({{"ttft", 843129u}, {"neg", -7}});
      });
      EXPECT_EQ(Span::Current(), outer);
    }
    EXPECT_TRUE(Span::Current().IsDisabled());
  }
  EXPECT_THAT(layer->Take(),
              ElementsAre("new execution{execution_id=123} parent=-", "record execution{status=ok}",
                          "enter execution", "new inner{a=true,b=1.5} parent=execution",
                          "enter inner", "record inner{ttft=843129,neg=-7}", "exit inner",
                          "close inner", "exit execution", "close execution"));
}

TEST(SpanTest, ParentClosesAfterItsChildren) {
  auto layer = InstallRecording();
  Span child;
  {
    Span parent = VLLORA_INFO_SPAN("app", "parent");
    auto entered = parent.Enter();
    child = VLLORA_INFO_SPAN("app", "child");
  }
  EXPECT_THAT(layer->Filter("close"), ElementsAre());
  child = Span();
  EXPECT_THAT(layer->Filter("close"), ElementsAre("close child", "close parent"));
}

TEST(SpanTest, CopiesShareOneSpanClosedByTheLastCopy) {
  auto layer = InstallRecording();
  Span a = VLLORA_INFO_SPAN("app", "shared");
  Span b = a;
  EXPECT_EQ(a.id(), b.id());
  EXPECT_NE(a.id(), 0u);
  a = Span();
  EXPECT_THAT(layer->Filter("close"), ElementsAre());
  b = Span();
  EXPECT_THAT(layer->Filter("close"), ElementsAre("close shared"));
}

TEST(SpanTest, ExplicitAndRootParents) {
  auto layer = InstallRecording();
  Span explicit_parent = VLLORA_INFO_SPAN("app", "explicit");
  Span current = VLLORA_INFO_SPAN("app", "current");
  auto entered = current.Enter();
  Span child = VLLORA_SPAN_CHILD_OF(explicit_parent, Level::kInfo, "app", "child");
  Span root = VLLORA_ROOT_SPAN(Level::kInfo, "app", "root");
  Span contextual = VLLORA_INFO_SPAN("app", "contextual");
  EXPECT_THAT(layer->Filter("new"),
              ElementsAre("new explicit{} parent=-", "new current{} parent=-",
                          "new child{} parent=explicit", "new root{} parent=-",
                          "new contextual{} parent=current"));
}

TEST(SpanTest, EventsFormatAndAttachToCurrentSpan) {
  auto layer = InstallRecording();
  VLLORA_EVENT(Level::kWarn, "app::db", "took {} ms for {}", 12, "users").With("rows", 3u);
  Span span = VLLORA_INFO_SPAN("app", "work");
  span.InScope([] { VLLORA_INFO("{{literal}} {}", 2.5); });
  EXPECT_THAT(layer->Filter("event"),
              ElementsAre("event WARN app::db 'took 12 ms for users'{rows=3} in=-",
                          "event INFO app '{literal} 2.5'{} in=work"));
}

TEST(SpanTest, EventMacroIsOneStatement) {
  auto layer = InstallRecording();
  bool flag = false;
  if (flag)
    VLLORA_INFO("not emitted");
  else
    VLLORA_INFO("emitted");
  EXPECT_THAT(layer->Filter("event"), ElementsAre("event INFO app 'emitted'{} in=-"));
}

TEST(SpanTest, FunctionApiInternsCallsites) {
  auto layer = InstallRecording(std::make_shared<TargetFilter>("dyn", LevelFilter::kInfo));
  std::string target = "dyn::thing";
  Span span = StartSpan(Level::kInfo, target, std::string("dynamic_") + "name", {{"k", "v"}});
  Span dropped = StartSpan(Level::kDebug, target, "too_verbose");
  EXPECT_TRUE(dropped.IsDisabled());
  ASSERT_FALSE(span.IsDisabled());
  const Metadata* metadata = span.metadata();
  ASSERT_NE(metadata, nullptr);
  EXPECT_EQ(metadata->target, "dyn::thing");
  span.InScope([] { EmitEvent(Level::kError, "dyn::x", "boom", {{"code", 7}}); });
  EXPECT_THAT(layer->Take(), ElementsAre("new dynamic_name{k=v} parent=-", "enter dynamic_name",
                                         "event ERROR dyn::x 'boom'{code=7} in=dynamic_name",
                                         "exit dynamic_name"));
}

TEST(SpanTest, CurrentSpanIsPerThread) {
  auto layer = InstallRecording();
  Span span = VLLORA_INFO_SPAN("app", "main_thread");
  auto entered = span.Enter();
  Span seen_on_other;
  std::thread([&] { seen_on_other = Span::Current(); }).join();
  EXPECT_TRUE(seen_on_other.IsDisabled());
}

TEST(SpanTest, BindRunsInTheSubmittersSpanOnAnotherThread) {
  auto layer = InstallRecording();
  Span span = VLLORA_INFO_SPAN("app", "submitter");
  std::function<void()> task;
  span.InScope([&] { task = Bind([] { VLLORA_INFO("in pool"); }); });
  std::thread([&] {
    task();
    EXPECT_TRUE(Span::Current().IsDisabled());  // restored after the task
  }).join();
  auto bound_to_other = Bind(VLLORA_INFO_SPAN("app", "explicit"), [] { VLLORA_INFO("explicit"); });
  std::thread(bound_to_other).join();
  EXPECT_THAT(layer->Filter("event"), ElementsAre("event INFO app 'in pool'{} in=submitter",
                                                  "event INFO app 'explicit'{} in=explicit"));
}

TEST(SpanTest, ChangingTheSubscriberRebuildsInterest) {
  auto quiet = InstallRecording(std::make_shared<LevelOnlyFilter>(LevelFilter::kOff));
  auto emit = [] { VLLORA_INFO("hello"); };
  emit();
  EXPECT_TRUE(quiet->Take().empty());
  auto loud = InstallRecording();
  emit();
  EXPECT_THAT(loud->Filter("event"), ElementsAre("event INFO app 'hello'{} in=-"));
  SetGlobalSubscriber(nullptr);
  emit();
  EXPECT_THAT(loud->Filter("event"), ElementsAre("event INFO app 'hello'{} in=-"));
}

}  // namespace
}  // namespace vllora
