// Instrumenting C++20 coroutines so a span is current exactly while the coroutine runs.
//
// Two pieces work together:
//
// 1. Instrument(awaitable, span) wraps a coroutine (for example an `asio::awaitable<T>`) so that
//    `span` is current inside it — the seed's `.instrument(span)`:
//
//        co_await vllora::Instrument(run_operation_inner(), run_span);
//
// 2. A task executor (vllora/asio/task_executor.h for Asio) gives each spawned coroutine chain its
// own "task-local" context. Every
//    time the task is resumed — on whichever thread — its context is swapped in, and when it
//    suspends its context is saved and the thread's previous context restored. So a span entered
//    in one task never leaks onto other work interleaved on the same thread:
//
//        asio::co_spawn(vllora::TaskExecutor(io.get_executor()), execute_flow(),
//                       asio::detached);
//
//    The task starts in the context current at TaskExecutor() (the seed's `.with_context(cx)` on
//    the outermost async block). Make one TaskExecutor per co_spawn: tasks spawned with copies of
//    the same TaskExecutor share one task-local context.
//
// This header is standard C++ only. It holds Instrument and the task-local machinery
// (internal::TaskState, internal::TaskRun) that executor adapters are built from.
#pragma once

#include <coroutine>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>

#include "vllora/core/context.h"
#include "vllora/core/span.h"

namespace vllora {

/// Returns a coroutine of the same type as `inner` that runs `inner` with `span` current.
/// `Awaitable<T, Rest...>` is any coroutine type whose promise accepts `co_await` of itself
/// (asio::awaitable<T, Executor> is one). Lifetime: `span` stays open until `inner` completes.
template <template <class...> class Awaitable, class T, class... Rest>
Awaitable<T, Rest...> Instrument(Awaitable<T, Rest...> inner, Span span) {
  Span::EnterGuard guard = span.Enter();
  co_return co_await std::move(inner);
}

namespace internal {
/// The saved context of one spawned task.
struct TaskState {
  std::mutex mu;  // only guards `saved` while it is swapped in or out, never while running
  ContextSnapshot saved;
};

/// Swaps a task's context in for the lifetime of one handler invocation.
class TaskRun {
 public:
  explicit TaskRun(TaskState& state) noexcept : state_(state) {
    ContextSnapshot mine;
    {
      std::lock_guard<std::mutex> lock(state_.mu);
      mine = std::move(state_.saved);
    }
    prev_ = std::move(mine).Exchange();
  }
  ~TaskRun() {
    ContextSnapshot mine = std::move(prev_).Exchange();
    std::lock_guard<std::mutex> lock(state_.mu);
    state_.saved = std::move(mine);
  }
  TaskRun(const TaskRun&) = delete;
  TaskRun& operator=(const TaskRun&) = delete;

 private:
  TaskState& state_;
  ContextSnapshot prev_;
};
}  // namespace internal

}  // namespace vllora
