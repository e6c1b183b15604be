// Coroutine instrumentation with Asio's awaitable, and task-local context.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <thread>

#include "support/recording_layer.h"
#include "vllora/asio/task_executor.h"
#include "vllora/core/core.h"

namespace vllora {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

// Checks after every resumption that the current span is the one this task instrumented.
asio::awaitable<int> Worker(std::string name, std::atomic<int>* mismatches) {
  Span expected = Span::Current();
  EXPECT_FALSE(expected.IsDisabled());
  if (const Metadata* metadata = expected.metadata()) {
    EXPECT_EQ(metadata->name, name);
  } else {
    ADD_FAILURE() << "no current span in " << name;
  }
  for (int i = 0; i < 5; ++i) {
    co_await Sleep(1ms);
    if (!(Span::Current() == expected)) mismatches->fetch_add(1);
    VLLORA_INFO("{} step {}", name, i);
  }
  co_return 7;
}

asio::awaitable<void> Outer(const char* name, std::atomic<int>* mismatches) {
  Span span = StartSpan(Level::kInfo, "app", name);
  int result = co_await Instrument(Worker(name, mismatches), span);
  EXPECT_EQ(result, 7);
  EXPECT_TRUE(Span::Current().IsDisabled());  // the instrumented span is no longer current
}

TEST(AsyncTest, InterleavedCoroutinesOnOneThreadNeverSeeEachOthersSpan) {
  auto layer = testing::InstallRecording();
  asio::io_context io;
  std::atomic<int> mismatches{0};
  asio::co_spawn(TaskExecutor(io.get_executor()), Outer("task_a", &mismatches), asio::detached);
  asio::co_spawn(TaskExecutor(io.get_executor()), Outer("task_b", &mismatches), asio::detached);
  // Plain handlers interleaved on the same thread see no span at all.
  std::atomic<int> leaked{0};
  for (int i = 0; i < 20; ++i) {
    asio::steady_timer* t = new asio::steady_timer(io, std::chrono::microseconds(250 * i));
    t->async_wait([t, &leaked](const asio::error_code&) {
      if (!Span::Current().IsDisabled()) leaked.fetch_add(1);
      delete t;
    });
  }
  io.run();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(leaked.load(), 0);
  auto events = layer->Filter("event");
  ASSERT_EQ(events.size(), 10u);
  for (const auto& e : events) {
    bool a = e.find("'task_a step") != std::string::npos && e.ends_with("in=task_a");
    bool b = e.find("'task_b step") != std::string::npos && e.ends_with("in=task_b");
    EXPECT_TRUE(a || b) << e;
  }
}

TEST(AsyncTest, TaskContextFollowsTheTaskAcrossThreads) {
  auto layer = testing::InstallRecording();
  asio::io_context io;
  std::atomic<int> mismatches{0};
  const char* names[] = {"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"};
  for (const char* name : names) {
    asio::co_spawn(TaskExecutor(io.get_executor()), Outer(name, &mismatches), asio::detached);
  }
  std::thread second([&] { io.run(); });
  io.run();
  second.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(layer->Filter("event").size(), 40u);
}

// Asio resumes a coroutine on another thread as soon as the awaited operation completes, which
// can be before the handler that suspended it has returned. The resumption must see the context
// the task had at suspension, not an empty one.
TEST(AsyncTest, TaskContextPublishedAtReleaseIsSeenByTheNextResumption) {
  auto layer = testing::InstallRecording();
  internal::TaskState state;
  Span task_span = VLLORA_INFO_SPAN("app", "task_span");
  Span seen_by_b;
  std::atomic<bool> b_started{false};
  std::thread b;
  {
    internal::TaskRun a(state);
    // The coroutine entered its span and suspended with it current (the guard lives in the
    // frame); model that by installing the span for the rest of this handler.
    ContextSnapshot with_span = ContextSnapshot::CaptureWith(task_span);
    (void)std::move(with_span).Exchange();
    b = std::thread([&] {
      b_started = true;
      internal::TaskRun run(state);
      seen_by_b = Span::Current();
    });
    while (!b_started) std::this_thread::yield();
    std::this_thread::sleep_for(20ms);  // `b` must still be waiting: `a` has not returned
    EXPECT_TRUE(seen_by_b.IsDisabled());
  }
  b.join();
  EXPECT_TRUE(seen_by_b == task_span);
  EXPECT_TRUE(Span::Current().IsDisabled());  // `a` restored this thread's own context
}

TEST(AsyncTest, HandlerOfTheSameTaskDispatchedInlineKeepsTheTaskContext) {
  auto layer = testing::InstallRecording();
  internal::TaskState state;
  Span task_span = VLLORA_INFO_SPAN("app", "task_span");
  state.saved = ContextSnapshot::CaptureWith(task_span);
  {
    internal::TaskRun outer(state);
    EXPECT_TRUE(Span::Current() == task_span);
    {
      internal::TaskRun inner(state);  // same task, same thread: nests
      EXPECT_TRUE(Span::Current() == task_span);
    }
    EXPECT_TRUE(Span::Current() == task_span);
  }
  EXPECT_TRUE(Span::Current().IsDisabled());
  internal::TaskRun again(state);
  EXPECT_TRUE(Span::Current() == task_span);
}

TEST(AsyncTest, TaskStartsInTheContextCurrentAtSpawn) {
  auto layer = testing::InstallRecording();
  asio::io_context io;
  Span parent = VLLORA_INFO_SPAN("app", "spawner");
  {
    auto entered = parent.Enter();
    asio::co_spawn(
        TaskExecutor(io.get_executor()),
        []() -> asio::awaitable<void> {
          co_await Sleep(1ms);
          Span child = VLLORA_INFO_SPAN("app", "child_in_task");
          VLLORA_INFO("inside");
        },
        asio::detached);
  }
  io.run();
  EXPECT_THAT(layer->Filter("new child"), ElementsAre("new child_in_task{} parent=spawner"));
  EXPECT_THAT(layer->Filter("event"), ElementsAre("event INFO app 'inside'{} in=spawner"));
}

TEST(AsyncTest, ThreadPoolTaskRunsInsideSpanCurrentAtSubmission) {
  auto layer = testing::InstallRecording();
  asio::thread_pool pool(2);
  Span span = VLLORA_INFO_SPAN("app", "request");
  span.InScope([&] {
    for (int i = 0; i < 4; ++i) asio::post(pool, Bind([i] { VLLORA_INFO("job {}", i); }));
  });
  asio::post(pool, [] { VLLORA_INFO("unbound"); });
  pool.join();
  auto events = layer->Filter("event");
  ASSERT_EQ(events.size(), 5u);
  int in_request = 0;
  for (const auto& e : events) {
    if (e.find("'job ") != std::string::npos) {
      EXPECT_TRUE(e.ends_with("in=request")) << e;
      ++in_request;
    } else {
      EXPECT_EQ(e, "event INFO app 'unbound'{} in=-");
    }
  }
  EXPECT_EQ(in_request, 4);
}

}  // namespace
}  // namespace vllora
