// A layer that records what it sees as readable strings, so tests read like specs.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "vllora/subscriber/layer.h"
#include "vllora/subscriber/registry.h"

namespace vllora::testing {

inline std::string RenderFields(FieldSpan fields) {
  std::string out;
  for (const Field& f : fields) {
    if (!out.empty()) out += ",";
    out += std::string(f.key) + "=" + f.value.ToString();
  }
  return out;
}

class RecordingLayer : public Layer {
 public:
  void OnNewSpan(SpanRef span, FieldSpan fields) noexcept override {
    SpanRef parent = span.parent();
    Add("new " + std::string(span.metadata().name) + "{" + RenderFields(fields) +
        "} parent=" + (parent ? std::string(parent.metadata().name) : "-"));
  }
  void OnRecord(SpanRef span, FieldSpan fields) noexcept override {
    Add("record " + std::string(span.metadata().name) + "{" + RenderFields(fields) + "}");
  }
  void OnEnter(SpanRef span) noexcept override {
    Add("enter " + std::string(span.metadata().name));
  }
  void OnExit(SpanRef span) noexcept override { Add("exit " + std::string(span.metadata().name)); }
  void OnClose(SpanRef span) noexcept override {
    Add("close " + std::string(span.metadata().name));
  }
  void OnEvent(const EventData& event) noexcept override {
    Add("event " + std::string(ToString(event.metadata.level)) + " " +
        std::string(event.metadata.target) + " '" + std::string(event.message) + "'{" +
        RenderFields(event.fields) +
        "} in=" + (event.parent ? std::string(event.parent.metadata().name) : "-"));
  }

  std::vector<std::string> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(log_);
  }
  std::vector<std::string> Filter(std::string_view prefix) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& line : log_) {
      if (line.rfind(prefix, 0) == 0) out.push_back(line);
    }
    return out;
  }

 private:
  void Add(std::string line) {
    std::lock_guard<std::mutex> lock(mu_);
    log_.push_back(std::move(line));
  }
  std::mutex mu_;
  std::vector<std::string> log_;
};

/// Installs a fresh registry with one recording layer (optionally filtered).
inline std::shared_ptr<RecordingLayer> InstallRecording(
    std::shared_ptr<const vllora::Filter> filter = nullptr) {
  auto layer = std::make_shared<RecordingLayer>();
  auto registry = Registry::Create();
  registry->With(layer, std::move(filter));
  SetGlobalSubscriber(registry);
  return layer;
}

}  // namespace vllora::testing
