// Asio integration: an executor adapter that gives each spawned coroutine its own task-local
// execution context (current span + OpenTelemetry Context), so a span is current exactly while
// its coroutine runs, on whichever thread Asio resumes it.
//
//   auto token = otel_context.Attach();                     // the seed's .with_context(cx)
//   asio::co_spawn(vllora::TaskExecutor(io.get_executor()), execute_flow(), asio::detached);
//
// This is an opt-in integration header: it includes Asio (Debian's libasio-dev), which the
// library's other public headers never do. Link vllora::asio (header-only) to use it.
// See vllora/core/async.h for Instrument().
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/execution.hpp>
#include <asio/prefer.hpp>
#include <asio/query.hpp>
#include <asio/require.hpp>
#include <memory>
#include <type_traits>
#include <utility>

#include "vllora/core/async.h"
#include "vllora/core/context.h"

namespace vllora {

/// Wraps an Asio executor; everything it runs executes inside one task-local context.
///
/// The task starts in the context current when the TaskExecutor is made. Make one per co_spawn:
/// tasks spawned with copies of the same TaskExecutor share one task-local context.
/// Thread-safety: as the wrapped executor. Allocation: one shared state per TaskExecutor().
template <class Inner>
class TaskExecutor {
 public:
  /// Wraps `inner`; the task starts in the context that is current now.
  explicit TaskExecutor(Inner inner)
      : inner_(std::move(inner)), state_(std::make_shared<internal::TaskState>()) {
    state_->saved = ContextSnapshot::Capture();
  }
  /// Wraps `inner`; the task starts in `initial`.
  TaskExecutor(Inner inner, ContextSnapshot initial)
      : inner_(std::move(inner)), state_(std::make_shared<internal::TaskState>()) {
    state_->saved = std::move(initial);
  }
  TaskExecutor(Inner inner, std::shared_ptr<internal::TaskState> state) noexcept
      : inner_(std::move(inner)), state_(std::move(state)) {}

  TaskExecutor(const TaskExecutor&) noexcept = default;
  TaskExecutor(TaskExecutor&&) noexcept = default;
  TaskExecutor& operator=(const TaskExecutor&) noexcept = default;
  TaskExecutor& operator=(TaskExecutor&&) noexcept = default;

  template <class F>
  void execute(F&& f) const {
    ::asio::execution::execute(inner_, [state = state_, f = std::forward<F>(f)]() mutable {
      internal::TaskRun run(*state);
      std::move(f)();
    });
  }

  template <class Property>
  requires ::asio::can_query<const Inner&, const Property&>::value decltype(auto) query(
      const Property& p) const
      noexcept(::asio::is_nothrow_query<const Inner&, const Property&>::value) {
    return ::asio::query(inner_, p);
  }

  template <class Property>
  requires ::asio::can_require<const Inner&, const Property&>::value auto require(
      const Property& p) const {
    using Required = std::decay_t<decltype(::asio::require(inner_, p))>;
    return TaskExecutor<Required>(::asio::require(inner_, p), state_);
  }

  template <class Property>
  requires ::asio::can_prefer<const Inner&, const Property&>::value auto prefer(
      const Property& p) const {
    using Preferred = std::decay_t<decltype(::asio::prefer(inner_, p))>;
    return TaskExecutor<Preferred>(::asio::prefer(inner_, p), state_);
  }

  friend bool operator==(const TaskExecutor& a, const TaskExecutor& b) noexcept {
    return a.inner_ == b.inner_ && a.state_ == b.state_;
  }
  friend bool operator!=(const TaskExecutor& a, const TaskExecutor& b) noexcept {
    return !(a == b);
  }

  const Inner& inner() const noexcept { return inner_; }

 private:
  Inner inner_;
  std::shared_ptr<internal::TaskState> state_;
};

}  // namespace vllora
