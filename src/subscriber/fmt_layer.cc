#include "vllora/subscriber/fmt_layer.h"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
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

// Writes `value` as exactly `digits` decimal digits (zero-padded) at `out`.
void WriteDigits(char* out, uint64_t value, int digits) noexcept {
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// "ThreadId(NN) " for this thread, rendered once per thread.
std::string_view ThreadIdPrefix() noexcept {
  struct Prefix {
    char text[32];
    size_t size;
  };
  thread_local const Prefix prefix = [] {
    Prefix p{};
    const int n = std::snprintf(p.text, sizeof(p.text), "ThreadId(%02d) ", ThisThreadNumber());
    p.size = n > 0 ? static_cast<size_t>(n) : 0;
    return p;
  }();
  return {prefix.text, prefix.size};
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

// "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" (UTC). The date and time of day are formatted once per second
// per thread; the microseconds are written digit by digit (strftime and snprintf per line cost
// more than the rest of the line).
void AppendTimestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch());
  const int64_t count = micros.count();
  const int64_t secs = count >= 0 ? count / 1000000 : (count - 999999) / 1000000;
  const auto sub = static_cast<uint64_t>(count - secs * 1000000);
  struct Cached {
    int64_t secs = INT64_MIN;
    char text[20];  // YYYY-MM-DDTHH:MM:SS
  };
  thread_local Cached cached;
  if (cached.secs != secs) {
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    if (std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) != sizeof(cached.text) - 1) {
      // A year beyond four digits: no cache, the slow form.
      out.append(buf);
      char tail[16];
      std::snprintf(tail, sizeof(tail), ".%06lluZ", static_cast<unsigned long long>(sub));
      out.append(tail);
      return;
    }
    std::memcpy(cached.text, buf, sizeof(cached.text));
    cached.secs = secs;
  }
  char text[sizeof(cached.text) - 1 + 8];  // date-time, '.', 6 digits, 'Z'
  std::memcpy(text, cached.text, sizeof(cached.text) - 1);
  char* tail = text + sizeof(cached.text) - 1;
  tail[0] = '.';
  WriteDigits(tail + 1, sub, 6);
  tail[7] = 'Z';
  out.append(text, sizeof(text));
}

std::string_view BaseNameOf(std::string_view path) {
  // Keep the path from the last "src/", "examples/" or "tests/" if any, else the file name.
  for (std::string_view marker : {"examples/", "src/", "tests/", "include/"}) {
    size_t pos = path.rfind(marker);
    if (pos != std::string_view::npos) return path.substr(pos);
  }
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// BaseNameOf(file), remembered per file pointer in a small per-thread table. `file` belongs to
// a callsite's Metadata, which is static or interned for ever, so a pointer always names the
// same text; the same few pointers repeat, and the searches were the most expensive step of a
// line.
std::string_view BaseName(const char* file) {
  if (file == nullptr) return {};
  struct Entry {
    const char* file = nullptr;
    std::string_view base;
  };
  constexpr size_t kEntries = 16;
  thread_local Entry table[kEntries];
  Entry& entry = table[(reinterpret_cast<uintptr_t>(file) >> 4) % kEntries];
  if (entry.file != file) {
    entry.base = BaseNameOf(file);
    entry.file = file;
  }
  return entry.base;
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
      // One buffer per thread, reused line after line (no allocation per line); a buffer that
      // grew past 64 KiB for a huge line is given back afterwards.
      thread_local std::string line;
      line.clear();
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
      if (options_.with_thread_ids) line.append(ThreadIdPrefix());
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
          char digits[16];
          const auto end = std::to_chars(digits, digits + sizeof(digits), event.metadata.line).ptr;
          line.push_back(':');
          line.append(digits, static_cast<size_t>(end - digits));
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
      if (line.capacity() > 65536) std::string().swap(line);
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
