// The viewer's commands as plain functions (options in, text on two streams, exit code out), so
// tests run them without a CLI or a child process. viewer_cli.cc maps CLI11 options onto these.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include "collector_view/render.h"

namespace vllora::collector_view {

/// Exit codes of the viewer's commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;     ///< database missing/unreadable, query failed
inline constexpr int kExitNotFound = 3;  ///< the trace or run does not exist

/// Options shared by every command.
struct CommonOptions {
  std::string db_path;
  bool json = false;
  /// Colours: the CLI sets this when stdout is a TTY and NO_COLOR is unset.
  bool color = false;
  int bar_width = 30;
};

/// `--follow`: how long and how often to poll.
struct FollowOptions {
  bool enabled = false;
  std::chrono::milliseconds poll_interval{200};
  /// Stop after this long (nullopt: until `should_stop`).
  std::optional<std::chrono::milliseconds> timeout;
  /// Polled between reads; true stops following (the CLI's is set by SIGINT/SIGTERM).
  std::function<bool()> should_stop;
};

struct ListOptions {
  CommonOptions common;
  int64_t limit = 20;
  FollowOptions follow;  ///< only `traces` follows
};

struct ShowOptions {
  CommonOptions common;
  std::string trace_id;  ///< either this ...
  std::string run_id;    ///< ... or this ("latest": the run that started last)
  FollowOptions follow;  ///< only with run_id
};

int RunsCommand(const ListOptions& options, std::ostream& out, std::ostream& err);
int ThreadsCommand(const ListOptions& options, std::ostream& out, std::ostream& err);
int TracesCommand(const ListOptions& options, std::ostream& out, std::ostream& err);
int ShowCommand(const ShowOptions& options, std::ostream& out, std::ostream& err);

/// A trace id as stored: lower case, and 32 hex digits get the UUID dashes.
std::string NormalizeTraceId(std::string id);

}  // namespace vllora::collector_view
