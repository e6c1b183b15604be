// The seed's AI-agent workflow as Asio coroutines, shared by the tracing examples:
//
//   execution (app::runtime::execution)
//   └── run > agent > task > api_invoke > model_call > openai > tool   (vllora::user_tracing::*)
//
// with the attributes, baggage-independent values and timings (openai ~100 ms of work, then the
// ~50 ms tool) of the original tracing_example.rs.
#pragma once

#include <asio/awaitable.hpp>

namespace example {

/// Runs the whole flow; spawn it with vllora::TaskExecutor so spans follow the coroutine.
asio::awaitable<void> ExecuteFlow();

}  // namespace example
