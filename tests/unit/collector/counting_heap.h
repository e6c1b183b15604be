// The collector unit tests' heap, counted (counting_heap.cc replaces the global operator new
// and delete of the test program): the bytes live now and the most live since ResetPeak(), so a
// test can bound what an operation holds at its peak.
#pragma once

#include <atomic>
#include <cstddef>

namespace vllora::testing::heap {

/// Bytes allocated with operator new and not yet freed.
extern std::atomic<size_t> live;
/// The most `live` has been since the last ResetPeak().
extern std::atomic<size_t> peak;
/// Starts a new peak at what is live now.
void ResetPeak() noexcept;

}  // namespace vllora::testing::heap
