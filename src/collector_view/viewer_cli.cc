#include "collector_view/viewer_cli.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "collector_view/commands.h"

namespace vllora::collector {

namespace {

namespace view = ::vllora::collector_view;

// Set by SIGINT/SIGTERM while --follow runs.
volatile std::sig_atomic_t g_stop_requested = 0;

void OnStopSignal(int /*signal*/) { g_stop_requested = 1; }

// Installs the stop handlers for the lifetime of the object, then restores the previous ones.
class StopSignals {
 public:
  StopSignals() {
    g_stop_requested = 0;
    struct sigaction action {};
    action.sa_handler = OnStopSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

bool StdoutWantsColor() {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string(term) == "dumb") return false;
  return ::isatty(STDOUT_FILENO) == 1;
}

void AddCommonOptions(CLI::App* command, view::CommonOptions* common) {
  command
      ->add_option("--db", common->db_path,
                   "The database `vllora-collector serve --db` writes (opened read-only)")
      ->required();
  command->add_flag("--json", common->json, "Machine-readable output: one JSON document");
  command->add_option("--bar-width", common->bar_width, "Cells of the duration bar")
      ->check(CLI::Range(4, 400))
      ->capture_default_str();
}

void AddFollowOptions(CLI::App* command, view::FollowOptions* follow, double* timeout_seconds) {
  command->add_flag("--follow,-f", follow->enabled,
                    "Keep printing new spans as they arrive, until SIGINT/SIGTERM");
  command
      ->add_option("--follow-timeout", *timeout_seconds, "Stop following after SECONDS (0: never)")
      ->check(CLI::NonNegativeNumber);
}

// Runs a command with colours decided here and --follow wired to the signals.
template <class Options, class Fn>
void Run(Options& options, double follow_timeout_seconds, Fn command) {
  options.common.color = StdoutWantsColor();
  std::unique_ptr<StopSignals> signals;
  if (options.follow.enabled) {
    signals = std::make_unique<StopSignals>();
    options.follow.should_stop = [] { return g_stop_requested != 0; };
    if (follow_timeout_seconds > 0) {
      options.follow.timeout =
          std::chrono::milliseconds(static_cast<int64_t>(follow_timeout_seconds * 1000.0));
    }
  }
  const int rc = command(options, std::cout, std::cerr);
  std::cout.flush();
  // CLI11_PARSE / App::exit turn a RuntimeError into this exit code without printing anything.
  if (rc != 0) throw CLI::RuntimeError(rc);
}

}  // namespace

void AddViewerCommands(CLI::App& app) {
  {
    auto options = std::make_shared<view::ListOptions>();
    CLI::App* runs = app.add_subcommand("runs", "List recent runs with vLLora's totals");
    AddCommonOptions(runs, &options->common);
    runs->add_option("--limit,-n", options->limit, "At most this many runs")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    runs->callback([options] { Run(*options, 0, view::RunsCommand); });
  }
  {
    auto options = std::make_shared<view::ListOptions>();
    CLI::App* threads = app.add_subcommand("threads", "List recent threads");
    AddCommonOptions(threads, &options->common);
    threads->add_option("--limit,-n", options->limit, "At most this many threads")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    threads->callback([options] { Run(*options, 0, view::ThreadsCommand); });
  }
  {
    auto options = std::make_shared<view::ListOptions>();
    auto timeout = std::make_shared<double>(0);
    CLI::App* traces = app.add_subcommand("traces", "List recent traces; --follow tails new spans");
    AddCommonOptions(traces, &options->common);
    traces->add_option("--limit,-n", options->limit, "At most this many traces")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    AddFollowOptions(traces, &options->follow, timeout.get());
    traces->callback([options, timeout] { Run(*options, *timeout, view::TracesCommand); });
  }
  {
    auto options = std::make_shared<view::ShowOptions>();
    auto timeout = std::make_shared<double>(0);
    CLI::App* show = app.add_subcommand(
        "show", "Print a trace, or every trace of a run, as a tree with vLLora's totals");
    AddCommonOptions(show, &options->common);
    show->add_option("trace_id", options->trace_id, "The trace id (UUID or 32 hex digits)");
    show->add_option("--run,-r", options->run_id,
                     "Show the traces of this run instead (\"latest\": the newest run)");
    AddFollowOptions(show, &options->follow, timeout.get());
    show->callback([options, timeout] { Run(*options, *timeout, view::ShowCommand); });
  }
}

}  // namespace vllora::collector
