#include "vllora/subscriber/fmt_layer.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <vector>

namespace vllora {

namespace {

// Per-span rendering of its fields, kept by the fmt layer as a span extension.
struct FmtFields {
  std::mutex mu;
  std::string text;
};

int ThisThreadNumber() noexcept {
  static std::atomic<int> next{1};
  thread_local int number = next.fetch_add(1, std::memory_order_relaxed);
  return number;
}

void AppendField(std::string& out, const Field& field) {
  out.append(field.key);
  out.push_back('=');
  if (field.value.is_string()) {
    AppendJsonString(out, field.value.str());
  } else {
    field.value.AppendTo(out);
  }
}

void AppendFields(std::string& out, FieldSpan fields) {
  for (const Field& field : fields) {
    if (!out.empty()) out.push_back(' ');
    AppendField(out, field);
  }
}

const char* LevelColour(Level level) {
  switch (level) {
    case Level::kTrace:
      return "\x1b[35m";
    case Level::kDebug:
      return "\x1b[34m";
    case Level::kInfo:
      return "\x1b[32m";
    case Level::kWarn:
      return "\x1b[33m";
    case Level::kError:
      return "\x1b[31m";
  }
  return "";
}

void AppendTimestamp(std::string& out) {
  auto now = std::chrono::system_clock::now();
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch());
  std::time_t secs = static_cast<std::time_t>(micros.count() / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%06lldZ",
                static_cast<long long>(micros.count() % 1000000));
  out += buf;
}

std::string_view BaseName(const char* file) {
  std::string_view path = file != nullptr ? file : "";
  // Keep the path from the last "src/", "examples/" or "tests/" if any, else the file name.
  for (std::string_view marker : {"examples/", "src/", "tests/", "include/"}) {
    size_t pos = path.rfind(marker);
    if (pos != std::string_view::npos) return path.substr(pos);
  }
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

class FmtLayer final : public Layer {
 public:
  explicit FmtLayer(FmtLayerOptions options) : options_(options) {
    switch (options_.ansi) {
      case FmtLayerOptions::Ansi::kAlways:
        ansi_ = true;
        break;
      case FmtLayerOptions::Ansi::kNever:
        ansi_ = false;
        break;
      case FmtLayerOptions::Ansi::kAuto:
        ansi_ = options_.out != nullptr && isatty(fileno(options_.out)) != 0;
        break;
    }
  }

  void OnNewSpan(SpanRef span, FieldSpan fields) noexcept override {
    try {
      auto* data = span.Set(new FmtFields());
      if (options_.with_span_fields) AppendFields(data->text, fields);
    } catch (...) {
    }
  }

  void OnRecord(SpanRef span, FieldSpan fields) noexcept override {
    if (!options_.with_span_fields) return;
    auto* data = span.Get<FmtFields>();
    if (data == nullptr) return;
    try {
      std::lock_guard<std::mutex> lock(data->mu);
      AppendFields(data->text, fields);
    } catch (...) {
    }
  }

  bool ObservesEnterExit() const noexcept override { return false; }

  void OnEvent(const EventData& event) noexcept override {
    if (options_.out == nullptr) return;
    try {
      std::string line;
      line.reserve(256);
      if (options_.with_timestamp) {
        if (ansi_) line += "\x1b[2m";
        AppendTimestamp(line);
        if (ansi_) line += "\x1b[0m";
        line.push_back(' ');
      }
      std::string_view level = ToString(event.metadata.level);
      if (ansi_) line += LevelColour(event.metadata.level);
      line.append(5 - level.size(), ' ');
      line.append(level);
      if (ansi_) line += "\x1b[0m";
      line.push_back(' ');
      if (options_.with_thread_ids) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "ThreadId(%02d) ", ThisThreadNumber());
        line += buf;
      }
      AppendScope(line, event.parent);
      if (options_.with_target) {
        if (ansi_) line += "\x1b[2m";
        line.append(event.metadata.target);
        line += ":";
        if (ansi_) line += "\x1b[0m";
        line.push_back(' ');
      }
      if (options_.with_file || options_.with_line_number) {
        if (ansi_) line += "\x1b[2m";
        if (options_.with_file) line.append(BaseName(event.metadata.file));
        if (options_.with_line_number) {
          line.push_back(':');
          line += std::to_string(event.metadata.line);
        }
        line += ":";
        if (ansi_) line += "\x1b[0m";
        line.push_back(' ');
      }
      line.append(event.message);
      for (const Field& field : event.fields) {
        line.push_back(' ');
        AppendField(line, field);
      }
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), options_.out);
    } catch (...) {
    }
  }

 private:
  // Appends "root{fields}:child{fields}: " for the spans this layer saw, root first.
  void AppendScope(std::string& out, SpanRef leaf) {
    std::vector<SpanRef> chain;
    for (SpanRef s = leaf; s; s = s.parent()) {
      if (s.Get<FmtFields>() != nullptr) chain.push_back(s);
    }
    if (chain.empty()) return;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      if (ansi_) out += "\x1b[1m";
      out.append(it->metadata().name);
      if (ansi_) out += "\x1b[0m";
      auto* data = it->Get<FmtFields>();
      std::lock_guard<std::mutex> lock(data->mu);
      if (!data->text.empty()) {
        out.push_back('{');
        out += data->text;
        out.push_back('}');
      }
      out.push_back(':');
    }
    out.push_back(' ');
  }

  FmtLayerOptions options_;
  bool ansi_ = false;
};

}  // namespace

std::shared_ptr<Layer> MakeFmtLayer(FmtLayerOptions options) {
  return std::make_shared<FmtLayer>(options);
}

}  // namespace vllora
