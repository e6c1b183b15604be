// The callsite registry and the global subscriber.
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "vllora/core/metadata.h"
#include "vllora/core/span.h"
#include "vllora/core/subscriber.h"

namespace vllora {
namespace internal {

std::atomic<Subscriber*> g_subscriber{nullptr};

namespace {

// Recursive: a subscriber's RegisterCallsite may itself hit an unregistered callsite.
std::recursive_mutex& RegistryMutex() {
  static std::recursive_mutex mu;
  return mu;
}

Callsite* g_callsites = nullptr;  // guarded by RegistryMutex()

Interest ComputeInterest(Callsite& cs, Subscriber* subscriber) noexcept {
  if (subscriber == nullptr) return Interest::kNever;
  Interest interest = subscriber->RegisterCallsite(cs);
  return interest == Interest::kUnknown ? Interest::kSometimes : interest;
}

// Subscribers ever installed stay alive until exit: spans they created may outlive their reign.
std::vector<std::shared_ptr<Subscriber>>& Installed() {
  static auto* installed = new std::vector<std::shared_ptr<Subscriber>>();
  return *installed;
}

}  // namespace

Interest RegisterCallsite(Callsite& cs) noexcept {
  std::lock_guard<std::recursive_mutex> lock(RegistryMutex());
  uint8_t current = cs.interest.load(std::memory_order_acquire);
  if (current != static_cast<uint8_t>(Interest::kUnknown)) return static_cast<Interest>(current);
  cs.next = g_callsites;
  g_callsites = &cs;
  Interest interest = ComputeInterest(cs, g_subscriber.load(std::memory_order_acquire));
  cs.interest.store(static_cast<uint8_t>(interest), std::memory_order_release);
  return interest;
}

Callsite& InternCallsite(Level level, std::string_view target, std::string_view name,
                         CallsiteKind kind) noexcept {
  struct Interned {
    std::string target;
    std::string name;
    Callsite callsite;
    Interned(Level l, std::string_view t, std::string_view n, CallsiteKind k)
        : target(t), name(n), callsite(Metadata{name, target, l, k, "<dynamic>", 0}) {}
  };
  static std::mutex mu;
  static auto* table = new std::unordered_map<std::string, std::unique_ptr<Interned>>();
  std::string key;
  key.reserve(target.size() + name.size() + 4);
  key.push_back(static_cast<char>('0' + static_cast<int>(level)));
  key.push_back(kind == CallsiteKind::kSpan ? 's' : 'e');
  key.append(target);
  key.push_back('\0');
  key.append(name);
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = (*table)[key];
  if (!slot) slot = std::make_unique<Interned>(level, target, name, kind);
  return slot->callsite;
}

}  // namespace internal

void RebuildInterest() noexcept {
  std::lock_guard<std::recursive_mutex> lock(internal::RegistryMutex());
  Subscriber* subscriber = internal::g_subscriber.load(std::memory_order_acquire);
  for (Callsite* cs = internal::g_callsites; cs != nullptr; cs = cs->next) {
    Interest interest = internal::ComputeInterest(*cs, subscriber);
    cs->interest.store(static_cast<uint8_t>(interest), std::memory_order_release);
  }
}

void SetGlobalSubscriber(std::shared_ptr<Subscriber> subscriber) noexcept {
  {
    std::lock_guard<std::recursive_mutex> lock(internal::RegistryMutex());
    Subscriber* raw = subscriber.get();
    if (subscriber) internal::Installed().push_back(std::move(subscriber));
    internal::g_subscriber.store(raw, std::memory_order_release);
  }
  RebuildInterest();
}

Subscriber* GlobalSubscriber() noexcept {
  return internal::g_subscriber.load(std::memory_order_acquire);
}

}  // namespace vllora
