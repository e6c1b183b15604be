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

#include <condition_variable>
#include <coroutine>
#include <memory>
#include <mutex>
#include <thread>
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
///
/// A coroutine's next resumption can start on another thread before the handler that suspended
/// it has returned (Asio initiates the awaited operation after the frame suspends, still inside
/// that handler), so the context the task had at suspension is published only when that handler
/// returns. A resumption that finds the task still running elsewhere waits for it; that tail is
/// the few instructions that initiate an operation. A handler of the task dispatched inline on
/// the thread that already runs it nests and keeps the context in place.
struct TaskState {
  std::mutex mu;
  std::condition_variable released;
  ContextSnapshot saved;  // the task's context while no thread runs it
  std::thread::id owner;  // the thread running the task, or none
  int waiters = 0;        // threads waiting in TaskRun for `owner` to release
};

/// Swaps a task's context in for the lifetime of one handler invocation.
class TaskRun {
 public:
  explicit TaskRun(TaskState& state) : state_(state) {
    const std::thread::id self = std::this_thread::get_id();
    ContextSnapshot mine;
    {
      std::unique_lock<std::mutex> lock(state_.mu);
      if (state_.owner == self) {
        nested_ = true;  // already current on this thread
        return;
      }
      if (state_.owner != std::thread::id()) {
        ++state_.waiters;
        state_.released.wait(lock, [&] { return state_.owner == std::thread::id(); });
        --state_.waiters;
      }
      state_.owner = self;
      mine = std::move(state_.saved);
    }
    prev_ = std::move(mine).Exchange();
  }
  ~TaskRun() {
    if (nested_) return;
    ContextSnapshot mine = std::move(prev_).Exchange();
    bool notify;
    {
      std::lock_guard<std::mutex> lock(state_.mu);
      state_.saved = std::move(mine);
      state_.owner = std::thread::id();
      notify = state_.waiters > 0;
    }
    if (notify) state_.released.notify_one();
  }
  TaskRun(const TaskRun&) = delete;
  TaskRun& operator=(const TaskRun&) = delete;

 private:
  TaskState& state_;
  ContextSnapshot prev_;
  bool nested_ = false;
};
}  // namespace internal

}  // namespace vllora
