// End to end: `vllora-collector serve` on free ports and a temporary database, tracing_example
// sending to it (OTLP/gRPC, then OTLP/HTTP), then the viewer (`runs`, `show --run`, `--json`,
// `traces --follow`) reading the database while the collector runs; SIGTERM stops everything
// with exit code 0.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// A child process with its stdout on a pipe; SIGKILLed and reaped on destruction if still
// running.
class Child {
 public:
  static std::unique_ptr<Child> Spawn(const std::vector<std::string>& args, std::string* error) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
      *error = "pipe2 failed";
      return nullptr;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    std::vector<char*> argv;
    // posix_spawn takes char* const[]; the strings outlive the call and are not modified.
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
      close(out[0]);
      *error = "cannot run " + args[0];
      return nullptr;
    }
    auto child = std::unique_ptr<Child>(new Child());
    child->pid_ = pid;
    child->out_fd_ = out[0];
    return child;
  }

  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
  }

  // Reads stdout until it holds `count` complete lines or the deadline passes.
  bool WaitForLines(size_t count, std::chrono::milliseconds timeout) {
    const Clock::time_point end = Clock::now() + timeout;
    while (Lines() < count) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{out_fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = read(out_fd_, buf, sizeof(buf));
      if (n <= 0) return Lines() >= count;  // EOF
      output_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  // Sends `signal` and waits for the exit; the exit code, or -1 (killed / timed out).
  int StopWith(int signal, std::chrono::milliseconds timeout) {
    kill(pid_, signal);
    const Clock::time_point end = Clock::now() + timeout;
    int status = 0;
    while (Clock::now() < end) {
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        // Keep what it printed last.
        char buf[4096];
        ssize_t n;
        while ((n = read(out_fd_, buf, sizeof(buf))) > 0)
          output_.append(buf, static_cast<size_t>(n));
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  const std::string& output() const { return output_; }

 private:
  Child() = default;
  size_t Lines() const {
    return static_cast<size_t>(std::count(output_.begin(), output_.end(), '\n'));
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string output_;
};

struct RunResult {
  int exit_code = -1;
  std::string output;
};

// Runs a shell command (bounded by `timeout 60`), returning its exit code and stdout (+ stderr
// when `with_stderr`).
RunResult RunCommand(const std::string& command, bool with_stderr = true) {
  RunResult result;
  const std::string full = "timeout 60 " + command + (with_stderr ? " 2>&1" : "");
  std::FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) result.output.append(buf, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class CollectorExampleE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/vllora-collector-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    db_ = dir_ + "/traces.db";
    std::string error;
    collector_ = Child::Spawn({VLLORA_COLLECTOR_PATH, "serve", "--db", db_, "--grpc", "127.0.0.1:0",
                               "--http", "127.0.0.1:0"},
                              &error);
    ASSERT_NE(collector_, nullptr) << error;
    ASSERT_TRUE(collector_->WaitForLines(1, std::chrono::seconds(30))) << collector_->output();
    const std::regex listening(R"(^listening grpc=(\S+) http=(\S+)\n)");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(collector_->output(), m, listening)) << collector_->output();
    grpc_ = m[1];
    http_ = m[2];
  }

  void TearDown() override {
    collector_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string Viewer(const std::string& args) const {
    return std::string(VLLORA_COLLECTOR_PATH) + " " + args + " --db " + db_;
  }

  std::string dir_, db_, grpc_, http_;
  std::unique_ptr<Child> collector_;
};

const std::vector<std::string> kChain = {"execution",  "run",        "agent",  "task",
                                         "api_invoke", "model_call", "openai", "tool"};

// The show --json document of one run of tracing_example: the exact 8-span chain and totals.
void ExpectExampleRun(const json& doc, const std::string& run_id) {
  EXPECT_EQ(doc["run_id"], run_id);
  ASSERT_EQ(doc["traces"].size(), 1u);
  const json& trace = doc["traces"][0];
  EXPECT_EQ(trace["span_count"], 8);
  ASSERT_EQ(trace["spans"].size(), 1u);
  const json* node = &trace["spans"][0];
  json parent;  // null for the root
  for (size_t i = 0; i < kChain.size(); ++i) {
    EXPECT_EQ((*node)["name"], kChain[i]);
    EXPECT_EQ((*node)["parent_span_id"], parent) << kChain[i];
    EXPECT_EQ((*node)["orphan"], false) << kChain[i];
    EXPECT_EQ((*node)["trace_id"], trace["trace_id"]) << kChain[i];
    EXPECT_EQ((*node)["run_id"], run_id) << kChain[i];
    EXPECT_EQ((*node)["attributes"]["vllora.tenant"], "default") << kChain[i];
    parent = (*node)["span_id"];
    if (i + 1 == kChain.size()) {
      EXPECT_TRUE((*node)["children"].empty());
      break;
    }
    ASSERT_EQ((*node)["children"].size(), 1u) << kChain[i];
    node = &(*node)["children"][0];
  }
  EXPECT_EQ((*node)["attributes"]["vllora.tool_name"], "search_web");
  EXPECT_GE((*node)["duration_us"].get<int64_t>(), 50000);
  const json& totals = doc["totals"];
  EXPECT_EQ(totals["spans"], 8);
  EXPECT_EQ(totals["llm_calls"], 1);
  EXPECT_EQ(totals["input_tokens"], 8);
  EXPECT_EQ(totals["output_tokens"], 9);
  EXPECT_DOUBLE_EQ(totals["cost"].get<double>(), 6.600000262260437e-6);
  EXPECT_EQ(totals["errors"], 0);
}

TEST_F(CollectorExampleE2ETest, ExampleOverGrpcAndHttpShownByTheViewer) {
  // OTLP/gRPC.
  RunResult example =
      RunCommand(std::string(TRACING_EXAMPLE_PATH) + " --otlp-endpoint http://" + grpc_);
  ASSERT_EQ(example.exit_code, 0) << example.output;
  EXPECT_THAT(example.output, HasSubstr("Exported 8 spans to http://" + grpc_));

  RunResult runs = RunCommand(Viewer("runs --json"), /*with_stderr=*/false);
  ASSERT_EQ(runs.exit_code, 0) << runs.output;
  json runs_doc = json::parse(runs.output);
  ASSERT_EQ(runs_doc["runs"].size(), 1u) << runs.output;
  const std::string grpc_run = runs_doc["runs"][0]["run_id"];
  EXPECT_THAT(example.output, HasSubstr(grpc_run));
  EXPECT_EQ(runs_doc["runs"][0]["spans"], 8);
  EXPECT_EQ(runs_doc["runs"][0]["llm_calls"], 1);
  EXPECT_EQ(runs_doc["runs"][0]["input_tokens"], 8);
  EXPECT_EQ(runs_doc["runs"][0]["output_tokens"], 9);

  RunResult shown = RunCommand(Viewer("show --json --run " + grpc_run), /*with_stderr=*/false);
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  ExpectExampleRun(json::parse(shown.output), grpc_run);

  // The text tree: names with their tree prefixes and key attributes, then the totals.
  RunResult text = RunCommand(Viewer("show --run " + grpc_run), /*with_stderr=*/false);
  ASSERT_EQ(text.exit_code, 0) << text.output;
  std::istringstream lines(text.output);
  std::string line;
  std::getline(lines, line);
  EXPECT_THAT(line, ::testing::MatchesRegex("trace [0-9a-f-]{36}  8 spans  .*"));
  const std::vector<std::string> expected = {
      "execution ",
      "└─ run ",
      "   └─ agent .*  agent=research_assistant",
      "      └─ task .*  task=gather_information",
      "         └─ api_invoke ",
      "            └─ model_call .*  model=gpt-4  provider=openai  tokens_in=10  tokens_out=8  "
      "cost=\\$0.000301  ttft=150 µs",
      "               └─ openai .*  model=gpt-4o-mini  tokens_in=8  tokens_out=9  "
      "cost=\\$0.0000066  ttft=843.1 ms",
      "                  └─ tool .*  tool=search_web"};
  for (const std::string& pattern : expected) {
    ASSERT_TRUE(std::getline(lines, line));
    EXPECT_TRUE(std::regex_search(line, std::regex("^" + pattern))) << line << "\n!~ " << pattern;
  }
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_EQ(line, "");
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_TRUE(std::regex_match(
      line, std::regex("run " + grpc_run +
                       ": 8 spans  [0-9.]+ ms  llm_calls=1  tokens_in=8  tokens_out=9  "
                       "cost=\\$0.0000066  errors=0")))
      << line;
  EXPECT_EQ(text.output.find('\x1b'), std::string::npos) << "no colours on a pipe";

  // OTLP/HTTP (protobuf) into the same collector: a second run with the same tree.
  example = RunCommand("env OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf " +
                       std::string(TRACING_EXAMPLE_PATH) + " --otlp-endpoint http://" + http_ +
                       "/v1/traces");
  ASSERT_EQ(example.exit_code, 0) << example.output;
  shown = RunCommand(Viewer("show --json --run latest"), /*with_stderr=*/false);
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  const json http_doc = json::parse(shown.output);
  const std::string http_run = http_doc["run_id"];
  EXPECT_NE(http_run, grpc_run);
  ExpectExampleRun(http_doc, http_run);
  runs = RunCommand(Viewer("runs --json"), /*with_stderr=*/false);
  EXPECT_EQ(json::parse(runs.output)["runs"].size(), 2u);

  RunResult traces = RunCommand(Viewer("traces"), /*with_stderr=*/false);
  ASSERT_EQ(traces.exit_code, 0);
  EXPECT_TRUE(std::regex_search(
      traces.output, std::regex("\n[0-9a-f-]{36}  execution  [0-9T:.Z-]+  +[0-9.]+ ms +8 +0\n")))
      << traces.output;

  EXPECT_EQ(collector_->StopWith(SIGTERM, std::chrono::seconds(20)), 0);
  // The database stays readable after the collector is gone.
  EXPECT_EQ(RunCommand(Viewer("show --run " + grpc_run)).exit_code, 0);
}

TEST_F(CollectorExampleE2ETest, FollowTailsSpansAsTheyArriveAndStopsOnSigterm) {
  std::string error;
  auto follow = Child::Spawn({VLLORA_COLLECTOR_PATH, "traces", "--follow", "--json",
                              "--follow-timeout", "60", "--db", db_},
                             &error);
  ASSERT_NE(follow, nullptr) << error;
  // Line 1 is the (empty) list: from here on the follower polls for new rows.
  ASSERT_TRUE(follow->WaitForLines(1, std::chrono::seconds(30))) << follow->output();
  EXPECT_EQ(json::parse(follow->output()), json({{"traces", json::array()}}));
  const RunResult example =
      RunCommand(std::string(TRACING_EXAMPLE_PATH) + " --otlp-endpoint http://" + grpc_);
  ASSERT_EQ(example.exit_code, 0) << example.output;
  ASSERT_TRUE(follow->WaitForLines(9, std::chrono::seconds(30))) << follow->output();
  EXPECT_EQ(follow->StopWith(SIGTERM, std::chrono::seconds(10)), 0);
  std::istringstream lines(follow->output());
  std::string line;
  std::getline(lines, line);
  std::vector<std::string> names;
  while (std::getline(lines, line)) names.push_back(json::parse(line)["name"]);
  std::vector<std::string> sorted_names = names;
  std::sort(sorted_names.begin(), sorted_names.end());
  std::vector<std::string> sorted_chain = kChain;
  std::sort(sorted_chain.begin(), sorted_chain.end());
  EXPECT_EQ(sorted_names, sorted_chain);

  // Errors: an unknown trace, a database that is not the collector's.
  RunResult missing = RunCommand(Viewer("show 00000000-0000-4000-8000-000000000000"));
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_THAT(missing.output, HasSubstr("trace 00000000-0000-4000-8000-000000000000 not found"));
  RunResult wrong =
      RunCommand(std::string(VLLORA_COLLECTOR_PATH) + " runs --db " + dir_ + "/none.db");
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.output, HasSubstr("database not found"));

  EXPECT_EQ(collector_->StopWith(SIGTERM, std::chrono::seconds(20)), 0);
}

}  // namespace
